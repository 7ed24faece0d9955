/**
 * `hotline backup`: a consistent copy of a node's records while it runs (docs/deployment.md §
 * Backup and restore).
 *
 * - SQLite: the online backup API (`sqlite3_backup_*`, through better-sqlite3's `db.backup()`)
 *   from a connection of its own, copying every page in one step, so the copy is one snapshot
 *   of committed transactions (in WAL mode the node keeps writing meanwhile). The copy is
 *   checked (`PRAGMA integrity_check`) and fsynced before it takes its final name.
 * - PostgreSQL: `pg_dump --format=custom` of the node's schema, connection details passed in
 *   the environment (never on a command line another user can read), then `pg_restore --list`
 *   reads the dump back.
 *
 * The copy holds the records only: keys, card, configuration and operator token stay in the data
 * folder and are backed up apart (the keys are secrets; see docs/security.md).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fingerprint } from '../../crypto/card.ts';
import { logKeyName } from '../../crypto/keys.ts';
import { restoredOrigin } from '../../ledger/discontinuity.ts';
import { openNote, parseNote } from '../../ledger/note.ts';
import { logVerifier } from '../../ledger/receipt.ts';
import type { Card } from '../../protocol/card.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { RotationDetail } from '../../store/schema.ts';
import type { Config } from '../core/config.ts';
import { paths, readOwnCard } from '../core/data.ts';
import { runningNode } from '../core/paths.ts';
import { readRestoreMarker, writeRestoreMarker } from './recovery.ts';

export interface BackupSummary {
  backend: 'sqlite' | 'postgres';
  file: string;
  bytes: number;
  /** Leaves in the ledger the copy holds (SQLite; for a dump, read at restore). */
  ledgerSize: number | null;
}

/** A backup that could not be made; the message is the one-line reason. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** Every remaining page in one step: the copy is one snapshot, never restarted by a write. */
const ALL_PAGES = 0x7fffffff;

export async function backupNode(dir: string, config: Config, out: string): Promise<BackupSummary> {
  if (!existsSync(dirname(out))) throw new BackupError(`the folder of ${out} does not exist`);
  // The name is claimed by an exclusive create: a file there, or made meanwhile, is never replaced.
  try {
    closeSync(openSync(out, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BackupError(`${out} exists: refusing to overwrite it`);
    throw e;
  }
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  let placed = false;
  try {
    // The copy holds the whole store (accounts, bodies, TLP:RED): readable by its owner alone.
    closeSync(openSync(partial, 'wx', 0o600));
    const summary =
      config.store.backend === 'postgres'
        ? await dumpPostgres(config, partial)
        : await backupSqlite(paths(dir).db, partial);
    syncFile(partial);
    renameSync(partial, out);
    placed = true;
    syncFile(dirname(out));
    return { ...summary, file: out, bytes: statSync(out).size };
  } catch (e) {
    for (const file of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true });
    if (!placed) rmSync(out, { force: true });
    throw e;
  }
}

export interface RestoreSummary {
  /** The records put aside (SQLite), if there were any. */
  replaced: string | null;
  ledgerSize: number | null;
  /** The log origin the node starts when it next serves. */
  origin: string;
  /**
   * The marker an earlier `restore` left, kept as it was: the node has not served since, so
   * nothing changed (a new origin would start a second discontinuity after an interrupted one).
   */
  unchanged: boolean;
}

/**
 * `hotline restore`: with `from` (SQLite), the checked copy is put in place of the records, the
 * old ones kept beside them; without, the records are taken as they are (PostgreSQL restored with
 * pg_restore as docs/deployment.md says, or a SQLite file put back by hand). Either way a marker
 * is left, so the node, when it next serves, starts a new log origin and recovers from its peers
 * before it serves (node/record/recovery.ts). Refused while the node runs.
 *
 * Every check comes before the first change: a refused restore leaves the data folder as it was.
 */
export function restoreNode(
  dir: string,
  config: Config,
  from: string | undefined,
  now = new Date(),
): RestoreSummary {
  const where = paths(dir);
  if (runningNode(dir))
    throw new BackupError(`the node of ${dir} is running: stop it before restoring`);
  if (from === undefined) return markInPlace(dir, config, now);
  if (config.store.backend !== 'sqlite')
    throw new BackupError(
      'a PostgreSQL node is restored with pg_restore, then `hotline restore` without --from',
    );
  if (!existsSync(from)) throw new BackupError(`there is no backup at ${from}`);
  const db = where.db;
  const partial = `${db}.partial`;
  const moved = [db, `${db}-wal`, `${db}-shm`, partial];
  if (moved.some((file) => sameFile(from, file)))
    throw new BackupError(
      `--from ${from} is this node's own database (${db}), which restore replaces: name a copy made by \`hotline backup\``,
    );
  const { ledgerSize, newest } = checkCopy(from, config.party);
  if (newest) checkSameNode(from, newest, dir);
  // The copy is made and synced before the records are moved: a copy that fails (a full disk)
  // leaves them in place.
  try {
    copyFileSync(from, partial);
    syncFile(partial);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  let replaced: string | null = null;
  if (existsSync(db)) {
    replaced = `${db}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(db, replaced);
    for (const side of ['-wal', '-shm'])
      if (existsSync(`${db}${side}`)) renameSync(`${db}${side}`, `${replaced}${side}`);
  }
  renameSync(partial, db);
  syncFile(dir);
  const origin = restoredOrigin(logKeyName(config.party), now);
  writeRestoreMarker(where.restored, { origin, at: now.toISOString(), from });
  return { replaced, ledgerSize, origin, unchanged: false };
}

/**
 * The records as they are, restored by other means: marked, so the node recovers when it next
 * serves. A marker already there is kept; a SQLite node without a database has nothing to mark.
 */
function markInPlace(dir: string, config: Config, now: Date): RestoreSummary {
  const where = paths(dir);
  const earlier = readRestoreMarker(where.restored);
  if (earlier) return { replaced: null, ledgerSize: null, origin: earlier.origin, unchanged: true };
  if (config.store.backend === 'sqlite' && !existsSync(where.db))
    throw new BackupError(
      `there is no database at ${where.db} to restore in place: give --from <file>, a copy made by \`hotline backup\``,
    );
  const origin = restoredOrigin(logKeyName(config.party), now);
  writeRestoreMarker(where.restored, { origin, at: now.toISOString(), from: 'in place' });
  return { replaced: null, ledgerSize: null, origin, unchanged: false };
}

/** Whether two paths name one file (a link, another spelling): same device and inode. */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * A backup file of `party`'s node that passes its integrity check: the size of the ledger it
 * holds. Whose it is shows in its checkpoints (their origin line names the log's party) and in
 * its pinned peers (a node never pins itself).
 */
function checkCopy(file: string, party: string): { ledgerSize: number; newest?: string } {
  let copy: Database.Database;
  try {
    copy = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BackupError(`${file} is not a SQLite backup: ${(e as Error).message}`);
  }
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`${file} fails its integrity check: ${check}`);
    const note = copy.prepare('SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1').get() as
      | { note: string }
      | undefined;
    const owner = note && /^hotline\/([^/\n]+)\/log/.exec(note.note)?.[1];
    const pinsUs = copy.prepare('SELECT 1 FROM peers WHERE party = ?').get(party) !== undefined;
    if ((owner && owner !== party) || pinsUs)
      throw new BackupError(
        `${file} is the backup of another party's node (${owner ? `"${owner}"` : `it pins "${party}" as a peer`}), not of "${party}"`,
      );
    return { ledgerSize: ledgerSizeOf(copy), ...(note ? { newest: note.note } : {}) };
  } catch (e) {
    if (e instanceof BackupError) throw e;
    throw new BackupError(`${file} is not a Hotline backup: ${(e as Error).message}`);
  } finally {
    copy.close();
  }
}

/**
 * The cards of the node whose keys are in `dir`: its card, and those its own rotations replaced
 * (in its records, when they are there), newest first.
 */
function cardsOf(dir: string): Card[] {
  const cards = [readOwnCard(dir).card];
  if (!existsSync(paths(dir).db)) return cards;
  const db = new Database(paths(dir).db, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare("SELECT detail FROM rotations WHERE dir = 'out' ORDER BY serial DESC")
      .all() as Array<{ detail: string }>;
    for (const row of rows) {
      const previous = (JSON.parse(row.detail) as RotationDetail).previous?.card;
      if (previous) cards.push(previous);
    }
  } catch {
    // Records too old or too damaged to say: the folder's card alone decides.
  } finally {
    db.close();
  }
  return cards;
}

/**
 * Refuses a copy made by another node of the same party (another `hotline init`, other keys):
 * its newest checkpoint (`note`) must verify under the log key of a card of the node whose keys
 * are in `dir`. Served with these keys, its history would be a node's its peers never pinned, and
 * they would refuse the recovery its restore asks for.
 */
function checkSameNode(file: string, note: string, dir: string): void {
  const cards = cardsOf(dir);
  const bytes = new TextEncoder().encode(note);
  try {
    openNote(bytes, cards.map(logVerifier));
    return;
  } catch {}
  const hex = (id: number) => id.toString(16).padStart(8, '0');
  const signed = parseNote(bytes).signatures.map((sig) => `${sig.name}+${hex(sig.keyId)}`);
  const own = cards[0] as Card;
  throw new ProtocolError(
    'E_CONFLICT',
    `${file} is the backup of another "${own.party}" node than the one whose keys are in ${dir}: its checkpoints are signed by log key ${signed.join(', ')}, and this folder's card (fingerprint ${fingerprint(own)}) has log key ${hex(logVerifier(own).keyId)}. Nothing was changed: restore it into the data folder holding that node's keys and card`,
  );
}

/** The size of the ledger a copy of the records holds. */
function ledgerSizeOf(copy: Database.Database): number {
  const row = copy.prepare("SELECT value FROM meta WHERE key = 'ledger_size'").get() as
    | { value: string }
    | undefined;
  return Number(row?.value ?? 0);
}

async function backupSqlite(db: string, to: string) {
  if (!existsSync(db)) throw new BackupError(`there is no database at ${db}`);
  const source = new Database(db, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 10000');
    await source.backup(to, { progress: () => ALL_PAGES });
  } finally {
    source.close();
  }
  // The copy takes the source's WAL mode; a backup is one file, so it leaves WAL (which merges
  // and removes the `-wal` and `-shm` files its opening made) before it is checked read-only.
  const writable = new Database(to, { fileMustExist: true });
  try {
    writable.pragma('journal_mode = DELETE');
  } finally {
    writable.close();
  }
  const copy = new Database(to, { readonly: true, fileMustExist: true });
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the copy fails its integrity check: ${check}`);
    return { backend: 'sqlite' as const, ledgerSize: ledgerSizeOf(copy) };
  } finally {
    copy.close();
  }
}

/** libpq's environment for a `postgres://` URL, so no secret appears in a process list. */
export function libpqEnvironment(url: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackupError('store.url is not a postgres:// URL');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new BackupError('store.url is not a postgres:// URL');
  const env: Record<string, string> = {};
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname);
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  for (const [key, value] of u.searchParams)
    if (key === 'sslmode') env.PGSSLMODE = value;
    else if (key === 'host') env.PGHOST = value;
  return env;
}

async function dumpPostgres(config: Config, to: string) {
  const env = { ...process.env, ...libpqEnvironment(config.store.url ?? '') };
  const schema = config.store.schema ?? 'public';
  await run('pg_dump', ['--format=custom', `--schema=${schema}`, `--file=${to}`], env);
  await run('pg_restore', ['--list', to], env);
  return { backend: 'postgres' as const, ledgerSize: null };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new BackupError(
          e.code === 'ENOENT'
            ? `${command} is not installed (Debian: apt-get install postgresql-client)`
            : `${command}: ${e.message}`,
        ),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else
        reject(new BackupError(`${command} exited ${code}: ${stderr.trim().split('\n').at(-1)}`));
    });
  });
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
