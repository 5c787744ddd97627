/**
 * The typed KSR facade routing code uses instead of touching the KSR global.
 * Each KEMI module is its own generated file, imported as a namespace:
 *   import * as tm from '../ksr/generated/tm';
 * (a namespace import lets esbuild keep only the wrappers the routing calls;
 * a re-exported namespace object would drag in all ~600). Int statuses come
 * back as booleans, codes as typed unions; see build/typegen/overlay.ts.
 * This file adds what is not generated: exit/drop and callback names.
 */
export { exit, drop, isExitSignal, EXIT_MARKER } from './exit';
export { kemiCallback, type KemiCallback, type CallbackRoute } from './callback';
export type { KemiValue } from './value';
