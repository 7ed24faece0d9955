/**
 * Delivery under fire, with real processes: Washington (us) and Beijing (cn) each run
 * `hotline serve` in its own process on loopback. Each releases 1,000 messages to the other
 * through its operator API while Beijing is SIGKILLed twice and Washington once. Afterwards every
 * message released is in the peer's inbox exactly once, in contiguous seqs, and every outbox row
 * is receipted — and the receipts, read back from each node's SQLite file, verify independently
 * against the peer's card.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ACK_ALARMS } from '../../src/node/incidents/escalation.ts';
import {
  BEIJING,
  HotlineNode,
  type InboxItem,
  killAll,
  type OutboxItem,
  receiptsInFile,
  releaseOnce,
  removeUnlessKept,
  type Settings,
  type Status,
  sleep,
  until,
  WASHINGTON,
} from './nodes.ts';

const MESSAGES = 1000;
/** Sends in flight per direction. */
const PARALLEL = 8;
/** Neither direction runs more than this many sends ahead of the other, so every kill lands while
 * both are mid-stream. */
const MAX_LEAD = 100;
/** Who is killed, once how many messages have been released each way. */
const KILLS = [
  { after: 250, victim: 'cn' },
  { after: 500, victim: 'us' },
  { after: 750, victim: 'cn' },
] as const;

const SETTINGS: Settings = {
  heartbeatMs: 500,
  logLevel: 'warn',
  // A dead peer is retried within 2 s, not after a 30 s backoff.
  outbox: { backoffBaseMs: 100, backoffMaxMs: 2000 },
};

interface Direction {
  from: HotlineNode;
  to: HotlineNode;
  /** The id the sender's node gave each message, by message number. */
  ids: string[];
  /** Messages released whose answer was lost to a kill, found again in the outbox. */
  recovered: number;
  /** Sends that failed because the sender was dead, and were tried again. */
  retried: number;
  /** Messages released so far. */
  released: number;
}

const text = (d: Direction, i: number) =>
  `${d.from.party} to ${d.to.party}: message ${String(i).padStart(4, '0')} of ${MESSAGES}`;

/** Releases message `i` exactly once (see releaseOnce), counting recoveries and retries. */
async function releaseOnceIn(d: Direction, i: number): Promise<string> {
  const flash = i % 10 === 0;
  const released = await releaseOnce(
    d.from,
    d.to.party,
    text(d, i),
    flash ? 'flash' : 'routine',
    10,
  );
  d.retried += released.retries;
  if (released.recovered) d.recovered++;
  return released.id;
}

/** Releases all messages one way, PARALLEL at a time, never more than MAX_LEAD ahead of `other`. */
async function sendAll(d: Direction, other: Direction): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      while (d.released - other.released > MAX_LEAD && other.released < MESSAGES) await sleep(10);
      if (next >= MESSAGES) return;
      const i = next++;
      d.ids[i] = await releaseOnceIn(d, i);
      d.released++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

function status(node: HotlineNode): Promise<Status> {
  return node.api<Status>('GET', '/api/v1/status');
}

function pendingTo(s: Status, party: string): number {
  return s.peers.find((p) => p.party === party)?.outbox.pending ?? Number.NaN;
}

describe('delivery between two real nodes, killed mid-stream', () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  let usToCn: Direction;
  let cnToUs: Direction;
  const kills: Array<{ victim: string; usReleased: number; cnReleased: number }> = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotline-delivery-'));
  });

  afterAll(async () => {
    await killAll();
    removeUnlessKept(root);
  });

  test('Washington and Beijing are initialised, pin each other’s card, and serve', async () => {
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, SETTINGS),
      HotlineNode.init(root, BEIJING, SETTINGS),
    ]);
    await Promise.all([us.exportCard(), cn.exportCard()]);
    await Promise.all([us.pin(cn), cn.pin(us)]);
    await Promise.all([us.start(), cn.start()]);
    const [atUs, atCn] = await Promise.all([status(us), status(cn)]);
    expect(atUs.peers.map((p) => p.party)).toEqual(['cn']);
    expect(atCn.peers.map((p) => p.party)).toEqual(['us']);
    expect(atUs.peers[0]?.fingerprint).toBe(cn.fingerprint);
    expect(atCn.peers[0]?.fingerprint).toBe(us.fingerprint);
    usToCn = { from: us, to: cn, ids: [], recovered: 0, retried: 0, released: 0 };
    cnToUs = { from: cn, to: us, ids: [], recovered: 0, retried: 0, released: 0 };
  }, 120_000);

  test('each releases 1,000 messages to the other while Beijing is killed twice and Washington once', async () => {
    const nodes: Record<string, HotlineNode> = { us, cn };
    const chaos = async () => {
      for (const { after, victim } of KILLS) {
        await until(
          `${after} releases each way`,
          () => Math.min(usToCn.released, cnToUs.released) >= after,
          60_000,
          5,
        );
        kills.push({ victim, usReleased: usToCn.released, cnReleased: cnToUs.released });
        await (nodes[victim] as HotlineNode).restart(500);
      }
    };
    await Promise.all([sendAll(usToCn, cnToUs), sendAll(cnToUs, usToCn), chaos()]);

    expect(kills.map((k) => k.victim)).toEqual(['cn', 'us', 'cn']);
    // Every kill struck while both sides were still releasing.
    for (const k of kills) {
      expect(k.usReleased).toBeLessThan(MESSAGES);
      expect(k.cnReleased).toBeLessThan(MESSAGES);
    }
    expect(us.starts).toBe(2);
    expect(cn.starts).toBe(3);
    for (const d of [usToCn, cnToUs]) {
      expect(d.ids.filter(Boolean)).toHaveLength(MESSAGES);
      expect(new Set(d.ids).size).toBe(MESSAGES);
    }
    console.info(
      `kills: ${JSON.stringify(kills)}; answers lost and found in the outbox: us ${usToCn.recovered}, cn ${cnToUs.recovered}; sends retried: us ${usToCn.retried}, cn ${cnToUs.retried}`,
    );
  }, 150_000);

  test('both outboxes drain: nothing is left pending', async () => {
    const started = Date.now();
    await until(
      'both outboxes to drain',
      async () => {
        const [atUs, atCn] = await Promise.all([status(us), status(cn)]);
        return pendingTo(atUs, 'cn') === 0 && pendingTo(atCn, 'us') === 0;
      },
      90_000,
      250,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}\n--- us log ---\n${us.logTail()}\n--- cn log ---\n${cn.logTail()}`,
      );
    });
    console.info(`outboxes drained ${Date.now() - started} ms after the last release`);
  }, 100_000);

  test('each inbox holds every message the other released, exactly once, in contiguous seqs', async () => {
    for (const d of [usToCn, cnToUs]) {
      const inbox = (await d.to.api<InboxItem[]>('GET', '/api/v1/inbox?limit=10000')).filter(
        (m) => m.from === d.from.party,
      );
      const ids = inbox.map((m) => m.id);
      expect(ids).toHaveLength(MESSAGES);
      expect(new Set(ids).size).toBe(MESSAGES);
      expect(new Set(ids)).toEqual(new Set(d.ids));
      const seqs = inbox.map((m) => m.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
      // The text each id arrived with is the one it was released with.
      const byId = new Map(inbox.map((m) => [m.id, m.body.text?.body]));
      for (const [i, id] of d.ids.entries()) expect(byId.get(id)).toBe(text(d, i));

      // The sender released each text once (no lost answer was released twice), and its
      // outbox marks every one receipted.
      const outbox = (await d.from.api<OutboxItem[]>('GET', '/api/v1/outbox?limit=10000')).filter(
        (r) => r.to === d.to.party,
      );
      expect(outbox).toHaveLength(MESSAGES);
      expect(new Set(outbox.map((r) => r.body.text?.body)).size).toBe(MESSAGES);
      expect(outbox.filter((r) => r.status !== 'receipted')).toEqual([]);
      expect(new Set(outbox.map((r) => r.id))).toEqual(new Set(d.ids));

      const peer = (await status(d.to)).peers.find((p) => p.party === d.from.party);
      expect(peer?.received).toBe(MESSAGES);
    }
  });

  test('no alarm was raised on either side: no equivocation, no bad receipt, no refusal', async () => {
    const [atUs, atCn] = await Promise.all([status(us), status(cn)]);
    // Each side's people are asked to acknowledge what arrived; nothing else is alarmed.
    expect(atUs.alarms.filter((a) => !ACK_ALARMS.has(a.type))).toEqual([]);
    expect(atCn.alarms.filter((a) => !ACK_ALARMS.has(a.type))).toEqual([]);
  });

  test('read back from each SQLite file, the receipts verify against the peer’s card and cover every message sent', async () => {
    await Promise.all([us.stop(), cn.stop()]);
    for (const d of [usToCn, cnToUs]) {
      const { outbox, verified, covered } = receiptsInFile(
        d.from.db,
        d.from.party,
        d.to.party,
        join(root, `${d.to.party}.card.json`),
      );
      const receiverDb = new Database(d.to.db, { readonly: true, fileMustExist: true });
      try {
        expect(outbox).toHaveLength(MESSAGES);
        expect(outbox.every((r) => r.status === 'receipted')).toBe(true);
        expect(verified.length).toBeGreaterThan(0);
        for (const v of verified) {
          expect(v.receipt.receipt.from).toBe(d.to.party);
          expect(v.receipt.receipt.to).toBe(d.from.party);
        }
        const uncovered = outbox
          .filter((r) => covered.get(r.id) !== r.header_hash)
          .map((r) => r.id);
        expect(uncovered).toEqual([]);
        expect(new Set(covered.keys())).toEqual(new Set(d.ids));
        const mine = new Map(outbox.map((r) => [r.id, r]));

        // The receiver stored each envelope under the header hash the sender signed.
        const inbox = receiverDb
          .prepare('SELECT id, seq, header_hash FROM inbox WHERE party = ?')
          .all(d.from.party) as Array<{ id: string; seq: number; header_hash: string }>;
        expect(inbox).toHaveLength(MESSAGES);
        for (const row of inbox) expect(row.header_hash).toBe(mine.get(row.id)?.header_hash);
      } finally {
        receiverDb.close();
      }
    }
  }, 60_000);
});
