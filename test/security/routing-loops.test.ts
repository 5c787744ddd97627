/**
 * No loop in the routing takes its bound from the message (eslint.config.js,
 * no-restricted-syntax on src/routing): a packet must not be able to make
 * the routing do more than a fixed amount of work. The only loop allowed is a
 * counted `for` over an UPPER_CASE module constant (SCANNER_AGENTS). The
 * routing has no recursion either: its calls go one way, request.ts down to
 * relay.ts (read in review, nothing for a linter to check).
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** Lints `code` as if it were a file of src/routing, with the project's config. */
async function lintAsRouting(code: string): Promise<string[]> {
  const [result] = await new ESLint().lintText(code, { filePath: 'src/routing/reqinit.ts' });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${m.line}`);
}

const HEADER = "import * as kx from '../ksr/generated/kx';\nconst LIMITS = [1, 2];\nexport function f(): number {\n  const ua = String(kx.get_ua());\n  let n = 0;\n";

describe('routing loops are bounded by constants', () => {
  it('lints src/routing clean', async () => {
    const results = await new ESLint().lintFiles(['src/routing']);
    expect(results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${r.filePath}:${m.line}`))).toEqual([]);
  }, 60_000);

  it.each([
    ['while over the message', 'while (n < ua.length) n++;'],
    ['do-while', 'do { n++; } while (n < ua.length);'],
    ['for over the message', 'for (let i = 0; i < ua.length; i++) n++;'],
    ['for with a literal bound taken from the message', 'for (let i = 0; i < Number(ua); i++) n++;'],
    ['for-of', 'for (const c of ua.split(",")) n += c.length;'],
    ['for-in', 'for (const k in { a: ua }) n += k.length;'],
    ['forEach over a split header', 'ua.split(",").forEach(() => n++);'],
    ['some over a split header', 'ua.split(",").some((x) => x === "a");'],
  ])('refuses %s', async (_name, loop) => {
    expect(await lintAsRouting(`${HEADER}  ${loop}\n  return n;\n}\n`)).toEqual(['6']);
  }, 60_000);

  it('allows the counted for over a module constant, and iteration methods on one', async () => {
    const ok = `${HEADER}  for (let i = 0; i < LIMITS.length; i++) n += ua.indexOf(String(LIMITS[i]));\n  LIMITS.forEach((l) => { n += l; });\n  return n;\n}\n`;
    expect(await lintAsRouting(ok)).toEqual([]);
  }, 60_000);
});
