/**
 * Manage SIP subscribers, like `kamctl add/rm`:
 *
 *   npm run subscriber -- add <user> <password>
 *   npm run subscriber -- rm <user>
 *   npm run subscriber -- list
 *
 * Rows go to Kamailio's standard `subscriber` table in DB_URL (default: the
 * sqlite file in RUN_DIR, created with its schema when missing), with
 * realm/domain = SIP_DOMAIN (default: PUBLIC_IP), the plain `password`, and
 * the precomputed digests auth_db checks (calculate_ha1 = 0):
 *   ha1  = md5(user:realm:password)
 *   ha1b = md5(user@realm:realm:password)   (phones sending "user@domain")
 * Kamailio reads the table on every authentication: no reload needed.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ensureDatabase, runSql } from './lib/db.ts';
import { resolveDeployment } from './lib/env.ts';

const USAGE = `usage: npm run subscriber -- <command>
  add <user> <password>   create a subscriber in realm SIP_DOMAIN
  rm <user>               delete a subscriber
  list                    show all subscribers (user@domain)
Environment: DB_URL (default sqlite in RUN_DIR), SIP_DOMAIN (default PUBLIC_IP).`;

export interface Subscriber {
  username: string;
  domain: string;
}

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

export function digests(user: string, realm: string, password: string): { ha1: string; ha1b: string } {
  return { ha1: md5(`${user}:${realm}:${password}`), ha1b: md5(`${user}@${realm}:${realm}:${password}`) };
}

/** A SQL string literal (sqlite has no backslash escapes: only ' needs doubling). */
const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

export class UsageError extends Error {}

function checkUser(user: string): void {
  // The SIP user part of sip:user@domain, as phones send it in the digest
  // username. '@' would make ha1b ambiguous; spaces and ':' break the digest.
  if (!/^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/.test(user)) {
    throw new UsageError(
      `invalid user "${user}": 1-64 characters of a SIP user part (letters, digits, - _ . ! ~ * ' ( ) & = + $ , ; ? / %)`,
    );
  }
}

function checkPassword(password: string): void {
  if (password.length < 1 || password.length > 64 || /[\u0000-\u001f\u007f]/.test(password)) {
    throw new UsageError('invalid password: 1-64 characters, no control characters');
  }
}

function exists(path: string, user: string, realm: string): boolean {
  const out = runSql(path, `SELECT COUNT(*) FROM subscriber WHERE username=${lit(user)} AND domain=${lit(realm)};`);
  return out.trim() !== '0';
}

export function addSubscriber(dbUrl: string, realm: string, user: string, password: string): void {
  checkUser(user);
  checkPassword(password);
  const { path } = ensureDatabase(dbUrl);
  if (exists(path, user, realm)) throw new UsageError(`subscriber ${user}@${realm} already exists`);
  const { ha1, ha1b } = digests(user, realm, password);
  runSql(
    path,
    `INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ` +
      `(${lit(user)}, ${lit(realm)}, ${lit(password)}, ${lit(ha1)}, ${lit(ha1b)});`,
  );
}

export function removeSubscriber(dbUrl: string, realm: string, user: string): void {
  checkUser(user);
  const { path } = ensureDatabase(dbUrl);
  if (!exists(path, user, realm)) throw new UsageError(`no subscriber ${user}@${realm}`);
  runSql(path, `DELETE FROM subscriber WHERE username=${lit(user)} AND domain=${lit(realm)};`);
}

export function listSubscribers(dbUrl: string): Subscriber[] {
  const { path } = ensureDatabase(dbUrl);
  const out = runSql(path, 'SELECT username, domain FROM subscriber ORDER BY domain, username;', ['-json']);
  return out.trim() === '' ? [] : (JSON.parse(out) as Subscriber[]);
}

/** The CLI, callable in-process (tests): returns the exit code. */
export function main(
  args: readonly string[],
  env: Record<string, string | undefined> = process.env,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): number {
  const [command, ...rest] = args;
  try {
    const dep = resolveDeployment(env);
    if (command === 'add' && rest.length === 2) {
      const [user, password] = rest as [string, string];
      addSubscriber(dep.DB_URL, dep.SIP_DOMAIN, user, password);
      out(`added ${user}@${dep.SIP_DOMAIN}`);
      return 0;
    }
    if (command === 'rm' && rest.length === 1) {
      const [user] = rest as [string];
      removeSubscriber(dep.DB_URL, dep.SIP_DOMAIN, user);
      out(`removed ${user}@${dep.SIP_DOMAIN}`);
      return 0;
    }
    if (command === 'list' && rest.length === 0) {
      for (const s of listSubscribers(dep.DB_URL)) out(`${s.username}@${s.domain}`);
      return 0;
    }
    err(USAGE);
    return 2;
  } catch (e) {
    err(`subscriber: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
