/**
 * One node's people side over a real data folder (keys, card, SQLite, ledger) and a clock the test
 * moves: `hotline init` in a temporary folder, then the node opened in-process without listeners.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildServices, type Services } from '../../src/app/services.ts';
import type { Config } from '../../src/node/core/config.ts';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { initNode, openNodeStore, readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import { readFactorKey } from '../../src/node/core/factor-key.ts';
import type { People } from '../../src/node/people/people.ts';
import type { Store } from '../../src/store/store.ts';
import { freePort } from './ports.ts';
import { dropSchemas, TEST_POSTGRES } from './postgres.ts';

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
  node: Services['node'];
  ledger: Services['ledger'];
  store: Store;
  /** The first admin's password (its token is in operator.token). */
  adminPassword: string;
  close(): Promise<void>;
}

/** The backends the people tests run on; PostgreSQL as the store's own tests reach it. */
export const BACKENDS = ['sqlite', 'postgres'] as const;

/**
 * A fresh node "us" with its first admin, on SQLite or in a PostgreSQL schema of its own (dropped
 * by `close`); `access` overrides the access policy.
 */
export async function openSite(
  options: {
    access?: Partial<Config['access']>;
    clock?: () => Date;
    backend?: (typeof BACKENDS)[number];
  } = {},
): Promise<Site> {
  const schema = `hotline_site_${randomBytes(4).toString('hex')}`;
  const store: Config['store'] | undefined =
    options.backend === 'postgres'
      ? { backend: 'postgres', url: TEST_POSTGRES, schema }
      : undefined;
  const dir = join(mkdtempSync(join(tmpdir(), 'hotline-site-')), 'us');
  const listen = `127.0.0.1:${await freePort()}`;
  const operatorListen = `127.0.0.1:${await freePort()}`;
  const { admin } = await initNode(dir, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: [`http://${listen}`],
    listen,
    operatorListen,
    ...(store ? { store } : {}),
  });
  writeConfig(dir, {
    party: 'us',
    listen,
    operatorListen,
    ...(store ? { store } : {}),
    // A password alone signs in unless a test asks for the default second-factor policy.
    access: { ...readConfig(dir).access, secondFactor: { required: [] }, ...options.access },
  });
  const config = readConfig(dir);
  const opened = await openNodeStore(dir, config);
  const services = await buildServices({
    config,
    keys: readNodeKeys(dir),
    card: readOwnCard(dir),
    store: opened,
    logger: pino({ level: 'silent' }),
    clock: options.clock ?? (() => new Date()),
    factorKey: readFactorKey(join(dir, 'keys')),
  });
  return {
    ...services.people,
    dir,
    node: services.node,
    ledger: services.ledger,
    store: opened,
    adminPassword: admin.password,
    async close() {
      await opened.close();
      rmSync(join(dir, '..'), { recursive: true, force: true });
      if (!store) return;
      await dropSchemas(schema);
    },
  };
}
