/** Where a node keeps each thing in its data folder: light, so the CLI loads it at once. */
import { readFileSync } from 'node:fs';
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
