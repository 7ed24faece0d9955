/**
 * CLI start and idle node figures (issue 19): `hotline --help` and `hotline status` beside a bare
 * `node -e 0` measured in the same run (wall time from spawn to exit, the least and the median of
 * RUNS each, interleaved so load drifts hit all alike), the same `--help` through tsx (how it
 * ran before dist/), and the resident memory of an idle `hotline serve` with one pinned peer.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createPair } from '../test/support/pair.ts';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 15);
/**
 * How long the idle node runs before its memory is read: first at IDLE_MS, then at SETTLED_MS,
 * once V8's memory reducer has run (it gives back the start-up heap 20–30 s after the last work).
 */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const SETTLED_MS = Number(process.env.BENCH_SETTLED_MS ?? 60_000);

function run(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - t);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

/**
 * Resident memory of a process, in MiB (Linux /proc): all of it (VmRSS), its anonymous part
 * (RssAnon: heaps, not files mapped in), or its peak so far (VmHWM).
 */
export function rssMiB(pid: number, field: 'VmRSS' | 'RssAnon' | 'VmHWM' = 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(
    new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
  );
  return Number(line?.[1]) / 1024;
}

export interface Timing {
  minMs: number;
  medianMs: number;
}

export interface CliFigures {
  runs: number;
  floor: Timing;
  help: Timing;
  status: Timing;
  helpTsx: Timing;
  /** VmRSS of the idle node at IDLE_MS, and at SETTLED_MS. */
  idleRssMiB: number;
  settledRssMiB: number;
}

function timing(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { minMs: sorted[0] ?? Number.NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
}

export async function benchCli(): Promise<CliFigures> {
  const pair = await createPair({ logLevel: 'warn', heartbeatMs: 2000 });
  const node = spawn(process.execPath, ['bin/hotline.js', 'serve', '--data', pair.cn.dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      try {
        await fetch(`http://${pair.cn.operatorListen}/openapi.json`);
        break;
      } catch {
        if (i > 1200) throw new Error('the node did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const startedAt = performance.now();
    const samples = { floor: [] as number[], help: [] as number[], status: [] as number[] };
    const helpTsx: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      samples.floor.push(await run(['-e', '0']));
      samples.help.push(await run(['bin/hotline.js', '--help']));
      samples.status.push(await run(['bin/hotline.js', 'status', '--data', pair.cn.dir]));
      if (i < 5) helpTsx.push(await run(['--import', 'tsx', 'src/cli/main.ts', '--help']));
    }
    const idle = async (ms: number) => {
      const wait = ms - (performance.now() - startedAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return rssMiB(node.pid as number);
    };
    const idleRssMiB = await idle(IDLE_MS);
    return {
      runs: RUNS,
      floor: timing(samples.floor),
      help: timing(samples.help),
      status: timing(samples.status),
      helpTsx: timing(helpTsx),
      idleRssMiB,
      settledRssMiB: await idle(SETTLED_MS),
    };
  } finally {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    await pair.close();
  }
}

export function printCli(f: CliFigures): void {
  const ms = (t: Timing) => `${t.minMs.toFixed(0)} ms (median ${t.medianMs.toFixed(0)} ms)`;
  const ratio = (t: Timing) =>
    `${(t.minMs / f.floor.minMs).toFixed(2)}× (median ${(t.medianMs / f.floor.medianMs).toFixed(2)}×)`;
  console.log(`\n## CLI start and idle memory (${f.runs} runs each, least and median)`);
  console.log('floor: node -e 0                 ', ms(f.floor));
  console.log('hotline --help                   ', ms(f.help), ratio(f.help), 'of the floor');
  console.log('hotline status (a running node)  ', ms(f.status), ratio(f.status), 'of the floor');
  console.log('--help through tsx (before dist/)', ms(f.helpTsx), ratio(f.helpTsx), 'of the floor');
  console.log(
    'idle node RSS (hotline serve)    ',
    `${f.idleRssMiB.toFixed(0)} MiB after ${IDLE_MS / 1000} s,`,
    `${f.settledRssMiB.toFixed(0)} MiB after ${SETTLED_MS / 1000} s (target ≤ 120 MiB)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) printCli(await benchCli());
