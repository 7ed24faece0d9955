/**
 * Memory under a stream of messages (issue 19: "RSS after 50,000 messages within 20 % of after
 * 5,000"): two `hotline serve` processes, Washington (us) sending and Beijing (cn) receiving, as
 * users run them (compiled dist/; run `npm run build:node` first). Messages go in through the
 * sender's operator API, as the CLI and console send them, a window at a time; the stream pauses
 * at each mark until every message released so far has a verified receipt, and the resident
 * memory (/proc/PID/status VmRSS) and V8 heap (the node's own /metrics) of both processes are
 * read there. At the first mark and the last, the nodes are left idle for SETTLE_MS first, and
 * the lowest RSS of each second of it is kept too: V8 gives its spare heap pages back only some
 * seconds into an idle spell (its memory reducer), so a reading at one moment is partly GC timing.
 * No garbage collection is forced: a user's node runs with none.
 *
 * BENCH_MEMORY_FIRST and BENCH_MEMORY_MESSAGES (default 5,000 and 50,000) set the two marks that
 * are compared; marks in between fall every FIRST messages. If neither a release nor a receipt
 * happens for STALL_MS, the run stops with what it saw.
 */
import type { ChildProcess } from 'node:child_process';
import { readToken } from '../src/node/core/paths.ts';
import { createPair, draft, type Site } from '../test/support/pair.ts';
import { rssMiB } from './cli.ts';
import { counters, spawnNode } from './node.ts';
import type { BenchOptions } from './run.ts';

const FIRST = Number(process.env.BENCH_MEMORY_FIRST ?? 5_000);
const MESSAGES = Number(process.env.BENCH_MEMORY_MESSAGES ?? 50_000);
const SETTLE_MS = Number(process.env.BENCH_MEMORY_SETTLE_MS ?? 30_000);
const STALL_MS = Number(process.env.BENCH_MEMORY_STALL_MS ?? 60_000);
/** Releases in flight at once through the operator API. */
const WINDOW = 32;
/** Released but not yet receipted messages at most before the stream waits for receipts. */
const BACKLOG = 2_000;
/** The target: RSS after MESSAGES within this fraction of RSS after FIRST. */
const TARGET_GROWTH = 0.2;

const MiB = 2 ** 20;

export interface ProcessMemory {
  rssMiB: number;
  /** The anonymous part of RSS (heaps: V8's, SQLite's, OpenSSL's), not files mapped in. */
  anonMiB: number;
  heapUsedMiB: number;
  /** The V8 heap's size as allocated from the system: used, garbage and free pages kept. */
  heapTotalMiB: number;
  externalMiB: number;
  /** At a settled mark: the lowest RSS sampled each second of the idle spell. */
  idleLowMiB?: number;
}

export interface MemoryMark {
  messages: number;
  /** Whether the nodes were left idle SETTLE_MS before the reading. */
  settled: boolean;
  /** Seconds since the stream began. */
  at: number;
  sender: ProcessMemory;
  receiver: ProcessMemory;
}

export interface MemoryFigures {
  messages: number;
  first: number;
  settleMs: number;
  gcForced: false;
  marks: MemoryMark[];
  /** RSS after MESSAGES over RSS after FIRST, minus 1: 0.2 is the target's edge. */
  growth: { sender: number; receiver: number };
  /** The same of the lowest RSS of each idle spell. */
  idleLowGrowth: { sender: number; receiver: number };
}

class Stalled extends Error {
  override name = 'Stalled';
}

export async function benchMemory(options: BenchOptions): Promise<MemoryFigures> {
  if (!(Number.isSafeInteger(FIRST) && FIRST > 0 && Number.isSafeInteger(MESSAGES)))
    throw new Error('BENCH_MEMORY_FIRST and BENCH_MEMORY_MESSAGES must be positive integers');
  if (MESSAGES < FIRST)
    throw new Error(`BENCH_MEMORY_MESSAGES (${MESSAGES}) is below BENCH_MEMORY_FIRST (${FIRST})`);
  const pair = await createPair({ logLevel: 'warn', heartbeatMs: 2000 });
  const started: ChildProcess[] = [];
  const run = async (name: Running['name'], site: Site): Promise<Running> => {
    const child = await spawnNode(site.dir, site.operatorListen);
    started.push(child);
    return { name, child, operatorListen: site.operatorListen };
  };
  try {
    const receiver = await run('receiver', pair.cn);
    const sender = await run('sender', pair.us);
    const stream = new Stream(sender, receiver, readToken(pair.us.dir));
    const marks: MemoryMark[] = [];
    const t0 = performance.now();
    const at: number[] = [];
    for (let mark = FIRST; mark < MESSAGES; mark += FIRST) at.push(mark);
    at.push(MESSAGES);
    for (const mark of at) {
      await stream.releaseUpTo(mark);
      await stream.allReceipted(mark);
      const settled = mark === FIRST || mark === MESSAGES;
      const low = { sender: Number.POSITIVE_INFINITY, receiver: Number.POSITIVE_INFINITY };
      if (settled)
        await stream.idle(SETTLE_MS, () => {
          low.sender = Math.min(low.sender, rssMiB(sender.child.pid as number));
          low.receiver = Math.min(low.receiver, rssMiB(receiver.child.pid as number));
        });
      const [s, r] = [await memoryOf(sender), await memoryOf(receiver)];
      marks.push({
        messages: mark,
        settled,
        at: (performance.now() - t0) / 1000,
        sender: settled ? { ...s, idleLowMiB: Math.min(low.sender, s.rssMiB) } : s,
        receiver: settled ? { ...r, idleLowMiB: Math.min(low.receiver, r.rssMiB) } : r,
      });
      if (!options.json) printMark(marks.at(-1) as MemoryMark);
    }
    const first = marks[0] as MemoryMark;
    const last = marks.at(-1) as MemoryMark;
    const lowOf = (p: ProcessMemory) => p.idleLowMiB ?? p.rssMiB;
    const figures: MemoryFigures = {
      messages: MESSAGES,
      first: FIRST,
      settleMs: SETTLE_MS,
      gcForced: false,
      marks,
      growth: {
        sender: last.sender.rssMiB / first.sender.rssMiB - 1,
        receiver: last.receiver.rssMiB / first.receiver.rssMiB - 1,
      },
      idleLowGrowth: {
        sender: lowOf(last.sender) / lowOf(first.sender) - 1,
        receiver: lowOf(last.receiver) / lowOf(first.receiver) - 1,
      },
    };
    if (!options.json) printMemory(figures);
    return figures;
  } finally {
    // A node that does not stop in 10 s (its event loop stuck, say) is killed.
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await pair.close();
  }
}

interface Running {
  name: 'sender' | 'receiver';
  child: ChildProcess;
  operatorListen: string;
}

/**
 * Releases through the sender's operator API, WINDOW at a time, and watches the stream: it fails
 * with what it saw when a node has exited, does not answer, or nothing moved for STALL_MS.
 */
class Stream {
  #released = 0;
  #progressAt = performance.now();
  #lastSeen = '';
  readonly #sender: Running;
  readonly #receiver: Running;
  readonly #token: string;

  constructor(sender: Running, receiver: Running, token: string) {
    this.#sender = sender;
    this.#receiver = receiver;
    this.#token = token;
  }

  async releaseUpTo(count: number): Promise<void> {
    while (this.#released < count) {
      const { pending } = await this.#progress();
      if (pending >= BACKLOG) {
        await sleep(100);
        continue;
      }
      const batch = Math.min(WINDOW, count - this.#released, BACKLOG - pending);
      const releases = [];
      for (let i = 0; i < batch; i++) releases.push(this.#release(this.#released + i));
      await Promise.all(releases);
      this.#released += batch;
    }
  }

  /** Leaves the nodes idle for `ms`, calling `sample` each second: a pause, not a stall. */
  async idle(ms: number, sample: () => void): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      await sleep(Math.min(1000, ms - t));
      sample();
    }
    this.#progressAt = performance.now();
  }

  /** Waits until every released message has a verified receipt and the receiver holds them. */
  async allReceipted(count: number): Promise<void> {
    for (;;) {
      const { pending, received } = await this.#progress();
      if (pending === 0 && received >= count) return;
      await sleep(100);
    }
  }

  async #release(i: number): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`http://${this.#sender.operatorListen}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          to: ['cn'],
          message: draft({ text: { lang: 'en', body: `memory ${i}` } }),
        }),
        signal: AbortSignal.timeout(STALL_MS),
      });
    } catch (e) {
      throw new Stalled(`the sender did not take message ${i}: ${(e as Error).message}`);
    }
    if (response.status !== 201)
      throw new Error(
        `the sender refused message ${i}: HTTP ${response.status} ${await response.text()}`,
      );
  }

  /**
   * Released, unreceipted (sender) and received (receiver) counts; fails the run if a node has
   * exited or does not answer, or if none of the three moved for STALL_MS.
   */
  async #progress(): Promise<{ pending: number; received: number }> {
    const sender = await metricsOf(this.#sender);
    const released = sender('hotline_messages_released_total');
    const pending = sender('hotline_outbox_depth');
    const received = (await metricsOf(this.#receiver))('hotline_messages_received_total');
    const seen = `${released} ${pending} ${received}`;
    const now = performance.now();
    if (seen !== this.#lastSeen) {
      this.#lastSeen = seen;
      this.#progressAt = now;
    } else if (now - this.#progressAt > STALL_MS)
      throw new Stalled(
        `the stream stalled: ${released} released, ${released - pending} receipted, ` +
          `${received} received, nothing moved for ${(STALL_MS / 1000).toFixed(0)} s`,
      );
    return { pending, received };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A node's /metrics (as `counters` reads them); a node that exited or does not answer stops the run. */
async function metricsOf({ name, child, operatorListen }: Running) {
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Stalled(
      `the ${name} (pid ${child.pid}) exited: ${child.signalCode ?? child.exitCode}`,
    );
  try {
    return await counters(operatorListen);
  } catch (e) {
    throw new Stalled(
      `the ${name} (pid ${child.pid}) did not answer /metrics: ${(e as Error).message}`,
    );
  }
}

async function memoryOf(node: Running): Promise<ProcessMemory> {
  const metric = await metricsOf(node);
  const pid = node.child.pid as number;
  return {
    rssMiB: rssMiB(pid),
    anonMiB: rssMiB(pid, 'RssAnon'),
    heapUsedMiB: metric('hotline_process_nodejs_heap_size_used_bytes') / MiB,
    heapTotalMiB: metric('hotline_process_nodejs_heap_size_total_bytes') / MiB,
    externalMiB: metric('hotline_process_nodejs_external_memory_bytes') / MiB,
  };
}

const mib = (x: number) => `${x.toFixed(0)} MiB`;
const percent = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

function printMark(m: MemoryMark): void {
  if (m.messages === FIRST)
    console.log(
      `\n## Memory under a stream (${MESSAGES} messages, receipts verified; RSS / V8 heap used of total; no GC forced)`,
    );
  const side = (p: ProcessMemory) =>
    `${mib(p.rssMiB)} (anon ${mib(p.anonMiB)}${p.idleLowMiB === undefined ? '' : `, idle low ${mib(p.idleLowMiB)}`}) / ${mib(p.heapUsedMiB)} of ${mib(p.heapTotalMiB)}`;
  console.log(
    `after ${String(m.messages).padStart(6)} (${m.at.toFixed(0).padStart(4)} s${m.settled ? `, ${SETTLE_MS / 1000} s idle` : ''}):`,
    `sender ${side(m.sender)}, receiver ${side(m.receiver)}`,
  );
}

function printMemory(f: MemoryFigures): void {
  const verdict = (g: number) => `${percent(g)} ${g <= TARGET_GROWTH ? '(met)' : '(missed)'}`;
  console.log(
    `RSS after ${f.messages} against after ${f.first} (target within ${TARGET_GROWTH * 100} %):`,
    `sender ${verdict(f.growth.sender)}, receiver ${verdict(f.growth.receiver)}`,
  );
  console.log(
    '  the same of the lowest RSS while idle:',
    `sender ${verdict(f.idleLowGrowth.sender)}, receiver ${verdict(f.idleLowGrowth.receiver)}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory({ json: false });
