/** Where a node keeps each thing in its data folder: light, so the CLI loads it at once. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The node's configuration, written by `hotline init`: what makes a folder a data folder. */
export const CONFIG_FILE = 'hotline.yaml';

export const paths = (dir: string) => ({
  config: join(dir, CONFIG_FILE),
  keys: join(dir, 'keys'),
  card: join(dir, 'card.json'),
  db: join(dir, 'hotline.db'),
  token: join(dir, 'operator.token'),
  /** Written by a running node: where its operator API listens. */
  running: join(dir, 'node.json'),
  /** Written by `hotline restore`: the node recovers from its peers before it serves. */
  restored: join(dir, 'restored.json'),
});

/** The operator token `init` wrote for the first admin. */
export function readToken(dir: string): string {
  return readFileSync(paths(dir).token, 'utf8').trim();
}

/** A data folder that cannot be used as asked; the message is the one-line reason. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

/** What a serving node writes in `node.json`. */
export interface RunningFile {
  pid: number;
  operatorUrl: string;
}

/**
 * The node serving `dir`, from its `node.json`, while its process lives; undefined when none
 * does (no `node.json`, or one left by a node killed without a shutdown). A `node.json` that is
 * not what a node writes is a `DataDirError` naming it.
 */
export function runningNode(dir: string): RunningFile | undefined {
  const file = paths(dir).running;
  if (!existsSync(file)) return undefined;
  let running: Partial<RunningFile>;
  try {
    running = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningFile>;
  } catch {
    running = {};
  }
  const { pid, operatorUrl } = running;
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof operatorUrl !== 'string')
    throw new DataDirError(
      `${file} is not what a running node writes: if no node serves ${dir}, remove it`,
    );
  return isAlive(pid as number) ? { pid: pid as number, operatorUrl } : undefined;
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
