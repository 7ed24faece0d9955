/**
 * The local audit trail: who did what, when and from where — logins, message views and releases,
 * exports, approvals, account, configuration and roster changes. Append-only, read by admins.
 *
 * Integrity: each entry's SHA-256 (over its canonical JSON) is anchored in an event leaf of the
 * node's ledger, `{leaf: "event", type: "audit", detail: {entry, hash}}`. The ledger is signed and
 * co-signed by the peer, so an entry altered or deleted afterwards no longer matches its leaf, and
 * a leaf cannot be changed without breaking the signed tree. Leaves carry only the hash: no name
 * or action of a person leaves the node in an export.
 *
 * Entries are written in the transaction of the change they record; anchoring follows, in units
 * of work of the node's ledger. A process without the node (a command run on the data folder) writes entries
 * only, and the node anchors them when it next starts or anchors.
 */
import { eventLeaf, parseLeaf } from '../../ledger/leaves.ts';
import { leafHash, storedHashIndex } from '../../ledger/merkle.ts';
import { equalBytes, sha256, toHex, utf8 } from '../../protocol/encoding.ts';
import { jcs } from '../../protocol/jcs.ts';
import type { AuditItem, TrailReport } from '../../protocol/views.ts';
import type { AuditRow, NewAudit, PeopleStore } from '../../store/people.ts';
import type { Executor, Store } from '../../store/store.ts';
import type { Ledger } from '../record/ledger.ts';

/**
 * Every action the trail records, and the only names `GET /api/v1/audit?action=` takes: a filter
 * on a name no entry can carry would answer "no entries" for a typing mistake.
 */
export const AUDIT_ACTIONS = [
  'login',
  'logout',
  'message.view',
  'message.search',
  'message.release',
  'message.ack',
  'message.remind',
  'incident.state',
  'incident.request',
  'incident.decision',
  'incident.retract',
  'draft.submit',
  'draft.approve',
  'draft.reject',
  'draft.break-glass',
  'presence.answer',
  'conference.accept',
  'conference.decline',
  'conference.propose',
  'export',
  'backup',
  'restore',
  'alarm.clear',
  'handover.open',
  'handover.confirm',
  'user.add',
  'user.disable',
  'user.enable',
  'user.password',
  'user.unlock',
  'token.issue',
  'token.revoke',
  'factor.add',
  'factor.remove',
  'factor.recovery-codes',
  'factor.verify',
  'push.subscribe',
  'push.unsubscribe',
  'desk.add',
  'desk.staff',
  'desk.unstaff',
  'shift.add',
  'shift.cancel',
  'peer.pin',
  'config.change',
  'access.denied',
  'audit.read',
  'audit.verify',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Why `name` is no action the trail records, or undefined: the sentence names the same name in
 * another case, else the actions of its family (`draft.…`), else every action.
 */
export function auditActionProblem(name: string): string | undefined {
  if ((AUDIT_ACTIONS as readonly string[]).includes(name)) return undefined;
  const sameLetters = AUDIT_ACTIONS.find((a) => a === name.toLowerCase());
  if (sameLetters)
    return `no action is "${name}": actions are lowercase (did you mean "${sameLetters}"?)`;
  const family = AUDIT_ACTIONS.filter((a) => a.split('.')[0] === name.toLowerCase().split('.')[0]);
  const choices = family.length ? family : AUDIT_ACTIONS;
  return `no action is "${name}": the trail records ${choices.join(', ')}`;
}

export type Outcome = 'ok' | 'denied' | 'failed';
export type Via = 'session' | 'token' | 'data-folder' | 'anonymous';

/** Who acts, as the audit trail records it. */
export interface Actor {
  actor: string | null;
  role: string | null;
  via: Via;
  source: string;
}

export interface AuditEntry extends Actor {
  action: AuditAction;
  target?: string | null;
  outcome?: Outcome;
  detail?: Record<string, unknown>;
}

/** Entries anchored per ledger transaction. */
const ANCHOR_BATCH = 500;

export class AuditTrail {
  readonly #people: PeopleStore;
  readonly #store: Store;
  readonly #ledger: Ledger | undefined;
  readonly #clock: () => Date;
  /** Entries recorded and not yet written, for the next run. */
  readonly #queue: NewAudit[] = [];
  #active: Promise<number> | undefined;
  #next: Promise<number> | undefined;

  /** Without the node's `ledger`, entries are written but anchored later by the node. */
  constructor(
    store: Store,
    people: PeopleStore,
    ledger?: Ledger,
    clock: () => Date = () => new Date(),
  ) {
    this.#store = store;
    this.#people = people;
    this.#ledger = ledger;
    this.#clock = clock;
  }

  /** Writes an entry in transaction `q` (the change it records); call `anchor` after commit. */
  async write(entry: AuditEntry, q: Executor): Promise<void> {
    await this.#people.addAudit(this.#row(entry), q);
  }

  #row(entry: AuditEntry): NewAudit {
    return {
      at: this.#clock().toISOString(),
      actor: entry.actor,
      role: entry.role,
      via: entry.via,
      source: entry.source,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome ?? 'ok',
      detail: entry.detail ?? {},
    };
  }

  /**
   * Writes one entry and anchors it. Entries recorded while an anchoring runs are written and
   * anchored together by the next run, in one transaction: under load a node commits a few audit
   * transactions, not one per request.
   */
  async record(entry: AuditEntry): Promise<void> {
    this.#queue.push(this.#row(entry));
    await this.#flush();
  }

  /** Runs `fn` in one transaction with an audit writer, then anchors what it wrote. */
  async change<T>(
    fn: (tx: Executor, audit: (entry: AuditEntry) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const result = await retryOnIdClash(() =>
      this.#store.transaction((tx) => fn(tx, (entry) => this.write(entry, tx))),
    );
    await this.anchor();
    return result;
  }

  /** Anchors every entry not yet in the ledger; returns how many. No-op without the node. */
  anchor(): Promise<number> {
    return this.#flush();
  }

  /** One run at a time; callers arriving during a run share the one after it. */
  #flush(): Promise<number> {
    if (this.#active) {
      this.#next ??= this.#active
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          this.#next = undefined;
          return this.#flush();
        });
      return this.#next;
    }
    const run = (async () => {
      try {
        return await this.#run();
      } finally {
        this.#active = undefined;
      }
    })();
    this.#active = run;
    return run;
  }

  async #run(): Promise<number> {
    const entries = this.#queue.splice(0);
    const ledger = this.#ledger;
    if (!ledger) {
      // One statement each, no transaction held across awaits beside a running node.
      for (const e of entries) await retryOnIdClash(() => this.#people.addAudit(e, this.#store.db));
      return 0;
    }
    return ledger.exclusive(async (commit) => {
      let total = 0;
      let toWrite = entries;
      for (;;) {
        const count = await retryOnIdClash(() =>
          commit(async (tx, log) => {
            for (const e of toWrite) await this.#people.addAudit(e, tx);
            const rows = (await this.#people.unanchoredAudit(tx)).slice(0, ANCHOR_BATCH);
            if (!rows.length) return 0;
            const hashes = rows.map(entryHash);
            const start = await log.append(
              rows.map((r, i) => eventLeaf('audit', r.at, { entry: r.id, hash: hashes[i] })),
            );
            for (const [i, r] of rows.entries())
              await this.#people.anchorAudit(r.id, hashes[i] as string, start + i, tx);
            return rows.length;
          }),
        );
        toWrite = [];
        total += count;
        if (count < ANCHOR_BATCH) return total;
      }
    });
  }

  async list(filter: {
    actor?: string;
    action?: string;
    since?: string;
    before?: number;
    limit: number;
  }): Promise<AuditItem[]> {
    return (await this.#people.audit(filter)).map(item);
  }

  /**
   * Checks every entry against its anchoring leaf, and each such leaf against the ledger's stored
   * Merkle hash; finds entries missing from a contiguous numbering and anchors without an entry.
   */
  async verify(): Promise<TrailReport> {
    const problems: TrailReport['problems'] = [];
    const anchoredAt = new Map<number, number>();
    let entries = 0;
    let anchored = 0;
    let pending = 0;
    let expected = 1;
    for (let after = 0; ; ) {
      const rows = await this.#people.auditPage(after, 1000);
      if (!rows.length) break;
      for (const row of rows) {
        entries++;
        for (; expected < row.id; expected++)
          problems.push({ entry: expected, problem: 'the entry is missing' });
        expected = row.id + 1;
        if (row.leaf_index === null) {
          pending++;
          continue;
        }
        anchoredAt.set(row.leaf_index, row.id);
        const problem = await this.#checkAnchor(row);
        if (problem) problems.push({ entry: row.id, problem });
        else anchored++;
      }
      after = (rows.at(-1) as AuditRow).id;
    }
    for (const { idx, leaf } of await this.#people.auditLeaves()) {
      if (anchoredAt.has(idx)) continue;
      const anchor = parseLeaf(leaf);
      const entry = Number(anchor.leaf === 'event' ? anchor.detail?.entry : undefined);
      problems.push({
        entry,
        problem: `ledger leaf ${idx} anchors entry ${entry}, which is not in the trail`,
      });
    }
    problems.sort((a, b) => a.entry - b.entry);
    return { entries, anchored, pending, problems, ok: problems.length === 0 };
  }

  async #checkAnchor(row: AuditRow): Promise<string | undefined> {
    const index = row.leaf_index as number;
    const [text] = await this.#store.readLeaves(index, 1);
    if (text === undefined) return `its ledger leaf ${index} does not exist`;
    const leaf = parseLeaf(text);
    if (leaf.leaf !== 'event' || leaf.type !== 'audit' || leaf.detail?.entry !== row.id)
      return `ledger leaf ${index} does not anchor it`;
    if (leaf.detail.hash !== entryHash(row))
      return 'the entry was altered after it was anchored (its hash no longer matches its leaf)';
    const [stored] = await this.#store.readHashes([storedHashIndex(0, index)]);
    if (!stored || !equalBytes(stored, leafHash(utf8(text))))
      return `ledger leaf ${index} was altered (it no longer matches the signed tree)`;
    return undefined;
  }
}

/**
 * Attempts at an entry whose id another writer took first (max + 1 read by both). Each clash is
 * another writer's commit in between, so a burst from two writers can clash a few times in a row
 * (on PostgreSQL the loser waits for the winner's commit before it fails): 5 was seen to run out
 * under load.
 */
const ID_ATTEMPTS = 20;

/**
 * On PostgreSQL two writers (the node, an export beside it) can read the same max(id) and the
 * second insert then breaks the primary key; it is safe to run the whole write again. (SQLite
 * runs one write at a time, so there it never happens.)
 */
async function retryOnIdClash<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      const error = e as { code?: string; constraint?: string; message?: string };
      const clash =
        (error.code === '23505' && error.constraint === 'audit_pkey') ||
        (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && /audit\.id/.test(error.message ?? ''));
      if (!clash || attempt >= ID_ATTEMPTS) throw e;
    }
  }
}

/** SHA-256 of the entry's canonical JSON: every field a reader sees. */
export function entryHash(row: AuditRow): string {
  const { hash: _hash, leaf_index: _leaf, ...fields } = row;
  return toHex(sha256(utf8(jcs(fields))));
}

function item(row: AuditRow): AuditItem {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    role: row.role,
    via: row.via,
    source: row.source,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    detail: row.detail,
    leafIndex: row.leaf_index,
  };
}
