/**
 * The two bundle slots next to the file Kamailio loads (KEMI_BUNDLE):
 *
 *   <dir>/kamailio.js  .map  build-info.json            current: what app_jsdt reads
 *   <dir>/previous/kamailio.js  .map  build-info.json   what `npm run rollback` puts back
 *
 * Every file is written to a temp file in its own directory and renamed over
 * the old one (write-atomic.ts), so Kamailio never reads a half-written
 * bundle; the map goes first, so a bundle never points at a map that is not
 * there yet. A lock file next to the bundle keeps two reloads (the npm start
 * watcher and a manual `npm run reload`) from interleaving.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { BuildInfo } from '../bundle/pipeline.ts';
import { writeFileAtomic } from '../bundle/write-atomic.ts';

export interface BundleSlot {
  readonly bundle: string;
  readonly map: string;
  readonly info: string;
}

/** A bundle with its map and build info, in memory. */
export interface BundleFiles {
  readonly code: string;
  /** Source map JSON; `sources` are relative to mapDir. */
  readonly map: string;
  readonly mapDir: string;
  readonly info: BuildInfo;
}

export function slotsFor(bundlePath: string): { current: BundleSlot; previous: BundleSlot } {
  const dir = dirname(bundlePath);
  const name = basename(bundlePath);
  const slot = (d: string): BundleSlot => ({ bundle: join(d, name), map: join(d, `${name}.map`), info: join(d, 'build-info.json') });
  return { current: slot(dir), previous: slot(join(dir, 'previous')) };
}

export function readBuildInfo(slot: BundleSlot): BuildInfo | undefined {
  try {
    return JSON.parse(readFileSync(slot.info, 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** The slot's files, or undefined when its bundle or build info is missing. */
export function readSlot(slot: BundleSlot): BundleFiles | undefined {
  const info = readBuildInfo(slot);
  if (!info || !existsSync(slot.bundle)) return undefined;
  return {
    code: readFileSync(slot.bundle, 'utf8'),
    map: existsSync(slot.map) ? readFileSync(slot.map, 'utf8') : '{"version":3,"sources":[],"names":[],"mappings":""}',
    mapDir: dirname(slot.map),
    info,
  };
}

/** Writes a bundle into a slot: map, bundle, build info, each atomically. */
export function installInto(files: BundleFiles, slot: BundleSlot): void {
  writeFileAtomic(slot.map, rebaseMap(files.map, files.mapDir, dirname(slot.map)));
  writeFileAtomic(slot.bundle, files.code);
  writeFileAtomic(slot.info, `${JSON.stringify(files.info, null, 2)}\n`);
}

/** Map `sources` are relative to the map's directory: keep them pointing at the same files from the new one. */
export function rebaseMap(mapText: string, fromDir: string, toDir: string): string {
  if (resolve(fromDir) === resolve(toDir)) return mapText;
  const map = JSON.parse(mapText) as { sources?: string[]; sourceRoot?: string };
  if (!map.sources) return mapText;
  const root = resolve(fromDir, map.sourceRoot ?? '');
  map.sources = map.sources.map((source) => relative(toDir, resolve(root, source)).split(sep).join('/'));
  delete map.sourceRoot;
  return JSON.stringify(map);
}

export class ReloadBusy extends Error {}

/**
 * Takes the reload lock next to the bundle; returns its release. A lock left
 * by a process that no longer exists is taken over.
 */
export function lockReload(bundlePath: string): () => void {
  const dir = dirname(bundlePath);
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.reload.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new ReloadBusy(`another reload or rollback (pid ${holder}) is installing into ${dir}; try again when it is done`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new ReloadBusy(`could not take the reload lock ${lock}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
