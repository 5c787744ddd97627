import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: {
    // The bundle gets a content hash here (build/build.ts); unit tests run the sources.
    __KSR_BUILD_ID__: JSON.stringify('test'),
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/fast-check.ts'],
    // Engine tests start real Kamailio/rtpengine processes on fixed ports: never in parallel.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      // The routing is pure decisions over the facade: every branch must be
      // exercised by a scenario, so an untested branch fails CI.
      include: ['src/routing/**/*.ts', 'src/rtpengine/**/*.ts', 'src/ksr/entry.ts', 'src/ksr/line-table.ts', 'src/ksr/exit.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { branches: 100, functions: 100, lines: 100, statements: 100 },
    },
  },
});
