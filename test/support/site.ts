/**
 * One node's people side over a real data folder (keys, card, SQLite, ledger) and a clock the test
 * moves: `hotline init` in a temporary folder, then the node opened in-process without listeners.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Config } from '../../src/node/config.ts';
import { readConfig, writeConfig } from '../../src/node/config.ts';
import { initNode, paths, readNodeKeys, readOwnCard } from '../../src/node/data.ts';
import { Node } from '../../src/node/node.ts';
import { openPeople, type People } from '../../src/node/people.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/store.ts';
import { freePort } from './pair.ts';

/** A clock that stands still until the test moves it. */
export class TestClock {
  #now: number;
  constructor(start: string) {
    this.#now = Date.parse(start);
  }
  now = (): Date => new Date(this.#now);
  set(at: string): void {
    this.#now = Date.parse(at);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

export interface Site extends People {
  dir: string;
  node: Node;
  store: Store;
  /** The first admin's password (its token is in operator.token). */
  adminPassword: string;
  close(): Promise<void>;
}

/** A fresh node "us" with its first admin; `access` overrides the access policy. */
export async function openSite(
  options: { access?: Partial<Config['access']>; clock?: () => Date } = {},
): Promise<Site> {
  const dir = join(mkdtempSync(join(tmpdir(), 'hotline-site-')), 'us');
  const listen = `127.0.0.1:${await freePort()}`;
  const operatorListen = `127.0.0.1:${await freePort()}`;
  const { admin } = await initNode(dir, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: [`http://${listen}`],
    listen,
    operatorListen,
  });
  writeConfig(dir, {
    party: 'us',
    listen,
    operatorListen,
    access: { ...readConfig(dir).access, ...options.access },
  });
  const config = readConfig(dir);
  const store = await openSqliteStore(paths(dir).db);
  const node = await Node.open({
    config,
    keys: readNodeKeys(dir),
    card: readOwnCard(dir),
    store,
    log: pino({ level: 'silent' }),
  });
  const people = openPeople(store, config.access, node, options.clock);
  return {
    ...people,
    dir,
    node,
    store,
    adminPassword: admin.password,
    async close() {
      await store.close();
      rmSync(join(dir, '..'), { recursive: true, force: true });
    },
  };
}
