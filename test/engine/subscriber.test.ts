/**
 * `npm run subscriber`: kamctl-style rows in Kamailio's standard subscriber
 * table, against a temp sqlite file (and the database helper behind it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDatabase, sqlitePath } from '../../scripts/lib/db.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { main } from '../../scripts/subscriber.ts';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sql = (path: string, query: string): string => execFileSync('sqlite3', ['-json', path, query], { encoding: 'utf8' });

let dir: string;
let dbPath: string;
let env: Record<string, string>;

/** Runs the CLI in-process; returns exit code and what it printed. */
function cli(...args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, env, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ksr-subscriber-'));
  dbPath = join(dir, 'db', 'kamailio.sqlite');
  env = { DB_URL: `sqlite://${dbPath}`, SIP_DOMAIN: 'example.test' };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run subscriber -- add', () => {
  it('creates the database with the schema and writes a kamctl-style row', () => {
    expect(cli('add', 'alice', 'secret')).toEqual({ code: 0, out: ['added alice@example.test'], err: [] });
    const rows = JSON.parse(sql(dbPath, 'SELECT username, domain, password, ha1, ha1b FROM subscriber')) as unknown[];
    expect(rows).toEqual([
      {
        username: 'alice',
        domain: 'example.test',
        password: 'secret',
        ha1: md5('alice:example.test:secret'),
        ha1b: md5('alice@example.test:example.test:secret'),
      },
    ]);
  });

  it('refuses a duplicate user and leaves the existing row alone', () => {
    cli('add', 'alice', 'secret');
    const again = cli('add', 'alice', 'other');
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/alice@example\.test already exists/);
    expect(JSON.parse(sql(dbPath, 'SELECT password FROM subscriber'))).toEqual([{ password: 'secret' }]);
  });

  it('keeps a password with quotes intact (no SQL injection)', () => {
    expect(cli('add', 'bob', "it's'); DROP TABLE subscriber; --").code).toBe(0);
    expect(JSON.parse(sql(dbPath, "SELECT password FROM subscriber WHERE username='bob'"))).toEqual([
      { password: "it's'); DROP TABLE subscriber; --" },
    ]);
  });

  it('refuses users that are not a SIP user part, and empty passwords', () => {
    for (const user of ['a b', 'alice@example.test', 'x:y', '']) {
      const r = cli('add', user, 'secret');
      expect(r.code, user).toBe(1);
      expect(r.err.join('\n')).toMatch(/invalid user/);
    }
    expect(cli('add', 'carol', '').err.join('\n')).toMatch(/invalid password/);
  });

  it('uses PUBLIC_IP as the realm when SIP_DOMAIN is unset, as kamailio.cfg does', () => {
    env = { DB_URL: env['DB_URL']!, PUBLIC_IP: '192.0.2.10' };
    expect(cli('add', 'alice', 'secret').out).toEqual(['added alice@192.0.2.10']);
    expect(JSON.parse(sql(dbPath, 'SELECT domain, ha1 FROM subscriber'))).toEqual([
      { domain: '192.0.2.10', ha1: md5('alice:192.0.2.10:secret') },
    ]);
  });
});

describe('npm run subscriber -- rm / list', () => {
  it('lists user@domain and removes a user', () => {
    cli('add', 'bob', 'b');
    cli('add', 'alice', 'a');
    expect(cli('list').out).toEqual(['alice@example.test', 'bob@example.test']);
    expect(cli('rm', 'alice')).toEqual({ code: 0, out: ['removed alice@example.test'], err: [] });
    expect(cli('list').out).toEqual(['bob@example.test']);
  });

  it('reports an unknown user', () => {
    const r = cli('rm', 'nobody');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/no subscriber nobody@example\.test/);
  });

  it('lists nothing on a fresh database', () => {
    expect(cli('list')).toEqual({ code: 0, out: [], err: [] });
  });
});

describe('npm run subscriber usage and errors', () => {
  it('prints the usage with exit code 2 for a missing or unknown command', () => {
    for (const args of [[], ['frobnicate'], ['add', 'alice'], ['rm'], ['list', 'x']]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.join('\n')).toMatch(/^usage: npm run subscriber -- <command>/);
    }
  });

  it('says which database URLs it supports', () => {
    env = { DB_URL: 'mysql://kamailio:pw@db/kamailio' };
    const r = cli('list');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/scheme "mysql" is not supported.*sqlite:\/\/\/absolute/);
    env = { DB_URL: 'sqlite://relative.sqlite' };
    expect(cli('list').err.join('\n')).toMatch(/must name an absolute path/);
  });

  it('works as `npm run subscriber` from the shell, with exit codes', () => {
    const run = (...args: string[]) =>
      spawnSync('npm', ['run', '--silent', 'subscriber', '--', ...args], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    const add = run('add', 'alice', 'secret');
    expect([add.status, add.stdout.trim()]).toEqual([0, 'added alice@example.test']);
    const dup = run('add', 'alice', 'secret');
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
  }, 30_000);
});

describe('ensureDatabase', () => {
  it('completes the empty file db_sqlite leaves behind when the database was missing', () => {
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    expect(ensureDatabase(`sqlite://${empty}`)).toEqual({ path: empty, created: false });
    const versions = JSON.parse(sql(empty, 'SELECT table_name, table_version FROM version ORDER BY id')) as unknown[];
    expect(versions).toEqual([
      { table_name: 'version', table_version: 1 },
      { table_name: 'subscriber', table_version: 7 },
      { table_name: 'location', table_version: 9 },
      { table_name: 'location_attrs', table_version: 1 },
    ]);
  });

  it('is idempotent and keeps the data', () => {
    const url = `sqlite://${dbPath}`;
    expect(ensureDatabase(url).created).toBe(true);
    cli('add', 'alice', 'secret');
    const size = statSync(dbPath).size;
    expect(ensureDatabase(url).created).toBe(false);
    expect(statSync(dbPath).size).toBe(size);
    expect(JSON.parse(sql(dbPath, 'SELECT COUNT(*) AS n FROM subscriber'))).toEqual([{ n: 1 }]);
  });

  it('maps sqlite URLs to paths', () => {
    expect(sqlitePath('sqlite:///var/lib/kamailio/k.sqlite')).toBe('/var/lib/kamailio/k.sqlite');
    expect(() => sqlitePath('postgres://u@h/db')).toThrow(/scheme "postgres" is not supported/);
    expect(() => sqlitePath('/just/a/path')).toThrow(/not a database URL/);
  });
});
