/**
 * Dispatcher list file (`setid destination [flags [priority [attrs]]]`,
 * dispatcher module doc "list_file"). Destinations are kept as written; the
 * dispatcher mock derives ip/port/proto the way dispatch.c add_dest2list does.
 */
import { readFileSync } from 'node:fs';

export interface DispatcherEntry {
  setid: number;
  uri: string;
  flags: number;
  priority: number;
  /** Raw attrs string, e.g. `weight=50;socket=udp:10.0.0.1:5070`. */
  attrs: string;
}

export function parseDispatcherList(text: string): DispatcherEntry[] {
  const out: DispatcherEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [setid, uri, flags = '0', priority = '0', ...attrs] = line.split(/\s+/);
    if (setid === undefined || uri === undefined || !/^\d+$/.test(setid)) {
      throw new Error(`mock dispatcher list line ${i + 1}: cannot parse "${raw}"`);
    }
    out.push({ setid: Number(setid), uri, flags: Number(flags), priority: Number(priority), attrs: attrs.join(' ') });
  });
  return out;
}

export function loadDispatcherList(source: string | { file: string }): DispatcherEntry[] {
  return parseDispatcherList(typeof source === 'string' ? source : readFileSync(source.file, 'utf8'));
}
