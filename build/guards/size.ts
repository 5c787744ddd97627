/**
 * Kamailio 5.6 to 6.0 read the app_jsdt script into a fixed buffer of
 * JSDT_SCRIPT_MAX_SIZE = 128*1024 bytes and silently drop the rest, so a
 * larger bundle loads cut in the middle (research/kemi-reference.md §4.2).
 */
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

export const JSDT_SCRIPT_MAX_SIZE = 128 * 1024;

const LARGEST_SOURCES_SHOWN = 3;

export function checkSize(bundle: BundleUnderCheck): GuardRefusal[] {
  const bytes = Buffer.byteLength(bundle.code, 'utf8');
  if (bytes <= JSDT_SCRIPT_MAX_SIZE) return [];
  const largest = [...bundle.locator.bytesBySource(bundle.code)]
    .sort((a, b) => b[1] - a[1])
    .slice(0, LARGEST_SOURCES_SHOWN)
    .map(([file, size]) => `${file} ${formatKiB(size)}`);
  return [
    new GuardRefusal(
      'size',
      `${bundle.fileName} is ${bytes} bytes (${formatKiB(bytes)}), over the ${JSDT_SCRIPT_MAX_SIZE}-byte (128 KiB) ` +
        'limit: Kamailio 5.6-6.0 reads at most JSDT_SCRIPT_MAX_SIZE bytes of the script and silently truncates the rest.' +
        (largest.length > 0 ? ` Largest sources: ${largest.join(', ')}` : ''),
    ),
  ];
}

export function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
