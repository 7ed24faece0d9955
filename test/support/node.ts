/**
 * One node built in-process over a fresh data folder, with Beijing ("cn") pinned but never
 * running, and its listeners built but not listening: what a unit test of API routes drives
 * through Fastify's `inject()`. Two nodes talking belong in test/integration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { federationServer, operatorServer } from '../../src/api/server.ts';
import type { App } from '../../src/api/services.ts';
import { buildServices, type Services } from '../../src/app/services.ts';
import { type Config, readConfig, writeConfig } from '../../src/node/core/config.ts';
import { initDataDir, initNode, readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import { readFactorKey } from '../../src/node/core/factor-key.ts';
import { pinPeer } from '../../src/node/core/peers.ts';
import { readVapidKey } from '../../src/node/core/vapid.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { freePort } from './ports.ts';

export interface OneNode extends Services {
  dir: string;
  /** The operator listener, built and ready, never listening. */
  operator: App;
  federation: App;
  /** The first admin's password (its token is in operator.token). */
  adminPassword: string;
  close(): Promise<void>;
}

/**
 * A data folder made as `hotline init` makes it, listening (once served) on free loopback ports:
 * for tests of the CLI on a stopped or served node. Answers what `initNode` answers.
 */
export async function initOnLoopback(
  dir: string,
  {
    party = 'us',
    names = { en: 'Washington' },
    scheme = 'http',
  }: { party?: string; names?: Record<string, string>; scheme?: 'http' | 'https' } = {},
) {
  const listen = `127.0.0.1:${await freePort()}`;
  return initNode(dir, {
    party,
    names,
    endpoints: [`${scheme}://${listen}`],
    listen,
    operatorListen: `127.0.0.1:${await freePort()}`,
  });
}

/** Washington ("us") with Beijing's card pinned; `settings` go into its hotline.yaml. */
export async function openNode(settings: Partial<Config> = {}): Promise<OneNode> {
  const root = mkdtempSync(join(tmpdir(), 'hotline-node-'));
  const dir = join(root, 'us');
  const { admin } = await initNode(dir, {
    party: 'us',
    names: { en: 'Washington', zh: '华盛顿' },
    endpoints: ['http://127.0.0.1:7100'],
  });
  const peer = await initDataDir(join(root, 'cn'), {
    party: 'cn',
    names: { en: 'Beijing', zh: '北京' },
    endpoints: ['http://127.0.0.1:9'],
  });
  // A password alone signs in unless `settings.access` asks for the default second-factor policy.
  const base = readConfig(dir);
  writeConfig(dir, {
    ...base,
    ...settings,
    access: { ...base.access, secondFactor: { required: [] }, ...settings.access },
  });
  const config = readConfig(dir);
  const store = await openSqliteStore(join(dir, 'hotline.db'));
  await pinPeer(store, peer, 'us');
  const services = await buildServices({
    config,
    keys: readNodeKeys(dir),
    card: readOwnCard(dir),
    store,
    logger: pino({ level: 'silent' }),
    clock: () => new Date(),
    vapid: readVapidKey(join(dir, 'keys')),
    factorKey: readFactorKey(join(dir, 'keys')),
  });
  const operator = await operatorServer(services);
  const federation = await federationServer(services);
  await Promise.all([operator.ready(), federation.ready()]);
  return {
    ...services,
    dir,
    operator,
    federation,
    adminPassword: admin.password,
    async close() {
      await Promise.all([operator.close(), federation.close()]);
      await services.escalation.stop();
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
