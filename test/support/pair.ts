/**
 * Two in-process nodes on loopback, Washington (us) and Beijing (cn), each with fresh keys in a
 * temporary data folder, each having pinned the other's card.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import { type RunningNode, startNode } from '../../src/app/start.ts';
import { compareViews, verifyBundle } from '../../src/ledger/verify.ts';
import type { Config } from '../../src/node/core/config.ts';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { initDataDir, openNodeStore } from '../../src/node/core/data.ts';
import { pinPeer } from '../../src/node/core/peers.ts';
import { DEFAULT_ACCESS, dataFolderActor } from '../../src/node/people/people.ts';
import { backupNode } from '../../src/node/record/backup.ts';
import { exportLedger } from '../../src/node/record/export.ts';
import type { Draft } from '../../src/protocol/body.ts';
import { freePort } from './ports.ts';
import { downgradeToVersion1 } from './tls.ts';

export interface Site {
  party: string;
  dir: string;
  listen: string;
  operatorListen: string;
  /** Everything the node logged, as JSON lines. */
  logs: string[];
  running?: RunningNode;
}

export interface Pair {
  root: string;
  us: Site;
  cn: Site;
  /** `clock`: the node's injected clock (deadlines, escalation, roster). */
  start(site: Site, options?: { clock?: () => Date }): Promise<RunningNode>;
  stop(site: Site): Promise<void>;
  close(): Promise<void>;
}

const NAMES: Record<string, Record<string, string>> = {
  us: { en: 'Washington', zh: '华盛顿' },
  cn: { en: 'Beijing', zh: '北京' },
};

/**
 * `settings` apply to both nodes; `perSite` adds settings for one party (e.g. its store);
 * `version1` names parties whose folders are taken back to protocol version 1 (plain HTTP, a card
 * without a TLS pin) before the cards are exchanged.
 */
export async function createPair(
  settings: Partial<Config> = {},
  perSite: (party: string) => Partial<Config> = () => ({}),
  options: { version1?: readonly string[] } = {},
): Promise<Pair> {
  const root = mkdtempSync(join(tmpdir(), 'hotline-pair-'));
  const sites: Site[] = [];
  const cards = [];
  for (const party of ['us', 'cn']) {
    const dir = join(root, party);
    const listen = `127.0.0.1:${await freePort()}`;
    const operatorListen = `127.0.0.1:${await freePort()}`;
    const store = { ...settings, ...perSite(party) }.store;
    cards.push(
      await initDataDir(dir, {
        party,
        names: NAMES[party] ?? {},
        endpoints: [`https://${listen}`],
        listen,
        operatorListen,
        // The card announces the vocabulary the node is configured with.
        ...(perSite(party).vocabularyFile ? { vocabularyFile: perSite(party).vocabularyFile } : {}),
        // The first admin (and its token in operator.token) goes where the node keeps its records.
        ...(store ? { store } : {}),
      }),
    );
    writeConfig(dir, {
      party,
      listen,
      operatorListen,
      heartbeatMs: 300,
      ...settings,
      ...perSite(party),
      // Tests of other things sign officers and admins in with a password alone; the second
      // factor's own tests (test/browser/second-factor.test.ts) keep the default.
      access: {
        ...DEFAULT_ACCESS,
        secondFactor: { required: [] },
        ...settings.access,
        ...perSite(party).access,
      },
    });
    if (options.version1?.includes(party)) cards[cards.length - 1] = downgradeToVersion1(dir);
    sites.push({ party, dir, listen, operatorListen, logs: [] });
  }
  for (const [i, site] of sites.entries()) {
    const store = await openNodeStore(site.dir);
    await pinPeer(store, cards[1 - i] as (typeof cards)[number], site.party);
    await store.close();
  }
  const [us, cn] = sites as [Site, Site];
  const pair: Pair = {
    root,
    us,
    cn,
    async start(site, options = {}) {
      const sink = new Writable({
        write(chunk, _encoding, done) {
          site.logs.push(String(chunk));
          done();
        },
      });
      site.running = await startNode(site.dir, { logLevel: 'debug' }, sink, options);
      return site.running;
    },
    async stop(site) {
      await site.running?.stop();
      site.running = undefined;
    },
    async close() {
      for (const site of sites) await pair.stop(site);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return pair;
}

/** A node's ledger export, as `hotline export` writes it, line by line. */
export async function exportedLines(dir: string): Promise<string[]> {
  let text = '';
  await exportLedger(dir, (chunk) => {
    text += chunk;
  });
  return text.trimEnd().split('\n');
}

/**
 * Both nodes' ledger exports verified offline (`hotline verify`'s checks) and compared: the
 * failures of each, and between them.
 */
export async function recordFailures(pair: Pair) {
  const us = verifyBundle(await exportedLines(pair.us.dir));
  const cn = verifyBundle(await exportedLines(pair.cn.dir));
  if (!us.view || !cn.view) throw new Error('an export has no view to compare');
  return {
    us: us.report.failures,
    cn: cn.report.failures,
    between: compareViews(us.view, cn.view).failures,
  };
}

export function draft(overrides: Partial<Draft> = {}): Draft {
  return {
    type: 'query',
    precedence: 'routine',
    status: 'test',
    tlp: 'amber',
    codes: [],
    text: { lang: 'en', body: 'Link test.' },
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...overrides,
  };
}

/** A flash incident report with status actual: what the two-person rule holds by default. */
export function flashReport(overrides: Partial<Draft> = {}): Draft {
  return draft({
    type: 'incident.report',
    incident: uuidv7(),
    precedence: 'flash',
    status: 'actual',
    text: { lang: 'en', body: 'A model is exfiltrating its weights.' },
    report: {
      nature: 'incident',
      category: 'category.weights-proliferation',
      actionsTaken: [],
      actionsRequested: [],
    },
    ...overrides,
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A running pair in which Beijing has receipted a message of Washington's, and a backup of
 * Washington taken then (`us-backup.db` in the pair's root): what a restore test starts from.
 */
export async function pairWithBackup(): Promise<{ pair: Pair; backup: string }> {
  const pair = await createPair();
  const { us, cn } = pair;
  await pair.start(us);
  await pair.start(cn);
  const sent = await us.running?.node.release(['cn'], draft());
  await eventually(
    async () =>
      (await us.running?.store.getOutbox('cn', sent?.id ?? ''))?.status === 'receipted' ||
      undefined,
    30_000,
    'the message receipted',
  );
  const backup = join(pair.root, 'us-backup.db');
  await backupNode(us.dir, readConfig(us.dir), backup);
  return { pair, backup };
}

/**
 * Olga (operator), Oscar and Otto (officers) on `node`, each staffing `ops` on the console, with
 * the passwords `<name>-passphrase-1`: the people a two-person-rule test needs. Answers their
 * tokens by name.
 */
export async function staffOps(node: RunningNode): Promise<Record<string, string>> {
  const { accounts, roster } = node.people;
  const by = dataFolderActor();
  const tokens: Record<string, string> = {};
  for (const [name, role] of [
    ['olga', 'operator'],
    ['oscar', 'officer'],
    ['otto', 'officer'],
  ] as const) {
    await accounts.add(by, { name, role, password: `${name}-passphrase-1` });
    await roster.putStaff(by, 'ops', name, [{ kind: 'console' }]);
    tokens[name] = (await accounts.issueToken(by, name)).token;
  }
  return tokens;
}
