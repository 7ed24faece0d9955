/**
 * A full mesh of N in-process nodes on loopback, each with fresh keys in a temporary data folder
 * and every other party's card pinned (what `hotline peer add` does, N × (N − 1) times). The
 * multi-party sibling of pair.ts: parties are named `p01`, `p02`, …
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type RunningNode, startNode } from '../../src/app/start.ts';
import { type Config, readConfig, writeConfig } from '../../src/node/core/config.ts';
import { initNode, openNodeStore, readToken } from '../../src/node/core/data.ts';
import { pinPeer } from '../../src/node/core/peers.ts';
import type { SignedCard } from '../../src/protocol/card.ts';
import type { Site } from './pair.ts';
import { freePort } from './ports.ts';

export interface Party extends Site {
  /** The first admin's bearer token (staffs the `ops` desk). */
  token: string;
  /** The first admin's password, for signing in to the console. */
  adminPassword: string;
}

export interface Mesh {
  root: string;
  parties: Party[];
  /** Starts every node (in parallel) and resolves once all serve. */
  startAll(): Promise<void>;
  running(party: Party): RunningNode;
  /** A call to a party's operator API with its admin token; throws on a non-2xx answer. */
  api<T>(party: Party, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export const partyName = (i: number) => `p${String(i + 1).padStart(2, '0')}`;

/**
 * The data folders of an `n`-party mesh under a fresh temporary folder, each initialised
 * (`hotline init`) and having pinned every other's card, none running yet.
 */
export async function initMesh(
  n: number,
  settings: Partial<Config> = {},
): Promise<{ root: string; parties: Party[] }> {
  if (n < 2 || n > 99) throw new Error(`a mesh has 2 to 99 parties, not ${n}`);
  const root = mkdtempSync(join(tmpdir(), 'hotline-mesh-'));
  const parties: Party[] = [];
  const cards: SignedCard[] = [];
  for (let i = 0; i < n; i++) {
    const party = partyName(i);
    const dir = join(root, party);
    const listen = `127.0.0.1:${await freePort()}`;
    const operatorListen = `127.0.0.1:${await freePort()}`;
    const { signed, admin } = await initNode(dir, {
      party,
      names: { en: `Party ${i + 1}`, zh: `第${i + 1}方` },
      endpoints: [`http://${listen}`],
      listen,
      operatorListen,
    });
    cards.push(signed);
    writeConfig(dir, {
      party,
      listen,
      operatorListen,
      heartbeatMs: 500,
      logLevel: 'warn',
      linkTest: { enabled: false, intervalMs: 3_600_000, precedence: 'immediate', desk: 'ops' },
      // A password alone signs in, as in test/support/pair.ts.
      access: { ...readConfig(dir).access, secondFactor: { required: [] } },
      ...settings,
    });
    parties.push({
      party,
      dir,
      listen,
      operatorListen,
      logs: [],
      token: readToken(dir),
      adminPassword: admin.password,
    });
  }
  for (const [i, site] of parties.entries()) {
    const store = await openNodeStore(site.dir);
    try {
      for (const [j, card] of cards.entries()) if (j !== i) await pinPeer(store, card, site.party);
    } finally {
      await store.close();
    }
  }
  return { root, parties };
}

/**
 * `n` nodes, each pinning every other. `settings` go into every node's hotline.yaml (link tests
 * are off unless asked for, so only the test's own messages flow). Logs are kept per party at
 * `logLevel` (default warn).
 */
export async function createMesh(n: number, settings: Partial<Config> = {}): Promise<Mesh> {
  const { root, parties } = await initMesh(n, settings);
  const mesh: Mesh = {
    root,
    parties,
    async startAll() {
      await Promise.all(
        parties.map(async (site) => {
          const sink = new Writable({
            write(chunk, _encoding, done) {
              site.logs.push(String(chunk));
              done();
            },
          });
          site.running = await startNode(site.dir, {}, sink);
        }),
      );
    },
    running(site) {
      if (!site.running) throw new Error(`${site.party} is not running`);
      return site.running;
    },
    async api<T>(site: Party, method: 'GET' | 'POST', path: string, body?: unknown) {
      const response = await fetch(`http://${site.operatorListen}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${site.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      if (!response.ok)
        throw new Error(`${site.party} ${method} ${path}: HTTP ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async close() {
      await Promise.all(
        parties.map(async (site) => {
          await site.running?.stop();
          site.running = undefined;
        }),
      );
      rmSync(root, { recursive: true, force: true });
    },
  };
  return mesh;
}
