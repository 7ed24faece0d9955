/**
 * A relay's mailboxes: per party, the envelopes deposited for it and the batch answers (signed
 * receipts) its peers left for it, in arrival order, until the party collects and acknowledges
 * them. The relay is untrusted: it holds sealed, signed documents it cannot open or forge, and the
 * parties' own checks (signatures, receipts, `seq` gaps) catch anything it drops or alters.
 *
 * Storage is bounded — total bytes, and items and bytes per box — and a deposit that would exceed
 * any of them is refused whole, with `E_RELAY_FULL`; items older than `maxAgeMs` are dropped. SQLite (WAL, synchronous FULL): what the relay
 * accepted survives its restart.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

export type ItemKind = 'envelope' | 'answer';

export interface Item {
  /** The box's running number: collect with `after`, acknowledge with `upTo`. */
  n: number;
  kind: ItemKind;
  /** The party that deposited it. */
  from: string;
  /** The envelope or the batch answer, exactly as deposited (JSON text). */
  data: string;
}

export interface Deposit {
  kind: ItemKind;
  from: string;
  /** What makes a deposit a repeat of one the box holds: an envelope's id. */
  key: string;
  data: string;
}

export interface Limits {
  maxBytes: number;
  maxItemsPerBox: number;
  /** Most bytes one box holds (default: a quarter of `maxBytes`), so no box takes them all. */
  maxBytesPerBox?: number;
  /** Items older than this are dropped (default 7 days): the senders still hold and resend them. */
  maxAgeMs?: number;
}

const WEEK_MS = 7 * 24 * 3600_000;

export class MailboxFull extends Error {
  override name = 'MailboxFull';
}

export class Mailboxes {
  readonly #db: Database.Database;
  readonly limits: Limits;
  /** Items stored since the relay started, by kind (repeats not counted). */
  readonly stored: Record<ItemKind, number> = { envelope: 0, answer: 0 };
  #bytes: number;

  constructor(path: string, limits: Limits) {
    this.limits = limits;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS items (
      n INTEGER PRIMARY KEY AUTOINCREMENT,
      party TEXT NOT NULL,
      kind TEXT NOT NULL,
      sender TEXT NOT NULL,
      key TEXT NOT NULL,
      data TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      at TEXT NOT NULL,
      UNIQUE (party, kind, sender, key)
    );
    CREATE INDEX IF NOT EXISTS items_party ON items (party, n);
    CREATE INDEX IF NOT EXISTS items_at ON items (at);`);
    this.#bytes = Number(
      (this.#db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM items').get() as { b: number }).b,
    );
  }

  /** Bytes held across all boxes. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Stores deposits for `party` in one transaction; a repeat of an item the box holds is not
   * stored again. Answers how many were new. Throws MailboxFull, storing nothing, when the
   * deposit would exceed a limit.
   */
  deposit(
    party: string,
    deposits: readonly Deposit[],
    now = Date.now(),
  ): { stored: number; held: number } {
    return this.#db.transaction(() => {
      this.#expire(now);
      const count = this.#db
        .prepare('SELECT COUNT(*) AS c, COALESCE(SUM(bytes), 0) AS b FROM items WHERE party = ?')
        .get(party) as { c: number; b: number };
      const exists = this.#db.prepare(
        'SELECT 1 FROM items WHERE party = ? AND kind = ? AND sender = ? AND key = ?',
      );
      const fresh = deposits.filter((d) => !exists.get(party, d.kind, d.from, d.key));
      const bytes = fresh.reduce((sum, d) => sum + Buffer.byteLength(d.data), 0);
      if (count.c + fresh.length > this.limits.maxItemsPerBox)
        throw new MailboxFull(
          `the box of "${party}" holds ${count.c} items and its limit is ${this.limits.maxItemsPerBox}; "${party}" must collect first`,
        );
      const boxBytes = this.limits.maxBytesPerBox ?? Math.floor(this.limits.maxBytes / 4);
      if (Number(count.b) + bytes > boxBytes)
        throw new MailboxFull(
          `the box of "${party}" holds ${count.b} bytes and its limit is ${boxBytes}; "${party}" must collect first`,
        );
      if (this.#bytes + bytes > this.limits.maxBytes)
        throw new MailboxFull(
          `the relay holds ${this.#bytes} bytes and its limit is ${this.limits.maxBytes}; ${bytes} more do not fit until parties collect`,
        );
      const insert = this.#db.prepare(
        'INSERT OR IGNORE INTO items (party, kind, sender, key, data, bytes, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const at = new Date(now).toISOString();
      let stored = 0;
      for (const d of fresh) {
        const { changes } = insert.run(
          party,
          d.kind,
          d.from,
          d.key,
          d.data,
          Buffer.byteLength(d.data),
          at,
        );
        stored += changes;
        this.stored[d.kind] += changes;
      }
      this.#bytes += bytes;
      return { stored, held: count.c + stored };
    })();
  }

  /** Drops items older than the age limit (their senders still hold them, and resend). */
  #expire(now: number): void {
    const cutoff = new Date(now - (this.limits.maxAgeMs ?? WEEK_MS)).toISOString();
    const old = this.#db
      .prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM items WHERE at < ?')
      .get(cutoff) as { b: number };
    if (!Number(old.b)) return;
    this.#db.prepare('DELETE FROM items WHERE at < ?').run(cutoff);
    this.#bytes -= Number(old.b);
  }

  /** Items of `party`'s box after `after`, oldest first, at most `limit`. */
  collect(party: string, after: number, limit: number): Item[] {
    return (
      this.#db
        .prepare(
          'SELECT n, kind, sender, data FROM items WHERE party = ? AND n > ? ORDER BY n LIMIT ?',
        )
        .all(party, after, limit) as Array<{
        n: number;
        kind: ItemKind;
        sender: string;
        data: string;
      }>
    ).map((r) => ({ n: r.n, kind: r.kind, from: r.sender, data: r.data }));
  }

  /** Removes `party`'s items up to and including `upTo`; answers how many. */
  acknowledge(party: string, upTo: number): number {
    return this.#db.transaction(() => {
      const gone = this.#db
        .prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM items WHERE party = ? AND n <= ?')
        .get(party, upTo) as { b: number };
      const { changes } = this.#db
        .prepare('DELETE FROM items WHERE party = ? AND n <= ?')
        .run(party, upTo);
      this.#bytes -= Number(gone.b);
      return changes;
    })();
  }

  /** Items per box, for the health answer. */
  boxes(): Record<string, number> {
    const rows = this.#db
      .prepare('SELECT party, COUNT(*) AS c FROM items GROUP BY party')
      .all() as Array<{ party: string; c: number }>;
    return Object.fromEntries(rows.map((r) => [r.party, r.c]));
  }

  close(): void {
    this.#db.close();
  }
}

/** The key of an answer deposit: its digest (answers are not deduplicated by id). */
export function digestKey(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
