/**
 * Key rotations as recorded (ours and peers'), the received messages a compromise rotation
 * disputed, and the outbox reads and writes a compromise rotation needs to re-sign what the
 * thief's messages blocked. Kysely builders only; the rules live in src/node/core/rotation.ts.
 *
 * @example
 *   const rotations = new RotationStore(store);
 *   const disputed = await rotations.listDisputed(100);
 */
import type { Body } from '../protocol/body.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { fromJson, type Parsed, toJson } from './json.ts';
import type { DisputedTable, RotationsTable } from './schema.ts';
import type { Executor, Store } from './store.ts';

export type RotationRow = Parsed<RotationsTable>;
export type DisputedRow = Omit<Parsed<DisputedTable>, 'envelope'>;

export class RotationStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get db(): Executor {
    return this.#store.db;
  }

  async add(row: RotationRow, q: Executor = this.db): Promise<void> {
    await q
      .insertInto('rotations')
      .values({
        ...row,
        untrusted: row.untrusted === null ? null : toJson(row.untrusted),
        detail: toJson(row.detail),
      })
      .execute();
  }

  /** Records that a sealing key our rotation `id` replaced was destroyed. */
  async markDestroyed(id: string, kid: string, at: string, q: Executor): Promise<void> {
    const row = (await this.list(q)).find((r) => r.dir === 'out' && r.id === id);
    if (!row) throw new Error(`no rotation ${id} of ours`);
    const destroyed = [...(row.detail.destroyed ?? []), { kid, at }];
    await q
      .updateTable('rotations')
      .set({ detail: toJson({ ...row.detail, destroyed }) })
      .where('dir', '=', 'out')
      .where('party', '=', row.party)
      .where('id', '=', id)
      .execute();
  }

  /** The peer's receivedAt (its own clock) from its verified receipt for message `id`, if any. */
  async peerReceivedAt(party: string, id: string, q: Executor = this.db): Promise<string | null> {
    const row = await q
      .selectFrom('outbox')
      .select(['status', 'peer_received_at'])
      .where('party', '=', party)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.status === 'receipted' ? row.peer_received_at : null;
  }

  /**
   * The lowest seq, among `party`'s newest `window` received messages, of one its sender stamped
   * later than `after` (the sender's clock, ISO 8601).
   */
  async firstSentAfter(
    party: string,
    after: number,
    window = 500,
    q: Executor = this.db,
  ): Promise<number | undefined> {
    const rows = await q
      .selectFrom('inbox')
      .select(['seq', 'envelope'])
      .where('party', '=', party)
      .orderBy('seq', 'desc')
      .limit(window)
      .execute();
    let first: number | undefined;
    for (const row of rows)
      if (Date.parse(fromJson(row.envelope).header.sent) > after) first = Number(row.seq);
    return first;
  }

  /** How many of `party`'s messages with seq ≤ `seq` are held (in the inbox). */
  async heldUpTo(party: string, seq: number, q: Executor = this.db): Promise<number> {
    const row = await q
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('party', '=', party)
      .where('seq', '<=', seq)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async list(q: Executor = this.db): Promise<RotationRow[]> {
    const rows = await q.selectFrom('rotations').selectAll().orderBy('at').execute();
    return rows.map((r) => ({
      ...r,
      serial: Number(r.serial),
      untrusted: r.untrusted === null ? null : fromJson(r.untrusted),
      detail: fromJson(r.detail),
    }));
  }

  /**
   * Moves `party`'s received messages with seq ≥ `fromSeq` signed by a key not in `trusted` out
   * of the inbox into `disputed`, whole: their (party, seq) is free again for the honest sender.
   */
  async dispute(
    party: string,
    fromSeq: number,
    trusted: ReadonlySet<string>,
    rotation: string,
    at: string,
    q: Executor,
  ): Promise<Array<{ id: string; seq: number }>> {
    const rows = await q
      .selectFrom('inbox')
      .selectAll()
      .where('party', '=', party)
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .execute();
    const out: Array<{ id: string; seq: number }> = [];
    for (const row of rows) {
      const envelope = fromJson(row.envelope);
      if (trusted.has(envelope.header.kid)) continue;
      await q
        .insertInto('disputed')
        .values({ ...row, disputed_at: at, rotation })
        .execute();
      await q.deleteFrom('inbox').where('party', '=', party).where('id', '=', row.id).execute();
      // A forged message escalates no further: its follow-up ends as if withdrawn.
      await q
        .updateTable('followups')
        .set({ next_at: null, retracted_at: at })
        .where('dir', '=', 'in')
        .where('party', '=', party)
        .where('id', '=', row.id)
        .execute();
      out.push({ id: row.id, seq: Number(row.seq) });
    }
    return out;
  }

  /** One disputed message of `party`'s, by id; undefined when none was disputed. */
  async getDisputed(
    party: string,
    id: string,
    q: Executor = this.db,
  ): Promise<Pick<DisputedRow, 'body' | 'received_at' | 'disputed_at' | 'rotation'> | undefined> {
    const row = await q
      .selectFrom('disputed')
      .select(['body', 'received_at', 'disputed_at', 'rotation'])
      .where('party', '=', party)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { ...row, body: fromJson(row.body) };
  }

  async listDisputed(limit: number, q: Executor = this.db): Promise<DisputedRow[]> {
    const rows = await q
      .selectFrom('disputed')
      .select([
        'party',
        'id',
        'seq',
        'header_hash',
        'body',
        'received_at',
        'leaf_index',
        'receipt_id',
        'disputed_at',
        'rotation',
      ])
      .orderBy('disputed_at', 'desc')
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ...r,
      seq: Number(r.seq),
      leaf_index: Number(r.leaf_index),
      receipt_id: Number(r.receipt_id),
      body: fromJson(r.body),
    }));
  }

  /** The first seq to `party` without a verified receipt, or the next seq when all have one. */
  async firstUnreceipted(party: string, q: Executor): Promise<number> {
    const pending = await q
      .selectFrom('outbox')
      .select((eb) => eb.fn.min('seq').as('seq'))
      .where('party', '=', party)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (pending?.seq !== null && pending?.seq !== undefined) return Number(pending.seq);
    return (await this.#store.lastSeq(party, q)) + 1;
  }

  /** Our messages to `party` from seq `fromSeq` on, with their bodies, oldest first. */
  async outboxFrom(
    party: string,
    fromSeq: number,
    q: Executor,
  ): Promise<Array<{ id: string; seq: number; envelope: Envelope; body: Body }>> {
    const rows = await q
      .selectFrom('outbox')
      .select(['id', 'seq', 'envelope', 'body'])
      .where('party', '=', party)
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      envelope: fromJson(r.envelope),
      body: fromJson(r.body),
    }));
  }

  /** Replaces a message's envelope by its re-signed one, pending and due at once. */
  async resign(
    party: string,
    id: string,
    envelope: Envelope,
    headerHash: string,
    leafIndex: number,
    q: Executor,
  ): Promise<void> {
    await q
      .updateTable('outbox')
      .set({
        envelope: toJson(envelope),
        header_hash: headerHash,
        leaf_index: leafIndex,
        status: 'pending',
        attempts: 0,
        next_attempt_at: 0,
        last_error: null,
        receipted_at: null,
        peer_received_at: null,
        peer_index: null,
      })
      .where('party', '=', party)
      .where('id', '=', id)
      .execute();
  }
}
