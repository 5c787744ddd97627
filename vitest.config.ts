import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: {
    // The bundle gets a content hash here (build/build.ts); unit tests run the sources.
    __KSR_BUILD_ID__: JSON.stringify('test'),
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Engine tests start real Kamailio/rtpengine processes on fixed ports: never in parallel.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
