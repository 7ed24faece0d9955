/**
 * Washington's node serving in the test process, Beijing's card pinned and Beijing never started:
 * what the CLI refusal tests run their commands against (src/cli/*.test.ts).
 *
 * @example
 * const node = await washingtonServing('hotline-once-');
 * await hotline(['send', '--data', node.us, '--to', 'cn']);
 * await node.close();
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningNode, startNode } from '../../src/app/start.ts';
import { initNode, paths } from '../../src/node/core/data.ts';
import { hotline } from '../integration/nodes.ts';
import { freePort } from './ports.ts';

export interface ServingNode {
  /** The temporary folder holding both parties' data folders. */
  root: string;
  /** Washington's data folder. */
  us: string;
  /** Washington's operator listener, host:port. */
  operator: string;
  /** The data folder's admin token. */
  token(): string;
  /** The operator API as the CLI calls it, with the admin token. */
  api<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function washingtonServing(prefix: string): Promise<ServingNode> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const us = join(root, 'us');
  const cn = join(root, 'cn');
  const listen = `127.0.0.1:${await freePort()}`;
  const operator = `127.0.0.1:${await freePort()}`;
  await initNode(us, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: [`http://${listen}`],
    listen,
    operatorListen: operator,
  });
  await initNode(cn, {
    party: 'cn',
    names: { zh: '北京' },
    endpoints: ['http://127.0.0.1:9'],
    listen: '127.0.0.1:9',
    operatorListen: '127.0.0.1:10',
  });
  const pinned = await hotline(['peer', 'add', '--yes', '--data', us, paths(cn).card]);
  if (pinned.code !== 0) throw new Error(`peer add: ${pinned.stderr}`);
  let running: RunningNode | undefined = await startNode(us, { logLevel: 'silent' });
  const token = () => readFileSync(paths(us).token, 'utf8').trim();
  return {
    root,
    us,
    operator,
    token,
    async api<T>(method: 'GET' | 'POST', path: string, body?: unknown) {
      const response = await fetch(`http://${operator}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async close() {
      await running?.stop();
      running = undefined;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
