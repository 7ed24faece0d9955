/**
 * Chaos: Washington (us) and Beijing (cn) run `hotline serve` in their own processes and reach
 * each other over two direct paths of pinned mutual TLS (protocol 2) — each through a seeded
 * fault-injecting proxy that, holding both nodes' TLS keys, drops, delays, duplicates, reorders
 * and corrupts the requests inside TLS and cuts the path on a random schedule — plus a relay. Each releases MESSAGES messages to the other while either node is SIGKILLed at
 * random moments and, twice, both direct paths towards one node are cut at once so only the relay
 * carries traffic. Afterwards every message is in the peer's inbox exactly once, every outbox row
 * is receipted by a receipt that verifies against the peer's card, and both ledgers, exported,
 * verify with each other's view: consistent and co-signed.
 *
 * The seed is printed; HOTLINE_CHAOS_SEED=<n> replays the same fault schedule (the timing of the
 * processes still varies). HOTLINE_SOAK=1 runs the longer soak used by the bench (10,000
 * messages each way and 12 kills; HOTLINE_CHAOS_MESSAGES=<n> sets the messages each way).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readOwnCard } from '../../src/node/core/data.ts';
import { type RunningRelay, startRelay } from '../../src/relay/server.ts';
import { FAULTS, type Fault, FaultProxy, prng } from '../support/faultproxy.ts';
import { proxyTls } from '../support/tls.ts';
import {
  BEIJING,
  HotlineNode,
  hotline,
  type InboxItem,
  killAll,
  receiptsInFile,
  releaseOnce,
  removeUnlessKept,
  type Settings,
  type Status,
  sleep,
  until,
  WASHINGTON,
} from './nodes.ts';

const SOAK = Boolean(process.env.HOTLINE_SOAK);
const SEED = Number(process.env.HOTLINE_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Messages each way. */
const MESSAGES = Number(process.env.HOTLINE_CHAOS_MESSAGES ?? (SOAK ? 10_000 : 1000));
/** SIGKILLs over the run, at evenly spread points, of a node picked by the seed. */
const KILLS = SOAK ? 12 : 4;
/** Points (fractions of the run) where both direct paths towards one node are cut. */
const BLACKOUTS = [0.3, 0.65];
const BLACKOUT_MS = 3000;
const PARALLEL = 8;
/** How long any one phase may wait for progress. */
const PATIENCE_MS = SOAK ? 1_800_000 : 120_000;
const MAX_LEAD = 100;

const RATES = { drop: 0.03, delay: 0.04, duplicate: 0.03, reorder: 0.03, corrupt: 0.03 };

const random = prng(SEED);

const SETTINGS: Settings = {
  heartbeatMs: 500,
  logLevel: process.env.HOTLINE_CHAOS_LOG ?? 'warn',
  relayPollMs: 250,
  outbox: { backoffBaseMs: 100, backoffMaxMs: 2000, sendTimeoutMs: 3000, failoverMs: 500 },
};

interface Direction {
  from: HotlineNode;
  to: HotlineNode;
  ids: string[];
  released: number;
}

const text = (d: Direction, i: number) => `${d.from.party} to ${d.to.party}: chaos message ${i}`;

/** Releases message `i` exactly once, even when the sender is killed with the answer in flight. */
async function releaseOnceIn(d: Direction, i: number): Promise<string> {
  const flash = i % 10 === 0;
  return (await releaseOnce(d.from, d.to.party, text(d, i), flash ? 'flash' : 'routine', 20)).id;
}

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

const status = (node: HotlineNode) => node.api<Status>('GET', '/api/v1/status');

describe(`chaos: two paths with faults, a relay, SIGKILLs and partitions (seed ${SEED})`, () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  let relay: RunningRelay;
  /** Two proxies in front of each node's federation listener: its direct and alternate paths. */
  const proxies: Record<string, FaultProxy[]> = {};
  let usToCn: Direction;
  let cnToUs: Direction;
  const faultCounts = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotline-chaos-'));
    console.info(`chaos seed ${SEED} (replay with HOTLINE_CHAOS_SEED=${SEED})`);
  });

  afterAll(async () => {
    await killAll();
    for (const list of Object.values(proxies)) for (const p of list) await p.close();
    await relay?.stop();
    removeUnlessKept(root);
  });

  test('two nodes, each behind two faulty paths, and a relay', async () => {
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, SETTINGS),
      HotlineNode.init(root, BEIJING, SETTINGS),
    ]);
    relay = await startRelay(
      {
        data: join(root, 'relay'),
        limits: { maxBytes: 512 * 1024 * 1024, maxItemsPerBox: 200_000 },
        cards: [readOwnCard(us.dir).card, readOwnCard(cn.dir).card],
        logger: pino({ level: 'warn' }),
      },
      '127.0.0.1:0',
    );
    let k = 0;
    for (const [node, peer] of [
      [us, cn],
      [cn, us],
    ] as const) {
      const port = Number(node.listen.split(':').pop());
      // Pinned mutual TLS end to end: each proxy holds both keys to fault the requests inside.
      const tls = proxyTls(node.dir, peer.dir);
      proxies[node.party] = await Promise.all(
        ['direct', 'alternate'].map((name) =>
          FaultProxy.start({
            name: `${name} to ${node.party}`,
            targetPort: port,
            seed: SEED + ++k,
            rates: RATES,
            delayMs: [10, 150],
            reorderMs: [100, 600],
            partitions: { gapMs: [5000, 15_000], lengthMs: [500, 2000] },
            tls,
          }),
        ),
      );
    }
    for (const [node, peer] of [
      [us, cn],
      [cn, us],
    ] as const) {
      const [direct, alternate] = proxies[peer.party] as [FaultProxy, FaultProxy];
      node.configure({
        paths: {
          [peer.party]: [
            { id: 'direct', kind: 'direct', url: direct.url, priority: 0 },
            { id: 'alternate', kind: 'direct', url: alternate.url, priority: 10 },
            // The relay, too, over pinned mutual TLS: each node pins its certificate.
            { id: 'relay', kind: 'relay', url: relay.url, priority: 50, pin: relay.pin },
          ],
        },
      });
    }
    await Promise.all([us.exportCard(), cn.exportCard()]);
    await Promise.all([us.pin(cn), cn.pin(us)]);
    await Promise.all([us.start(), cn.start()]);
    usToCn = { from: us, to: cn, ids: [], released: 0 };
    cnToUs = { from: cn, to: us, ids: [], released: 0 };
    const paths = (await status(us)).peers[0] as unknown as { paths: Array<{ path: string }> };
    expect(paths.paths.map((p) => p.path).sort()).toEqual(['alternate', 'direct', 'relay']);
  }, 120_000);

  test(
    `each releases ${MESSAGES} messages while nodes are killed and paths cut`,
    async () => {
      const nodes = [us, cn];
      const progress = () => Math.min(usToCn.released, cnToUs.released) / MESSAGES;
      const kills: string[] = [];
      const chaos = async () => {
        const events = [
          ...Array.from({ length: KILLS }, (_, i) => ({ at: (i + 0.5) / KILLS, kind: 'kill' })),
          ...BLACKOUTS.map((at) => ({ at, kind: 'blackout' })),
        ].sort((a, b) => a.at - b.at);
        for (const event of events) {
          await until(`${event.kind} at ${event.at}`, () => progress() >= event.at, PATIENCE_MS, 5);
          const victim = nodes[Math.floor(random() * 2)] as HotlineNode;
          if (event.kind === 'kill') {
            kills.push(victim.party);
            await victim.restart(Math.floor(200 + random() * 800));
          } else for (const p of proxies[victim.party] ?? []) p.partition(BLACKOUT_MS);
        }
      };
      await Promise.all([sendAll(usToCn, cnToUs), sendAll(cnToUs, usToCn), chaos()]);
      expect(kills).toHaveLength(KILLS);
      for (const d of [usToCn, cnToUs]) expect(new Set(d.ids).size).toBe(MESSAGES);
      console.info(`killed in turn: ${kills.join(', ')}`);
    },
    PATIENCE_MS * 5,
  );

  test('every kind of fault was injected, and the relay carried traffic', async () => {
    const counts = faultCounts;
    let requests = 0;
    for (const list of Object.values(proxies))
      for (const p of list) {
        requests += p.requests;
        for (const f of FAULTS) counts[f] += p.counts[f];
        p.calm();
      }
    console.info(
      `seed ${SEED}: ${requests} requests through the proxies; faults injected ${JSON.stringify(counts)}; relay stored ${JSON.stringify(relay.boxes.stored)}`,
    );
    for (const f of FAULTS) expect(counts[f], f).toBeGreaterThan(0);
    expect(relay.boxes.stored.envelope).toBeGreaterThan(0);
    expect(relay.boxes.stored.answer).toBeGreaterThan(0);
  });

  test(
    'both outboxes drain',
    async () => {
      await until(
        'both outboxes to drain',
        async () => {
          const [atUs, atCn] = await Promise.all([status(us), status(cn)]);
          return atUs.peers[0]?.outbox.pending === 0 && atCn.peers[0]?.outbox.pending === 0;
        },
        PATIENCE_MS,
        250,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n--- us ---\n${us.logTail()}\n--- cn ---\n${cn.logTail()}`);
      });
    },
    PATIENCE_MS + 10_000,
  );

  test('every message is in the peer’s inbox exactly once, in contiguous seqs, with its text', async () => {
    let lost = 0;
    let duplicated = 0;
    for (const d of [usToCn, cnToUs]) {
      const inbox = (
        await d.to.api<InboxItem[]>('GET', `/api/v1/inbox?limit=${Math.min(10_000, MESSAGES * 2)}`)
      ).filter((m) => m.from === d.from.party);
      const shown = new Set(inbox.map((m) => m.id));
      lost += d.ids.filter((id) => !shown.has(id)).length;
      duplicated += inbox.length - shown.size;
      expect(inbox).toHaveLength(MESSAGES);
      expect(new Set(inbox.map((m) => m.id))).toEqual(new Set(d.ids));
      expect(inbox.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: MESSAGES }, (_, i) => i + 1),
      );
      const byId = new Map(inbox.map((m) => [m.id, m.body.text?.body]));
      for (const [i, id] of d.ids.entries()) expect(byId.get(id)).toBe(text(d, i));
    }
    console.info(
      `SOAK ${JSON.stringify({ seed: SEED, messages: MESSAGES * 2, kills: KILLS, faults: faultCounts, lost, duplicated })}`,
    );
  });

  test('no equivocation or fork was alarmed: what faults cause is refused, never believed', async () => {
    for (const node of [us, cn]) {
      const { alarms } = await status(node);
      const serious = alarms.filter((a) => a.type === 'equivocation' || a.type === 'fork');
      expect(serious).toEqual([]);
    }
  });

  test('every receipt verifies against the peer’s card and covers every message', async () => {
    await Promise.all([us.stop(), cn.stop()]);
    for (const d of [usToCn, cnToUs]) {
      const { outbox, covered } = receiptsInFile(
        d.from.db,
        d.from.party,
        d.to.party,
        join(root, `${d.to.party}.card.json`),
      );
      expect(outbox).toHaveLength(MESSAGES);
      expect(outbox.filter((r) => r.status !== 'receipted')).toEqual([]);
      expect(outbox.filter((r) => covered.get(r.id) !== r.header_hash)).toEqual([]);
    }
  }, 60_000);

  test('both ledgers, exported, verify against each other: consistent and co-signed', async () => {
    const files = [];
    for (const node of [us, cn]) {
      const out = join(root, `${node.party}.bundle.jsonl`);
      const result = await hotline(['export', '--data', node.dir, '--out', out], 120_000);
      expect(result.code, result.stderr).toBe(0);
      files.push(out);
    }
    const result = await hotline(
      ['verify', files[0] as string, '--peer-export', files[1] as string, '--json'],
      180_000,
    );
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      bundles: Array<{ counts: { cosignatures: number } }>;
    };
    expect(result.code, result.stdout.slice(0, 2000)).toBe(0);
    expect(report.ok).toBe(true);
    for (const bundle of report.bundles) expect(bundle.counts.cosignatures).toBeGreaterThan(0);
  }, 400_000);
});
