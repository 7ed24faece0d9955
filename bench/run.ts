/**
 * `npm run bench [-- <name>…] [-- --json]`: prints the machine, then runs each bench module in
 * turn (or only those named). With --json, the modules print nothing and one JSON document of
 * the machine and every module's figures goes to stdout.
 *
 * Adding a module is one line in BENCHES: a name, and a function that runs it and returns its
 * figures. A module that wants the crypto bound as a floor takes it from `cryptoBound()` in
 * ./protocol.ts, which reuses this run's protocol figures when protocol ran first.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface BenchOptions {
  /** Print nothing; the figures are returned for the JSON document. */
  json: boolean;
}

const BENCHES: Record<string, (options: BenchOptions) => Promise<unknown>> = {
  protocol: async (o) => (await import('./protocol.ts')).run(o),
  node: async () => {
    const { cryptoBound, measureCryptoBound } = await import('./protocol.ts');
    const bound = await cryptoBound();
    return (await import('./node.ts')).benchNode(
      bound.perSecond,
      bound.signVerifyMs,
      async () => (await measureCryptoBound()).perSecond,
    );
  },
  ledger: async () => (await import('./ledger.ts')).benchLedger(),
  store: async () => (await import('./store.ts')).benchStore(),
  keys: async (o) => (await import('./keys.ts')).benchKeys(o),
  resilience: async (o) => (await import('./resilience.ts')).benchResilience(o),
  console: async (o) => {
    const { benchConsole, printConsole } = await import('./console.ts');
    const figures = await benchConsole();
    if (!o.json) printConsole(figures);
    const { benchSearch, printSearch } = await import('./search.ts');
    const search = await benchSearch();
    if (!o.json) printSearch(search);
    return { ...figures, search };
  },
  incidents: async (o) => (await import('./incidents.ts')).benchIncidents(o),
  mesh: async (o) => (await import('./mesh.ts')).benchMesh(o),
  memory: async (o) => (await import('./memory.ts')).benchMemory(o),
  attacks: async (o) => (await import('./attacks.ts')).benchAttacks(o),
  cli: async (o) => {
    const { benchCli, printCli } = await import('./cli.ts');
    const figures = await benchCli();
    if (!o.json) printCli(figures);
    return figures;
  },
  compliance: async (o) => {
    const { benchCompliance, printCompliance } = await import('./compliance.ts');
    const figures = await benchCompliance();
    if (!o.json) printCompliance(figures);
    return figures;
  },
  frameworks: async (o) => (await import('./frameworks.ts')).benchFrameworks(o),
  push: async (o) => {
    const { benchPush, printPush } = await import('./push.ts');
    const figures = await benchPush();
    if (!o.json) printPush(figures);
    return figures;
  },
  replicas: async (o) => (await import('./replicas.ts')).benchReplicas(o),
  'held-drafts': async (o) => {
    const { benchHeldDrafts, printHeldDrafts } = await import('./held-drafts.ts');
    const figures = await benchHeldDrafts();
    if (!o.json) printHeldDrafts(figures);
    return figures;
  },
};

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    /** The 1-minute load average before the run: other work on the machine skews the figures. */
    load: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

async function main(args: readonly string[]): Promise<void> {
  const json = args.includes('--json');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    console.error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const m = machine();
  if (!json)
    console.log(
      `# Hotline benchmarks\n${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, load ${m.load}`,
    );
  const results: Record<string, unknown> = {};
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const bench = BENCHES[name];
    if (bench) results[name] = await bench({ json });
  }
  if (json) console.log(JSON.stringify({ machine: m, ...results }, null, 2));
}

await main(process.argv.slice(2));
