/**
 * Replicas (issue 16): leader takeover time — SIGKILL of the lease holder until a message
 * released right after the kill is receipted by the peer — over KILLS kills, p50/p90, beside its
 * floor (the lease length: no follower may take an unexpired lease); and throughput and flash
 * latency of Washington on PostgreSQL (three replicas) beside the same on SQLite (one node), in the
 * same run. Every node is a `hotline serve` process (test/integration/nodes.ts) on loopback; the
 * peer, Beijing, is one node on SQLite. Run `npm run build:node` first (the processes run dist/).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BEIJING,
  draft,
  HotlineNode,
  killAll,
  type OutboxItem,
  removeUnlessKept,
  type Settings,
  type Status,
  sleep,
  until,
  WASHINGTON,
} from '../test/integration/nodes.ts';
import { dropSchemas, TEST_POSTGRES } from '../test/support/postgres.ts';
import type { BenchOptions } from './run.ts';

const KILLS = Number(process.env.HOTLINE_BENCH_KILLS ?? 10);
const MESSAGES = 300;
const FLASHES = 20;
const LEASE_MS = 3000;

const SETTINGS: Settings = {
  heartbeatMs: 500,
  logLevel: 'warn',
  outbox: { backoffBaseMs: 100, backoffMaxMs: 1000, sendTimeoutMs: 2000, failoverMs: 500 },
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: Math.round(percentile(s, 50)),
    p90: Math.round(percentile(s, 90)),
    max: Math.round(s.at(-1) ?? 0),
  };
}

const release = async (via: HotlineNode, to: string, text: string, flash: boolean) =>
  (
    await via.api<{ id: string }>('POST', '/api/v1/messages', {
      to: [to],
      message: draft(text, flash ? 'flash' : 'routine'),
    })
  ).id;

/** Polls `via`'s newest outbox rows until `id` is receipted; answers when that was seen. */
async function receipted(via: HotlineNode, id: string): Promise<number> {
  await until(
    `${id} receipted`,
    async () => {
      const rows = await via.api<OutboxItem[]>('GET', '/api/v1/outbox?limit=20').catch(() => []);
      return rows.find((r) => r.id === id)?.status === 'receipted';
    },
    60_000,
    5,
  );
  return performance.now();
}

/** Messages per second released through `via` (8 at a time) until all are receipted. */
async function throughput(via: HotlineNode, to: string): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < MESSAGES) await release(via, to, `throughput ${next++}`, false);
    }),
  );
  await until(
    'the outbox to drain',
    async () => (await via.api<Status>('GET', '/api/v1/status')).peers[0]?.outbox.pending === 0,
    120_000,
    20,
  );
  return Math.round(MESSAGES / ((performance.now() - started) / 1000));
}

/** Release → receipted, one flash at a time, in ms. */
async function flashLatency(via: HotlineNode, to: string) {
  const samples: number[] = [];
  for (let i = 0; i < FLASHES; i++) {
    const started = performance.now();
    const id = await release(via, to, `flash ${i}`, true);
    samples.push((await receipted(via, id)) - started);
  }
  return summary(samples);
}

async function party(root: string, replicas: number, schema: string) {
  const us = replicas
    ? await HotlineNode.replicas(root, replicas, SETTINGS, {
        url: TEST_POSTGRES,
        schema,
        leaseMs: LEASE_MS,
      })
    : [await HotlineNode.init(root, WASHINGTON, SETTINGS)];
  const first = us[0] as HotlineNode;
  const cn = await HotlineNode.init(root, BEIJING, SETTINGS);
  await first.pin(cn);
  await cn.pin(first);
  for (const node of [...us, cn]) await node.start();
  return { us, cn };
}

async function takeovers(us: HotlineNode[]): Promise<number[]> {
  const samples: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const leader = await until(
      'a leader',
      async () => {
        for (const r of us)
          if ((await r.replicaMetrics().catch(() => undefined))?.leading) return r;
        return undefined;
      },
      30_000,
      50,
    );
    const follower = us.find((r) => r !== leader) as HotlineNode;
    const killed = performance.now();
    await leader.kill();
    const id = await release(follower, 'cn', `after kill ${k}`, true);
    samples.push((await receipted(follower, id)) - killed);
    await leader.start();
    await sleep(500);
  }
  return samples;
}

export async function benchReplicas(options: BenchOptions) {
  const schema = `hotline_bench_${randomBytes(4).toString('hex')}`;
  const roots: string[] = [];
  try {
    const figures: Record<string, unknown> = {};
    for (const [name, replicas] of [
      ['sqlite', 0],
      ['postgres', 3],
    ] as const) {
      const root = mkdtempSync(join(tmpdir(), `hotline-bench-replicas-${name}-`));
      roots.push(root);
      const { us } = await party(root, replicas, schema);
      const via = us[us.length - 1] as HotlineNode;
      figures[name] = {
        messagesPerSecond: await throughput(via, 'cn'),
        flashMs: await flashLatency(via, 'cn'),
      };
      if (replicas) figures.takeoverMs = { ...summary(await takeovers(us)), floorMs: LEASE_MS };
      await killAll();
    }
    if (!options.json) {
      console.log('\nreplicas (us → cn over loopback, each node a process)');
      for (const name of ['sqlite', 'postgres'] as const) {
        const f = figures[name] as { messagesPerSecond: number; flashMs: { p50: number } };
        console.log(
          `  ${name.padEnd(8)} ${String(f.messagesPerSecond).padStart(5)} messages/s receipted; flash release → receipted p50 ${f.flashMs.p50} ms`,
        );
      }
      const t = figures.takeoverMs as ReturnType<typeof summary> & { floorMs: number };
      console.log(
        `  takeover after SIGKILL of the leader → next message receipted: p50 ${t.p50} ms, p90 ${t.p90} ms, max ${t.max} ms over ${t.n} kills (floor: lease ${t.floorMs} ms)`,
      );
    }
    return figures;
  } finally {
    await killAll();
    await dropSchemas(schema);
    for (const root of roots) removeUnlessKept(root);
  }
}
