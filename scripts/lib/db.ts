/**
 * The sqlite database Kamailio uses for subscribers (auth_db) and
 * registrations (usrloc), with Kamailio's own schema scripts.
 *
 * Why this exists: when the file is missing, db_sqlite creates an EMPTY file
 * and usrloc's `preload` then stops Kamailio at start ("no such table:
 * version"). So the schema must be in place before Kamailio starts.
 *
 * Run as a script:  tsx scripts/lib/db.ts ensure [DB_URL]   (default: $DB_URL)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where Debian's kamailio-sqlite-modules installs the schema scripts. */
export const SCHEMA_DIR = '/usr/share/kamailio/db_sqlite';

/**
 * The schema scripts the loaded modules need, in order: `standard` creates the
 * `version` table every module checks its table version in.
 */
export const SCHEMA_SCRIPTS = ['standard', 'auth_db', 'usrloc'] as const;

/** `sqlite:///abs/path.sqlite` -> `/abs/path.sqlite`; anything else is refused with the reason. */
export function sqlitePath(dbUrl: string): string {
  const match = /^sqlite:\/\/(.*)$/.exec(dbUrl);
  if (!match || match[1] === undefined) {
    const scheme = /^([a-z0-9+]+):/i.exec(dbUrl)?.[1];
    throw new Error(
      scheme === undefined
        ? `DB_URL "${dbUrl}" is not a database URL (expected sqlite:///absolute/path.sqlite)`
        : `DB_URL scheme "${scheme}" is not supported here: only sqlite:///absolute/path.sqlite. ` +
            `For ${scheme}, create Kamailio's schema with kamdbctl and manage subscribers with kamctl.`,
    );
  }
  const path = match[1];
  if (!isAbsolute(path)) {
    // Kamailio runs with "/" as its working directory, so a relative path
    // would name a different file there than here.
    throw new Error(`DB_URL "${dbUrl}" must name an absolute path (sqlite:///absolute/path.sqlite)`);
  }
  return path;
}

/**
 * The schema scripts, made idempotent: every table, index and version row is
 * created only if missing. Applying it to a complete database changes nothing,
 * and a half-initialised one (e.g. the empty file db_sqlite leaves behind) is
 * completed; two processes racing to create the same file both succeed.
 */
export function idempotentSchema(schemaDir: string = SCHEMA_DIR): string {
  const parts = SCHEMA_SCRIPTS.map((name) => {
    const file = `${schemaDir}/${name}-create.sql`;
    if (!existsSync(file)) {
      throw new Error(`Kamailio schema script ${file} is missing (Debian package kamailio-sqlite-modules)`);
    }
    return readFileSync(file, 'utf8')
      .replace(/\bCREATE TABLE (?!IF NOT EXISTS)/g, 'CREATE TABLE IF NOT EXISTS ')
      .replace(/\bCREATE (UNIQUE )?INDEX (?!IF NOT EXISTS)/g, 'CREATE $1INDEX IF NOT EXISTS ')
      .replace(/\bINSERT INTO version\b/g, 'INSERT OR IGNORE INTO version');
  });
  return ['BEGIN IMMEDIATE;', ...parts, 'COMMIT;', ''].join('\n');
}

/** Runs SQL through the sqlite3 CLI; returns its standard output. */
export function runSql(path: string, sql: string, args: readonly string[] = []): string {
  try {
    return execFileSync('sqlite3', ['-bail', '-cmd', '.timeout 5000', ...args, path], {
      input: sql,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the sqlite3 command is missing (Debian package sqlite3)');
    throw new Error(`sqlite3 ${path}: ${(e.stderr ?? e.message).trim()}`);
  }
}

export interface EnsuredDatabase {
  path: string;
  /** True when the file did not exist before. */
  created: boolean;
}

/**
 * Makes sure the database behind `dbUrl` exists with the schema Kamailio needs
 * (creating the directory and the file when missing). Safe to call every time.
 */
export function ensureDatabase(dbUrl: string, schemaDir: string = SCHEMA_DIR): EnsuredDatabase {
  const path = sqlitePath(dbUrl);
  const created = !existsSync(path);
  mkdirSync(dirname(path), { recursive: true });
  runSql(path, idempotentSchema(schemaDir));
  return { path, created };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, url = process.env['DB_URL']] = process.argv.slice(2);
  if (command !== 'ensure' || url === undefined || url === '') {
    process.stderr.write('usage: tsx scripts/lib/db.ts ensure [DB_URL]   (default: $DB_URL)\n');
    process.exit(2);
  }
  try {
    const { path, created } = ensureDatabase(url);
    process.stdout.write(`${created ? 'created' : 'checked'} database ${path}\n`);
  } catch (err) {
    process.stderr.write(`db: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
