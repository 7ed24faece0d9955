/**
 * Node figures (issue: nodes): flash send → verified receipt latency for single messages, and
 * sustained throughput with receipts verified, beside floors measured in the same run: a bare
 * Fastify POST round trip, one durable SQLite commit, and the per-message crypto bound. The nodes
 * speak pinned mutual TLS (protocol 2); beside them, in the same run, the same flash latency
 * between two nodes on plain keep-alive HTTP (protocol 1), and the cost of a TLS handshake, a
 * resumed one and a plain TCP connect.
 *
 * The sender (us) runs in this process, so the bench sees the moment each receipt is verified;
 * the receiver (cn) runs as its own process, as in production. Both nodes and the load
 * generator share this machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import type { RunningNode } from '../src/app/start.ts';
import { startNode } from '../src/app/start.ts';
import { makeTlsIdentity, spkiPin } from '../src/crypto/tls.ts';
import { createPair, draft } from '../test/support/pair.ts';
import { freePort } from '../test/support/ports.ts';

const SINGLE_MESSAGES = Number(process.env.BENCH_SINGLE ?? 300);
/** Flash messages sent before measuring: epochs, connections, JIT. */
const WARM_UP = 50;
const THROUGHPUT_MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);

/** Linux reports process CPU time in clock ticks of 1/100 s. */
const CLOCK_TICKS = 100;

/** User + system CPU time of a process so far, in clock ticks (Linux /proc). */
function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

/** A bare Fastify POST round trip over loopback, with a ~1 KB JSON body. */
async function fastifyRoundTrip(): Promise<number> {
  const app = Fastify();
  app.post('/echo', async (request) => ({ ok: true, size: JSON.stringify(request.body).length }));
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  const body = JSON.stringify({ data: 'x'.repeat(1000) });
  const samples: number[] = [];
  for (let i = 0; i < 1200; i++) {
    const t = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await r.json();
    if (i >= 200) samples.push(performance.now() - t);
  }
  await app.close();
  return summary(samples).p50;
}

/** TLS connection costs on loopback, as the nodes make them: client certificate and pin check. */
async function tlsConnections(): Promise<TlsFigures> {
  const [server, client] = await Promise.all([makeTlsIdentity('cn'), makeTlsIdentity('us')]);
  const listener = tlsServer({
    key: server.key,
    cert: server.cert,
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
  });
  listener.on('secureConnection', (socket: TLSSocket) => {
    const raw = socket.getPeerCertificate().raw;
    socket.end(raw && spkiPin(raw) === client.pin ? 'ok' : 'no');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
  let session: Buffer | undefined;
  const once = (resume: boolean) =>
    new Promise<number>((resolve, reject) => {
      const t = performance.now();
      const socket = tlsConnect({
        port,
        host: '127.0.0.1',
        key: client.key,
        cert: client.cert,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: false,
        ...(resume && session ? { session } : {}),
      });
      // TLS 1.3 sends its session ticket after the handshake: the connection is kept until the
      // server's end, so the ticket of a full handshake is there for the next one to resume.
      socket.on('session', (s: Buffer) => {
        if (!resume) session = s;
      });
      socket.once('error', reject);
      let ms = 0;
      socket.once('data', (answer) => {
        ms = performance.now() - t;
        // A resumed handshake carries no certificate: the ticket is the pinned server's.
        const ok = resume
          ? socket.isSessionReused()
          : spkiPin(socket.getPeerCertificate().raw) === server.pin;
        if (String(answer) !== 'ok' || !ok) reject(new Error('pin check or resumption failed'));
      });
      socket.once('close', () => resolve(ms));
      socket.resume();
    });
  const plain = () =>
    new Promise<number>((resolve, reject) => {
      const t = performance.now();
      const socket = netConnect(port, '127.0.0.1', () => {
        resolve(performance.now() - t);
        socket.destroy();
      });
      socket.once('error', reject);
    });
  const full: number[] = [];
  const resumed: number[] = [];
  const tcp: number[] = [];
  for (let i = 0; i < 220; i++) {
    const [a, b, c] = [await once(false), await once(true), await plain()];
    if (i >= 20) {
      full.push(a);
      resumed.push(b);
      tcp.push(c);
    }
  }
  listener.close();
  return {
    tcpConnectMs: summary(tcp).p50,
    fullHandshakeMs: summary(full).p50,
    resumedHandshakeMs: summary(resumed).p50,
  };
}

/** Flash send → verified receipt between two nodes of `pair`, one message at a time. */
async function flashLatency(
  sender: RunningNode,
  receiverOperator: string,
): Promise<{ flash: NodeFigures['flash']; counts: ReceiverCounts }> {
  const latencies: number[] = [];
  const flashOne = async (i: number) => {
    const t = performance.now();
    const receipted = receiptOf(sender);
    const { id } = await sender.node.release(['cn'], draft({ precedence: 'flash' }));
    await receipted(id);
    if (i >= WARM_UP) latencies.push(performance.now() - t);
  };
  // Warm up: epochs, connections (and TLS sessions), JIT.
  for (let i = 0; i < WARM_UP; i++) await flashOne(i);
  const counts = await countReceiver(receiverOperator, async () => {
    for (let i = WARM_UP; i < WARM_UP + SINGLE_MESSAGES; i++) await flashOne(i);
  });
  return { flash: summary(latencies), counts };
}

/** Flash latency between two nodes on protocol 1: plain keep-alive HTTP, no TLS. */
async function plainFlash(): Promise<NodeFigures['flash']> {
  const pair = await createPair({ logLevel: 'warn', heartbeatMs: 2000 }, undefined, {
    version1: ['us', 'cn'],
  });
  const receiver = await spawnNode(pair.cn.dir, pair.cn.operatorListen);
  const sender = await startNode(pair.us.dir, { logLevel: 'warn' });
  try {
    return (await flashLatency(sender, pair.cn.operatorListen)).flash;
  } finally {
    await sender.stop();
    receiver.kill('SIGTERM');
    await new Promise((r) => receiver.once('exit', r));
    await pair.close();
  }
}

/** One durable SQLite commit (WAL, synchronous = FULL), as the node configures it. */
function durableCommit(): number {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-sqlite-'));
  const db = new Database(join(dir, 'bench.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table t (id integer primary key, v text)');
  const insert = db.prepare('insert into t (v) values (?)');
  const samples: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    db.transaction(() => insert.run('x'.repeat(1000)))();
    if (i >= 50) samples.push(performance.now() - t);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return summary(samples).p50;
}

/** A `hotline serve` process on `dir` (dist/, as users run it), once its operator API answers. */
export async function spawnNode(dir: string, operatorListen: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/hotline.js', 'serve', '--data', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Up to a minute: on a busy machine, loading the sources through tsx alone can take 10 s.
  for (let i = 0; i < 1200; i++) {
    try {
      await fetch(`http://${operatorListen}/openapi.json`);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the node in ${dir} did not start`);
}

/** A node's Prometheus counters, summed per metric name and the label filter given. */
export async function counters(operatorListen: string) {
  const text = await (
    await fetch(`http://${operatorListen}/metrics`, { signal: AbortSignal.timeout(10_000) })
  ).text();
  return (name: string, label = '') => {
    let sum = 0;
    for (const line of text.split('\n'))
      if (line.startsWith(`${name}{`) && line.includes(label))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  };
}

/** What the receiver did for a run of messages, counted (not timed) from its metrics. */
interface ReceiverCounts {
  /** Durable commits (ledger units of work) per message received. */
  commitsPerMessage: number;
  /** Batches posted to it per message (POST /federation/v1/envelopes). */
  batchesPerMessage: number;
  /** Consistency proofs fetched from it per message (the second round trip of a receipt). */
  proofRequestsPerMessage: number;
}

/** Runs `work` and counts what the receiver did for the messages it received meanwhile. */
async function countReceiver(operatorListen: string, work: () => Promise<void>) {
  const before = await counters(operatorListen);
  await work();
  const after = await counters(operatorListen);
  const delta = (name: string, label = '') => after(name, label) - before(name, label);
  const received = delta('hotline_messages_received_total');
  return {
    commitsPerMessage: delta('hotline_ledger_commits_total') / received,
    batchesPerMessage:
      delta('hotline_federation_requests_total', 'route="/federation/v1/envelopes"') / received,
    proofRequestsPerMessage:
      delta('hotline_federation_requests_total', 'route="/federation/v1/proof/consistency"') /
      received,
  };
}

interface TlsFigures {
  tcpConnectMs: number;
  fullHandshakeMs: number;
  resumedHandshakeMs: number;
}

export interface NodeFigures {
  floors: {
    fastifyRoundTripMs: number;
    durableCommitMs: number;
    /** The crypto bound (messages/s per core) right before and after the throughput run. */
    throughputBound?: [number, number];
  };
  /** Over pinned mutual TLS (protocol 2), warm connections. */
  flash: { p50: number; p99: number; n: number };
  /** The same between two nodes on plain keep-alive HTTP (protocol 1), in the same run. */
  plainFlash: { p50: number; p99: number; n: number };
  tls: TlsFigures;
  /** Counted on the receiver while the single flash messages were measured. */
  flashCounts: ReceiverCounts;
  /** Counted on the receiver during the throughput run. */
  throughputCounts: ReceiverCounts;
  /** senderCpu: cores the sender's process kept busy (1 = one core all the time). */
  throughput: {
    messages: number;
    seconds: number;
    perSecond: number;
    senderCpu: number;
    receiverCpu: number;
  };
}

/**
 * `cryptoBoundPerSecond` and `signVerifyMs` are the floors measured before the module;
 * `measureBound` measures the crypto bound again, right before and after the throughput run,
 * whose target is half their mean (this machine's speed drifts by a third in minutes).
 */
export async function benchNode(
  cryptoBoundPerSecond?: number,
  signVerifyMs?: number,
  measureBound?: () => Promise<number>,
): Promise<NodeFigures> {
  const fastifyRoundTripMs = await fastifyRoundTrip();
  const durableCommitMs = durableCommit();
  const tls = await tlsConnections();
  const plain = await plainFlash();

  const pair = await createPair({ logLevel: 'warn', heartbeatMs: 2000 });
  const receiver = await spawnNode(pair.cn.dir, pair.cn.operatorListen);
  const sender = await startNode(pair.us.dir, { logLevel: 'warn' });
  try {
    const node = sender.node;
    const { flash, counts: flashCounts } = await flashLatency(sender, pair.cn.operatorListen);

    const boundBefore = await measureBound?.();
    let seconds = 0;
    let senderCpu = 0;
    let receiverCpu = 0;
    const throughputCounts = await countReceiver(pair.cn.operatorListen, async () => {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const receiverTicks = cpuTicks(receiver.pid);
      const all = allReceipted(sender, THROUGHPUT_MESSAGES);
      const releases: Promise<unknown>[] = [];
      for (let i = 0; i < THROUGHPUT_MESSAGES; i++) {
        releases.push(
          node.release(
            ['cn'],
            draft({ precedence: 'routine', text: { lang: 'en', body: `load ${i}` } }),
          ),
        );
        if (releases.length >= 512) await Promise.all(releases.splice(0));
      }
      await Promise.all(releases);
      await all;
      seconds = (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu);
      senderCpu = (used.user + used.system) / 1e6 / seconds;
      receiverCpu = (cpuTicks(receiver.pid) - receiverTicks) / CLOCK_TICKS / seconds;
    });
    const boundAfter = await measureBound?.();
    const figures: NodeFigures = {
      floors: {
        fastifyRoundTripMs,
        durableCommitMs,
        ...(boundBefore && boundAfter ? { throughputBound: [boundBefore, boundAfter] } : {}),
      },
      flash,
      plainFlash: plain,
      tls,
      flashCounts,
      throughputCounts,
      throughput: {
        messages: THROUGHPUT_MESSAGES,
        seconds,
        perSecond: THROUGHPUT_MESSAGES / seconds,
        senderCpu,
        receiverCpu,
      },
    };
    print(figures, cryptoBoundPerSecond, signVerifyMs);
    return figures;
  } finally {
    await sender.stop();
    receiver.kill('SIGTERM');
    await new Promise((r) => receiver.once('exit', r));
    await pair.close();
  }
}

/** Resolves when `id` is receipted; listens before the release so no event is missed. */
function receiptOf({ events }: RunningNode) {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  const on = (_party: string, done: string[]) => {
    for (const id of done) {
      seen.add(id);
      waiters.get(id)?.();
    }
  };
  events.on('receipted', on);
  return (id: string) =>
    new Promise<void>((resolve) => {
      const finish = () => {
        events.off('receipted', on);
        resolve();
      };
      if (seen.has(id)) finish();
      else waiters.set(id, finish);
    });
}

/** Resolves when `count` distinct ids have been receipted. */
function allReceipted({ events }: RunningNode, count: number) {
  const seen = new Set<string>();
  return new Promise<void>((resolve) => {
    const on = (_party: string, done: string[]) => {
      for (const id of done) seen.add(id);
      if (seen.size >= count) {
        events.off('receipted', on);
        resolve();
      }
    };
    events.on('receipted', on);
  });
}

function print(f: NodeFigures, cryptoBound?: number, signVerifyMs?: number): void {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const target =
    2 * (f.floors.fastifyRoundTripMs + 2 * f.floors.durableCommitMs + (signVerifyMs ?? 0));
  console.log('\n## Nodes');
  console.log('floor: bare Fastify POST round trip (p50)      ', ms(f.floors.fastifyRoundTripMs));
  console.log('floor: one durable SQLite commit (p50)         ', ms(f.floors.durableCommitMs));
  if (cryptoBound !== undefined)
    console.log('floor: crypto bound, messages/s per core       ', cryptoBound.toFixed(0));
  console.log(
    `flash send → verified receipt p50 / p99 (n=${f.flash.n})`,
    ms(f.flash.p50),
    '/',
    ms(f.flash.p99),
  );
  console.log(
    '  target p50 ≤ 2 × (round trip + 2 commits + sign/verify) =',
    ms(target),
    f.flash.p50 <= target ? '(met)' : '(missed)',
  );
  console.log(
    `floor: the same on plain keep-alive HTTP, p50 / p99 (n=${f.plainFlash.n})`,
    ms(f.plainFlash.p50),
    '/',
    ms(f.plainFlash.p99),
  );
  const overhead = f.flash.p50 / f.plainFlash.p50 - 1;
  console.log(
    `  mTLS flash over plain: ${(overhead * 100).toFixed(1)} % (target ≤ 10 %)`,
    overhead <= 0.1 ? '(met)' : '(missed)',
  );
  console.log('floor: TCP connect on loopback (p50)           ', ms(f.tls.tcpConnectMs));
  console.log('mutual TLS 1.3 handshake, pin checked (p50)    ', ms(f.tls.fullHandshakeMs));
  console.log('  the same, session resumed (p50)              ', ms(f.tls.resumedHandshakeMs));
  console.log(
    `throughput, ${f.throughput.messages} messages, receipts verified `,
    `${f.throughput.perSecond.toFixed(0)} msg/s (${f.throughput.seconds.toFixed(1)} s; busy: sender ${(f.throughput.senderCpu * 100).toFixed(0)}%, receiver ${(f.throughput.receiverCpu * 100).toFixed(0)}% of a core)`,
  );
  const [before, after] = f.floors.throughputBound ?? [];
  const bound = before && after ? (before + after) / 2 : cryptoBound;
  if (before && after)
    console.log(
      'floor: crypto bound right before / after it     ',
      `${before.toFixed(0)} / ${after.toFixed(0)} messages/s per core`,
    );
  if (bound !== undefined)
    console.log(
      '  target ≥ 50% of the crypto bound =',
      (bound / 2).toFixed(0),
      'msg/s',
      f.throughput.perSecond >= bound / 2 ? '(met)' : '(missed)',
    );
  // Counts, not timings: they hold on a loaded machine.
  const counts = (what: string, c: ReceiverCounts) =>
    console.log(
      `receiver, per message (${what}): durable commits ${c.commitsPerMessage.toFixed(3)}, ` +
        `round trips ${(c.batchesPerMessage + c.proofRequestsPerMessage).toFixed(3)} ` +
        `(batches ${c.batchesPerMessage.toFixed(3)}, consistency proofs ${c.proofRequestsPerMessage.toFixed(3)})`,
    );
  counts('flash one at a time', f.flashCounts);
  counts('throughput', f.throughputCounts);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchNode();
