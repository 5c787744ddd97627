/**
 * The facade's promises, checked the way a user would break them: the
 * fixtures in test/fixtures/types are type-checked with the project's
 * tsconfig (Duktape's ES5 lib) and linted with the project's rules.
 */
import { execFileSync } from 'node:child_process';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = 'test/fixtures/types';
let typeErrors: string[] = [];

beforeAll(() => {
  try {
    execFileSync('npx', ['tsc', '-p', `${FIXTURES}/tsconfig.json`, '--noEmit', '--pretty', 'false'], { encoding: 'utf8' });
  } catch (failure) {
    typeErrors = String((failure as { stdout: string }).stdout).split('\n').filter((l) => l.includes(FIXTURES));
  }
}, 60_000);

function errorsIn(file: string): string[] {
  return typeErrors.filter((line) => line.startsWith(`${FIXTURES}/${file}(`));
}

async function lintMessages(file: string): Promise<string[]> {
  const [result] = await new ESLint().lintFiles([`${FIXTURES}/${file}`]);
  return result!.messages.map((m) => `${m.line}: ${m.ruleId}`);
}

describe('typed KSR facade', () => {
  it('makes the has_totag bug of the official example unwritable: routing cannot reach the raw KSR global', () => {
    expect(errorsIn('raw-ksr-has-totag.ts').join('\n')).toContain("TS2304: Cannot find name 'KSR'");
  });

  it('returns a boolean from has_totag(), not the raw -1/1 int', () => {
    expect(errorsIn('facade-has-totag-as-number.ts').join('\n')).toContain("Type 'boolean' is not assignable to type 'number'");
  });

  it('refuses a free string as a t_on_failure callback name', () => {
    expect(errorsIn('free-string-callback.ts').join('\n')).toContain("not assignable to parameter of type 'KemiCallback<\"failure\">'");
  });

  it('refuses a callback name that is not a ksr_* export of src/main.ts', () => {
    expect(errorsIn('misspelled-callback.ts').join('\n')).toContain('"ksr_failur_manage"');
  });

  it('lints a result code (lookup -1/-2/-3) used as a truth value', async () => {
    expect(await lintMessages('lookup-code-as-condition.ts')).toEqual(['6: @typescript-eslint/strict-boolean-expressions']);
  });

  it('accepts the same logic written with booleans, explicit code comparisons and typed callbacks', async () => {
    expect(errorsIn('correct-usage.ts')).toEqual([]);
    expect(await lintMessages('correct-usage.ts')).toEqual([]);
  });
});
