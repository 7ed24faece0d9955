/**
 * `npm run bench -- attacks`: the attack suite's fuzz run at full size — 100,000 generated
 * federation and relay requests that no pinned peer signed (test/support/attack-fuzz.ts), in
 * process. Prints the counts: crashes, answers slower than 1 s, state changes. HOTLINE_FUZZ sets
 * the count.
 */
import { type FuzzFigures, printFuzz, runAttackFuzz } from '../test/support/attack-fuzz.ts';
import type { BenchOptions } from './run.ts';

export async function benchAttacks(options: BenchOptions): Promise<FuzzFigures> {
  const figures = await runAttackFuzz(Number(process.env.HOTLINE_FUZZ ?? 100_000));
  if (!options.json) printFuzz(figures);
  if (figures.crashes || figures.hangs || figures.nodeStateChanged) process.exitCode = 1;
  return figures;
}
