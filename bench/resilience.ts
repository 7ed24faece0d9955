/**
 * Resilience figures (issue 9): failover time when the preferred path is cut, delivery latency
 * through a relay beside a direct path, throughput under 10% loss and 10% duplication, and — with
 * HOTLINE_BENCH_SOAK=1 — the chaos soak (test/integration/chaos.test.ts with HOTLINE_SOAK=1):
 * messages, faults injected, lost, duplicated.
 *
 * Two in-process nodes on loopback with default settings except where a figure needs otherwise
 * (each figure says which). Paths run through test/support/faultproxy.ts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import type { RunningNode } from '../src/app/start.ts';
import { type Config, readConfig, writeConfig } from '../src/node/core/config.ts';
import { readOwnCard } from '../src/node/core/data.ts';
import { startRelay } from '../src/relay/server.ts';
import { FaultProxy } from '../test/support/faultproxy.ts';
import { createPair, draft, type Pair } from '../test/support/pair.ts';
import { proxyTls } from '../test/support/tls.ts';
import type { BenchOptions } from './run.ts';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s.at(-1) ?? 0 };
}

function configure(dir: string, extra: Partial<Config>): void {
  writeConfig(dir, { ...readConfig(dir), ...extra });
}

/** Milliseconds from release until the sender holds a verified receipt. */
function receiptedIn(sender: RunningNode, to: string, release: () => Promise<string>) {
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    let id = '';
    const seen = new Set<string>();
    const on = (party: string, ids: string[]) => {
      if (party !== to) return;
      for (const i of ids) seen.add(i);
      if (id && seen.has(id)) {
        sender.events.off('receipted', on);
        resolve(performance.now() - started);
      }
    };
    sender.events.on('receipted', on);
    release()
      .then((released) => {
        id = released;
        on(to, []);
      })
      .catch(reject);
  });
}

/** Milliseconds from release until the receiver has stored it. */
function receivedIn(receiver: RunningNode, release: () => Promise<string>) {
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    let id = '';
    const seen = new Set<string>();
    const on = (_party: string, ids: string[]) => {
      for (const i of ids) seen.add(i);
      if (id && seen.has(id)) {
        receiver.events.off('received', on);
        resolve(performance.now() - started);
      }
    };
    receiver.events.on('received', on);
    release()
      .then((released) => {
        id = released;
        on('', []);
      })
      .catch(reject);
  });
}

async function twoPaths(settings: Partial<Config>) {
  const pair = await createPair(settings);
  const port = Number(pair.cn.listen.split(':')[1]);
  const tls = proxyTls(pair.cn.dir, pair.us.dir);
  const direct = await FaultProxy.start({ targetPort: port, seed: 1, tls });
  const alternate = await FaultProxy.start({ targetPort: port, seed: 2, tls });
  configure(pair.us.dir, {
    paths: {
      cn: [
        { id: 'direct', kind: 'direct', url: direct.url, priority: 0 },
        { id: 'alternate', kind: 'direct', url: alternate.url, priority: 10 },
      ],
    },
  });
  const cn = await pair.start(pair.cn);
  const us = await pair.start(pair.us);
  return { pair, us, cn, direct, alternate };
}

const TRIALS = 10;

/**
 * The preferred path is cut just before a release, in the two ways a link dies: black-holed (no
 * answer at all: failover waits `outbox.failoverMs`, default 750 ms) and refused (connection
 * reset: failover at once). Heartbeats are an hour apart, so only the send notices.
 */
async function failover() {
  const { pair, us, direct, alternate } = await twoPaths({ heartbeatMs: 600_000 });
  const out: Record<string, ReturnType<typeof summary>> = {};
  try {
    for (const how of ['black-holed', 'refused'] as const) {
      const samples: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        direct.heal();
        direct.blackhole = false;
        us.paths.succeeded('cn', 'direct');
        if (how === 'black-holed') direct.blackhole = true;
        else direct.partition(600_000);
        samples.push(
          await receiptedIn(us, 'cn', async () => (await us.node.release(['cn'], draft())).id),
        );
      }
      out[how] = summary(samples);
    }
    direct.heal();
    direct.blackhole = false;
    us.paths.succeeded('cn', 'direct');
    const clean: number[] = [];
    for (let i = 0; i < TRIALS; i++)
      clean.push(
        await receiptedIn(us, 'cn', async () => (await us.node.release(['cn'], draft())).id),
      );
    out.uncut = summary(clean);
  } finally {
    await close(pair, [direct, alternate]);
  }
  return out;
}

async function close(pair: Pair, proxies: FaultProxy[]) {
  await pair.close();
  for (const p of proxies) await p.close();
}

/**
 * One message at a time: time until the receiver stored it, and until the sender verified the
 * receipt, direct and through a relay (the direct path cut, `relayPollMs` at its default 1000 ms
 * and at 100 ms).
 */
async function relayLatency() {
  const result: Record<
    string,
    { stored: ReturnType<typeof summary>; receipted: ReturnType<typeof summary> }
  > = {};
  for (const mode of ['direct', 'relay, poll 1000 ms', 'relay, poll 100 ms'] as const) {
    const pair = await createPair({
      heartbeatMs: 2000,
      ...(mode === 'relay, poll 100 ms' ? { relayPollMs: 100 } : {}),
    });
    const relay = await startRelay(
      {
        data: join(pair.root, 'relay'),
        limits: { maxBytes: 256 * 1024 * 1024, maxItemsPerBox: 100_000 },
        cards: [readOwnCard(pair.us.dir).card, readOwnCard(pair.cn.dir).card],
        logger: pino({ level: 'silent' }),
      },
      '127.0.0.1:0',
    );
    try {
      if (mode !== 'direct') {
        configure(pair.us.dir, {
          paths: {
            cn: [
              { id: 'direct', kind: 'direct', url: 'http://127.0.0.1:9', priority: 0 },
              { id: 'relay', kind: 'relay', url: relay.url, priority: 50, pin: relay.pin },
            ],
          },
        });
        configure(pair.cn.dir, { relays: [{ url: relay.url, pin: relay.pin }] });
      }
      const cn = await pair.start(pair.cn);
      const us = await pair.start(pair.us);
      const stored: number[] = [];
      const receipted: number[] = [];
      for (let i = 0; i < 20; i++) {
        let id: Promise<string> | undefined;
        const release = () => {
          id ??= us.node.release(['cn'], draft()).then((r) => r.id);
          return id;
        };
        const [s, r] = await Promise.all([receivedIn(cn, release), receiptedIn(us, 'cn', release)]);
        stored.push(s);
        receipted.push(r);
      }
      result[mode] = { stored: summary(stored), receipted: summary(receipted) };
    } finally {
      await pair.close();
      await relay.stop();
    }
  }
  return result;
}

/**
 * 2,000 routine messages released at once over one path, clean and with 10% of requests dropped
 * (cut before or after the peer stored them) and 10% duplicated: messages per second until every
 * one is receipted. Backoff base 100 ms, cap 2 s.
 */
async function lossyThroughput() {
  const COUNT = 2000;
  const result: Record<string, { seconds: number; perSecond: number; faults: unknown }> = {};
  for (const mode of ['clean', '10% loss, 10% duplication'] as const) {
    const pair = await createPair({
      heartbeatMs: 500,
      outbox: {
        batch: 256,
        backoffBaseMs: 100,
        backoffMaxMs: 2000,
        sendTimeoutMs: 10_000,
        failoverMs: 1000,
      },
    });
    const proxy = await FaultProxy.start({
      targetPort: Number(pair.cn.listen.split(':')[1]),
      seed: 9,
      rates: mode === 'clean' ? {} : { drop: 0.1, duplicate: 0.1 },
      tls: proxyTls(pair.cn.dir, pair.us.dir),
    });
    try {
      configure(pair.us.dir, {
        paths: { cn: [{ id: 'direct', kind: 'direct', url: proxy.url, priority: 0 }] },
      });
      await pair.start(pair.cn);
      const us = await pair.start(pair.us);
      const done = new Promise<void>((resolve) => {
        let n = 0;
        us.events.on('receipted', (_p, ids) => {
          n += ids.length;
          if (n >= COUNT) resolve();
        });
      });
      const started = performance.now();
      await Promise.all(Array.from({ length: COUNT }, () => us.node.release(['cn'], draft())));
      await done;
      const seconds = (performance.now() - started) / 1000;
      result[mode] = { seconds, perSecond: COUNT / seconds, faults: { ...proxy.counts } };
    } finally {
      await pair.close();
      await proxy.close();
    }
  }
  return result;
}

/** Timeouts a tenth of the defaults: the 2-core machine stands in for a peer ten times slower. */
const OVERLOAD_OUTBOX = {
  batch: 256,
  backoffBaseMs: 100,
  backoffMaxMs: 2000,
  sendTimeoutMs: 1000,
  failoverMs: 300,
};

/**
 * No collapse under overload (issue 19). Washington → Beijing on two paths, timeouts a tenth of
 * the defaults. First the peak: 2,000 routine messages released at once, messages per second
 * until every one is receipted. Then 4× that rate offered for 5 s (releases every 50 ms), and
 * the throughput from the first release to the last receipt, beside the peak of the same run;
 * with the batches posted and the envelopes Beijing checked per message (1.0: none twice).
 */
export async function overload() {
  const pair = await createPair({ heartbeatMs: 2000, outbox: OVERLOAD_OUTBOX });
  const port = Number(pair.cn.listen.split(':')[1]);
  const tls = proxyTls(pair.cn.dir, pair.us.dir);
  const proxies = [
    await FaultProxy.start({ targetPort: port, seed: 1, tls }),
    await FaultProxy.start({ targetPort: port, seed: 2, tls }),
  ];
  try {
    configure(pair.us.dir, {
      paths: {
        cn: proxies.map((p, i) => ({
          id: `path${i}`,
          kind: 'direct' as const,
          url: p.url,
          priority: i * 10,
        })),
      },
    });
    const cn = await pair.start(pair.cn);
    const us = await pair.start(pair.us);
    let checked = 0;
    const receive = cn.node.receiveBatch.bind(cn.node);
    cn.node.receiveBatch = (envelopes, now) => {
      checked += envelopes.length;
      return receive(envelopes, now);
    };
    let receipted = 0;
    us.events.on('receipted', (_p, ids) => {
      receipted += ids.length;
    });
    const posts = () =>
      proxies
        .flatMap((p) => [...p.seen])
        .filter(([line]) => line.startsWith('POST /federation/v1/envelopes'))
        .reduce((sum, [, n]) => sum + n, 0);
    const drained = async (target: number) => {
      while (receipted < target) await new Promise((r) => setTimeout(r, 20));
    };
    const run = async (offer: (count: number) => Promise<unknown>, count: number) => {
      const start = { receipted, posts: posts(), checked, at: performance.now() };
      const cpu = process.cpuUsage();
      await offer(count);
      await drained(start.receipted + count);
      const seconds = (performance.now() - start.at) / 1000;
      const used = process.cpuUsage(cpu);
      return {
        messages: count,
        seconds,
        perSecond: count / seconds,
        // Both nodes and the proxies: more per message under overload is work, not waiting.
        cpuUsPerMessage: (used.user + used.system) / count,
        cores: (used.user + used.system) / 1e6 / seconds,
        posts: posts() - start.posts,
        checkedPerMessage: (checked - start.checked) / count,
      };
    };
    const release = (n: number) =>
      Promise.all(Array.from({ length: n }, () => us.node.release(['cn'], draft())));
    const peak = await run(release, 2000);
    const TICK_MS = 50;
    const SECONDS = 5;
    const perTick = Math.max(1, Math.round((4 * peak.perSecond * TICK_MS) / 1000));
    const ticks = (SECONDS * 1000) / TICK_MS;
    const overloaded = await run(async () => {
      const releases: Promise<unknown>[] = [];
      for (let i = 0; i < ticks; i++) {
        releases.push(release(perTick));
        await new Promise((r) => setTimeout(r, TICK_MS));
      }
      await Promise.all(releases);
    }, perTick * ticks);
    return {
      peak,
      overloaded: { offeredPerSecond: (perTick * 1000) / TICK_MS, ...overloaded },
      ratio: overloaded.perSecond / peak.perSecond,
    };
  } finally {
    await close(pair, proxies);
  }
}

/** The chaos soak, run as its test in soak mode; its summary line is the figure. */
async function soak(): Promise<unknown> {
  if (!process.env.HOTLINE_BENCH_SOAK) return 'skipped (set HOTLINE_BENCH_SOAK=1)';
  const child = spawn(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', 'test/integration/chaos.test.ts'],
    { env: { ...process.env, HOTLINE_SOAK: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const line = /SOAK (\{.*\})/.exec(output)?.[1];
  return { passed: code === 0, ...(line ? JSON.parse(line) : { output: output.slice(-2000) }) };
}

export async function benchResilience(options: BenchOptions) {
  const figures = {
    failoverMs: await failover(),
    latencyMs: await relayLatency(),
    throughput: await lossyThroughput(),
    overload: await overload(),
    soak: await soak(),
  };
  if (!options.json) {
    const ms = (s: { p50: number; p90: number; max: number }) =>
      `p50 ${s.p50.toFixed(0)} ms, p90 ${s.p90.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`;
    console.log('\n## Resilience');
    for (const [how, s] of Object.entries(figures.failoverMs))
      console.log(`failover, primary ${how.padEnd(12)} release → receipt ${ms(s)}`);
    for (const [mode, s] of Object.entries(figures.latencyMs))
      console.log(`${mode.padEnd(20)} stored ${ms(s.stored)}; receipted ${ms(s.receipted)}`);
    for (const [mode, t] of Object.entries(figures.throughput))
      console.log(
        `throughput, ${mode.padEnd(26)} ${t.perSecond.toFixed(0)} messages/s (${t.seconds.toFixed(1)} s) faults ${JSON.stringify(t.faults)}`,
      );
    const { peak, overloaded, ratio } = figures.overload;
    const rate = (t: typeof peak) =>
      `${t.perSecond.toFixed(0)} msg/s (${t.messages} in ${t.seconds.toFixed(1)} s, ${t.posts} batch POSTs, ${t.checkedPerMessage.toFixed(2)} checks/message, ${t.cpuUsPerMessage.toFixed(0)} µs CPU/message, ${t.cores.toFixed(2)} cores)`;
    console.log(`overload: peak ${rate(peak)}`);
    console.log(
      `overload: ${overloaded.offeredPerSecond.toFixed(0)} msg/s offered (4× peak) for 5 s → ${rate(overloaded)}; ${(ratio * 100).toFixed(0)} % of peak (target ≥ 80 %)`,
    );
    console.log('soak', JSON.stringify(figures.soak));
  }
  return figures;
}
