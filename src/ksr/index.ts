/**
 * The typed KSR facade routing code imports instead of touching the KSR
 * global: one namespace per KEMI module (generated, see build/typegen), plus
 * exit/drop and callback names. Int statuses come back as booleans, codes as
 * typed unions; see build/typegen/overlay.ts.
 */
export * from './generated/index';
export { exit, drop, isExitSignal, EXIT_MARKER } from './exit';
export { kemiCallback, type KemiCallback, type CallbackRoute } from './callback';
export type { KemiValue } from './value';
