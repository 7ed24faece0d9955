/**
 * More than two parties (issue 16): full meshes of 8 and 16 parties on loopback, each party a
 * `hotline serve` process of its own (SQLite, default heartbeats), every card pinned by every
 * other (test/support/mesh.ts). Every party releases routine messages to every other through its
 * operator API, all channels at once; the figure is messages per second from the first release
 * to the moment every outbox is empty (every message receipted and its receipt verified), and
 * each process's resident memory (VmRSS) idle after start and after the run.
 *
 * The floor, in the same run and harness: a mesh of 2 (one pair) carrying the same number of
 * messages. With N parties there are N × (N − 1) channels, N × (N − 1) heartbeat streams and
 * witness relations, and every batch is smaller (the same messages spread over more channels).
 *
 * `BENCH_MESH_MESSAGES` (default 960) messages in all per mesh; `BENCH_MESH_SIZES` (default
 * `2,8,16`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeStatus, Released } from '../src/protocol/views.ts';
import { initMesh, type Party } from '../test/support/mesh.ts';
import { draft } from '../test/support/pair.ts';
import type { BenchOptions } from './run.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = Number(process.env.BENCH_MESH_MESSAGES ?? 960);
const SIZES = (process.env.BENCH_MESH_SIZES ?? '2,8,16').split(',').map(Number);
/** Releases in flight at once, across all parties. */
const IN_FLIGHT = 32;
const RUN_TIMEOUT_MS = 600_000;
/** Each node's start, all started at once (a loaded machine starts 16 slowly). */
const START_TIMEOUT_MS = 300_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Running {
  party: Party;
  child: ChildProcess;
  url: string;
}

async function serve(party: Party, spawned: ChildProcess[]): Promise<Running> {
  const child = spawn(process.execPath, ['bin/hotline.js', 'serve', '--data', party.dir], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  spawned.push(child);
  const info = join(party.dir, 'node.json');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${party.party} exited while starting`);
    if (Date.now() > deadline)
      throw new Error(`${party.party} did not start in ${START_TIMEOUT_MS / 1000} s`);
    if (existsSync(info)) {
      try {
        const { pid, operatorUrl } = JSON.parse(readFileSync(info, 'utf8')) as {
          pid?: number;
          operatorUrl?: string;
        };
        if (pid === child.pid && operatorUrl) {
          const ok = await fetch(`${operatorUrl}/api/v1/status`, {
            headers: { authorization: `Bearer ${party.token}` },
          }).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) return { party, child, url: operatorUrl };
        }
      } catch {
        // node.json being written
      }
    }
    await sleep(100);
  }
}

async function api<T>(node: Running, method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${node.party.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${node.party.party} ${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Resident memory of a process, MiB (Linux /proc). */
function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

function memory(nodes: Running[]) {
  const each = nodes.map((n) => rssMiB(n.child.pid));
  const mean = each.reduce((a, b) => a + b, 0) / each.length;
  return { meanMiB: Math.round(mean * 10) / 10, maxMiB: Math.max(...each) };
}

export interface MeshFigures {
  parties: number;
  channels: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  idle: { meanMiB: number; maxMiB: number };
  loaded: { meanMiB: number; maxMiB: number };
}

async function runMesh(n: number): Promise<MeshFigures> {
  const { root, parties } = await initMesh(n, { logLevel: 'warn', heartbeatMs: 2000 });
  const nodes: Running[] = [];
  /** Every process started, served or not: all are stopped before the folders go. */
  const spawned: ChildProcess[] = [];
  try {
    const started = await Promise.allSettled(parties.map((party) => serve(party, spawned)));
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    // Let every pair exchange a first heartbeat (paths up, first checkpoints witnessed).
    await sleep(5000);
    const idle = memory(nodes);
    const channels = n * (n - 1);
    const perChannel = Math.max(1, Math.ceil(TOTAL / channels));
    // Interleaved: round k sends message k on every channel.
    const sends: Array<{ from: Running; to: string; k: number }> = [];
    for (let k = 0; k < perChannel; k++)
      for (const from of nodes)
        for (const to of nodes) if (to !== from) sends.push({ from, to: to.party.party, k });
    const began = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < sends.length) {
          const s = sends[next++];
          if (!s) break;
          await api<Released>(s.from, 'POST', '/api/v1/messages', {
            to: [s.to],
            message: draft({ text: { lang: 'en', body: `mesh ${s.k}` } }),
          });
        }
      }),
    );
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const pending = await Promise.all(
        nodes.map(async (node) =>
          (await api<NodeStatus>(node, 'GET', '/api/v1/status')).peers.reduce(
            (sum, p) => sum + p.outbox.pending,
            0,
          ),
        ),
      );
      if (pending.every((p) => p === 0)) break;
      if (Date.now() > deadline) throw new Error(`mesh of ${n}: still pending after the timeout`);
      await sleep(100);
    }
    const seconds = (performance.now() - began) / 1000;
    const messages = sends.length;
    return {
      parties: n,
      channels,
      messages,
      seconds: Math.round(seconds * 100) / 100,
      messagesPerSecond: Math.round(messages / seconds),
      idle,
      loaded: memory(nodes),
    };
  } finally {
    await Promise.all(
      spawned.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    rmSync(root, { recursive: true, force: true });
  }
}

export async function benchMesh(options: BenchOptions): Promise<MeshFigures[]> {
  const figures: MeshFigures[] = [];
  if (!options.json) {
    console.log('\n## Mesh: N parties, each a process, every pair pinned');
    console.log(
      `${TOTAL} routine messages in all per mesh, spread over every channel, ${IN_FLIGHT} releases in flight`,
    );
    console.log('parties  channels  messages   msg/s   idle RSS mean/max MiB  loaded RSS mean/max');
  }
  for (const n of SIZES) {
    const f = await runMesh(n);
    figures.push(f);
    if (!options.json)
      console.log(
        `${String(n).padStart(7)}  ${String(f.channels).padStart(8)}  ${String(f.messages).padStart(8)}  ${String(f.messagesPerSecond).padStart(6)}   ${`${f.idle.meanMiB} / ${f.idle.maxMiB}`.padStart(20)}  ${`${f.loaded.meanMiB} / ${f.loaded.maxMiB}`.padStart(18)}${n === 2 ? '   (floor: one pair)' : ''}`,
      );
  }
  return figures;
}
