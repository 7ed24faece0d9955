/**
 * Readiness (docs/operators.md § Readiness): how fast people acknowledge link tests and drills,
 * per precedence, on both sides — computed from the messages themselves, nothing else.
 *
 * An acknowledgement is a content message of type `ack` whose `inReplyTo` names the message. For
 * a test or drill we sent: its ack's receipt here minus our release. For one the peer sent: our
 * ack's release minus its receipt here. Both times are this node's own clock.
 */
import { PRECEDENCES, type Precedence } from '../../protocol/values.ts';
import type { AckStats, Readiness } from '../../protocol/views.ts';
import { DraftStore, type MessageRow } from '../../store/approvals.ts';
import type { Store } from '../../store/store.ts';

/** Rows read per page, and at most, looking for the last N tests and drills. */
const PAGE = 500;
const MAX_SCAN = 50_000;

interface Parsed {
  party: string;
  id: string;
  at: number;
  type: string;
  status: string;
  precedence: Precedence;
  inReplyTo?: string;
}

function parse(row: MessageRow): Parsed {
  const body = row.body;
  return {
    party: row.party,
    id: row.id,
    at: Date.parse(row.at),
    type: body.type,
    status: body.status,
    precedence: body.precedence,
    ...(body.inReplyTo ? { inReplyTo: body.inReplyTo } : {}),
  };
}

const isExercise = (m: Parsed) =>
  m.type !== 'ack' && (m.status === 'test' || m.status === 'exercise');

/** The last `last` tests and drills per peer, newest first, reading pages of `page`. */
async function lastExercises(
  page: (offset: number, limit: number) => Promise<MessageRow[]>,
  peers: readonly string[],
  last: number,
): Promise<Map<string, Parsed[]>> {
  const found = new Map<string, Parsed[]>(peers.map((p) => [p, []]));
  const full = () => [...found.values()].every((list) => list.length >= last);
  for (let offset = 0; offset < MAX_SCAN && !full(); offset += PAGE) {
    const rows = await page(offset, PAGE);
    for (const row of rows) {
      const list = found.get(row.party);
      if (!list || list.length >= last) continue;
      const message = parse(row);
      if (isExercise(message)) list.push(message);
    }
    if (rows.length < PAGE) break;
  }
  return found;
}

/** The first ack per (party, acknowledged id) among `rows`. */
function firstAcks(rows: readonly MessageRow[]): Map<string, number> {
  const acks = new Map<string, number>();
  for (const row of rows) {
    const m = parse(row);
    if (m.type !== 'ack' || !m.inReplyTo) continue;
    const key = `${m.party}\n${m.inReplyTo}`;
    const seen = acks.get(key);
    if (seen === undefined || m.at < seen) acks.set(key, m.at);
  }
  return acks;
}

function statsOf(messages: readonly Parsed[], acks: Map<string, number>) {
  const out = {} as Record<Precedence, AckStats>;
  for (const precedence of PRECEDENCES) {
    const list = messages.filter((m) => m.precedence === precedence);
    const times = list
      .map((m) => {
        const ack = acks.get(`${m.party}\n${m.id}`);
        return ack === undefined ? undefined : Math.max(0, ack - m.at);
      })
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    out[precedence] = {
      tests: list.filter((m) => m.status === 'test').length,
      drills: list.filter((m) => m.status === 'exercise').length,
      acknowledged: times.length,
      unacknowledged: list.length - times.length,
      medianMs: times.length ? median(times) : null,
      meanMs: times.length ? Math.round(times.reduce((a, b) => a + b, 0) / times.length) : null,
      maxMs: times.length ? (times.at(-1) as number) : null,
    };
  }
  return out;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

const earliest = (lists: Iterable<Parsed[]>) =>
  Math.min(...[...lists].flat().map((m) => m.at), Number.POSITIVE_INFINITY);

/** Time to acknowledge over the last `last` tests and drills each way, per peer and precedence. */
export async function readiness(
  store: Store,
  peers: readonly string[],
  last: number,
): Promise<Readiness> {
  const drafts = new DraftStore(store);
  const sent = await lastExercises((o, l) => drafts.outboxPage(o, l), peers, last);
  const received = await lastExercises((o, l) => drafts.inboxPage(o, l), peers, last);
  const sentFrom = earliest(sent.values());
  const receivedFrom = earliest(received.values());
  // Their acks of ours are in the inbox; ours of theirs in the outbox; none is older than what
  // it acknowledges.
  const theirAcks = Number.isFinite(sentFrom)
    ? firstAcks(await drafts.inboxSince(new Date(sentFrom).toISOString()))
    : new Map<string, number>();
  const ourAcks = Number.isFinite(receivedFrom)
    ? firstAcks(await drafts.outboxSince(new Date(receivedFrom).toISOString()))
    : new Map<string, number>();
  return {
    last,
    peers: peers.map((party) => ({
      party,
      sent: statsOf(sent.get(party) ?? [], theirAcks),
      received: statsOf(received.get(party) ?? [], ourAcks),
    })),
  };
}
