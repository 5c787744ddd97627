/**
 * Identity of the running bundle. build/build.ts replaces the placeholder with
 * a hash of the bundle's content, so Kamailio can report which build each
 * worker runs (see README, "Build id").
 */
declare const __KSR_BUILD_ID__: string;

export const BUILD_ID: string = typeof __KSR_BUILD_ID__ === 'string' ? __KSR_BUILD_ID__ : 'dev';
