/**
 * A running node: its services (services.ts) with their loops started and both listeners
 * serving, started and stopped as one. `hotline serve` and the demo run this.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { checkListenable, type Listener, listenOn } from '../api/listen.ts';
import { federationServer, operatorServer } from '../api/server.ts';
import { type Config, ConfigError, DEFAULT_LADDER, readConfig } from '../node/core/config.ts';
import { openNodeStore, paths, readNodeKeys, readNodeTls, readOwnCard } from '../node/core/data.ts';
import { checkCardExpiry } from '../node/core/expiry.ts';
import { readFactorKey } from '../node/core/factor-key.ts';
import type { Loops } from '../node/core/leadership.ts';
import { readVapidKey } from '../node/core/vapid.ts';
import { readRestoreMarker } from '../node/record/recovery.ts';
import { compareRegimes } from '../protocol/regimes.ts';
import { buildServices, type Services } from './services.ts';

export interface RunningNode extends Services {
  federationUrl: string;
  operatorUrl: string;
  stop(): Promise<void>;
}

/** How often the node looks at its own and its peers' card expiry. */
const EXPIRY_EVERY_MS = 3600_000;
/** How often a `nobody-on-duty` alarm is looked at, to clear it once someone is reachable. */
const LADDER_EVERY_MS = 60_000;

/** How often the node anchors audit entries written by other processes (an export beside it). */
const ANCHOR_EVERY_MS = 5000;

/** Far longer than any release takes: a draft `releasing` for longer was left by a dead replica. */
const RELEASE_TAKES_MS = 60_000;

/** Log redaction: secrets and message contents never reach the log. */
export const REDACT = [
  'secret',
  '*.secret',
  'body',
  '*.body',
  'token',
  'apiKey',
  '*.apiKey',
  'privateKey',
  '*.privateKey',
  'authorization',
  'req.headers.authorization',
  'password',
  '*.password',
  'cookie',
  'req.headers.cookie',
];

export function makeLogger(config: Config, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { party: config.party },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}

export async function startNode(
  dataDir: string,
  overrides: Partial<Pick<Config, 'listen' | 'operatorListen' | 'logLevel'>> = {},
  logDestination?: pino.DestinationStream,
  /** `clock`: the node's time for deadlines, escalation and the roster (tests inject one). */
  options: { clock?: () => Date } = {},
): Promise<RunningNode> {
  const clock = options.clock ?? (() => new Date());
  const config = readConfig(dataDir, overrides);
  const card = readOwnCard(dataDir);
  if (card.card.party !== config.party)
    throw new ConfigError(
      `${paths(dataDir).config} says party "${config.party}", but the node's card (card.json) is "${card.card.party}"'s: a node serves the party of its card`,
    );
  // Both ports before anything changes: a restored node's recovery is not run for a start that
  // then cannot listen.
  const listeners: Record<'federation' | 'operator', Listener> = {
    federation: {
      address: config.listen,
      setting: overrides.listen ? '--listen' : 'listen in hotline.yaml',
    },
    operator: {
      address: config.operatorListen,
      setting: overrides.operatorListen ? '--operator-listen' : 'operatorListen in hotline.yaml',
    },
  };
  await checkListenable([listeners.federation, listeners.operator]);
  const logger = makeLogger(config, logDestination);
  // The keys first: a token that refuses its PIN stops the start before the store is touched.
  const keys = readNodeKeys(dataDir, config);
  const store = await openNodeStore(dataDir, config).catch((e: unknown) => {
    keys.close();
    throw e;
  });
  let services: Services;
  try {
    services = await buildServices({
      config,
      keys,
      card,
      store,
      logger,
      clock,
      // Made here for a node initialised before Web Push existed.
      vapid: readVapidKey(paths(dataDir).keys),
      // Made here for a node initialised before TOTP secrets were sealed.
      factorKey: readFactorKey(paths(dataDir).keys),
      keysDir: paths(dataDir).keys,
      tls: readNodeTls(dataDir),
    });
    warnVocabulary(services);
    warnRegimes(services);
    await checkLadders(services, paths(dataDir).config);
  } catch (e) {
    await store.close();
    keys.close();
    throw e;
  }
  const {
    people,
    approvals,
    outbox,
    heartbeats,
    relays,
    watchdog,
    escalation,
    linkTests,
    integrity,
    compliance,
    leadership,
    replicaFeed,
  } = services;
  const servers: FastifyInstance[] = [];
  let anchoring: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let ladder: NodeJS.Timeout | undefined;
  // What one node runs, or on replicas the one holding the lease (src/node/core/leadership.ts):
  // every loop that writes on its own.
  const loops: Loops = {
    async start() {
      if (leadership) await takeOver();
      anchoring = setInterval(() => {
        people.trail.anchor().catch((err) => logger.error({ err }, 'audit anchoring failed'));
      }, ANCHOR_EVERY_MS);
      anchoring.unref();
      integrity.start();
      outbox.start();
      heartbeats.start();
      relays.start();
      escalation.start();
      linkTests.start();
      compliance.start();
      const lookAtExpiry = async () => {
        await checkCardExpiry(services).catch((err: unknown) =>
          logger.error({ err }, 'card expiry check failed'),
        );
        // A key kept past its time is no outage; one destroyed too early would be: errors keep it.
        await services.sealingKeys
          .check()
          .catch((err: unknown) => logger.error({ err }, 'retired sealing key check failed'));
      };
      await lookAtExpiry();
      expiry = setInterval(lookAtExpiry, EXPIRY_EVERY_MS);
      expiry.unref();
      ladder = setInterval(() => {
        people.roster
          .clearLadderAlarms()
          .catch((err: unknown) => logger.error({ err }, 'ladder alarm check failed'));
      }, LADDER_EVERY_MS);
      ladder.unref();
    },
    async stop() {
      clearInterval(anchoring);
      clearInterval(expiry);
      clearInterval(ladder);
      // Each part finishes what it has under way; one that overruns is named in the log and
      // left behind, so a stop always ends (what it had not committed is sent again later).
      await within(config.stopWaitMs, 'link tests', linkTests.stop(), logger);
      await within(config.stopWaitMs, 'compliance', compliance.stop(), logger);
      await within(config.stopWaitMs, 'heartbeats', heartbeats.stop(), logger);
      await within(config.stopWaitMs, 'relay collection', relays.stop(), logger);
      await within(config.stopWaitMs, 'delivery', outbox.stop(), logger);
      await within(config.stopWaitMs, 'escalation', escalation.pause(), logger);
      await integrity.stop();
    },
  };
  // Audit entries written beside the node (an export) or while it was stopped are anchored, and
  // drafts whose release a stopped node never committed go back to the queue: on one node before
  // it serves; on replicas by each new leader, for drafts left longer than a release takes
  // (another replica may be releasing one now).
  const takeOver = async () => {
    // Restored from a backup: a new log origin, and the seqs and messages lost, from the peers.
    const marker = readRestoreMarker(paths(dataDir).restored);
    if (marker) await services.recovery.afterRestore(paths(dataDir).restored, marker);
    await people.trail.anchor();
    // A new leader's heartbeats report every message the replicas stored, heard of or not.
    if (leadership) await services.peers.catchUp();
    await approvals.recover(leadership ? new Date(Date.now() - RELEASE_TAKES_MS) : undefined);
  };
  try {
    if (!leadership) await takeOver();
    const federation = await federationServer(services);
    const operator = await operatorServer(services);
    servers.push(federation, operator);
    const federationUrl = await listenOn(federation, listeners.federation);
    const operatorUrl = await listenOn(operator, listeners.operator);
    writeFileSync(
      paths(dataDir).running,
      `${JSON.stringify({ pid: process.pid, operatorUrl, federationUrl })}\n`,
    );
    watchdog?.start();
    await replicaFeed?.feed.start(replicaFeed.channel);
    if (leadership) leadership.start(loops);
    else await loops.start();
    logger.info({ federationUrl, operatorUrl }, 'node serving');
    return {
      ...services,
      federationUrl,
      operatorUrl,
      async stop() {
        watchdog?.stop();
        if (leadership) await leadership.stop();
        else await loops.stop();
        await Promise.all(servers.map((s) => closeServer(s, config.stopWaitMs, logger)));
        await replicaFeed?.feed.stop();
        await services.verifier.close();
        await within(config.stopWaitMs, 'escalation', escalation.stop(), logger);
        await store.close();
        keys.close();
        rmSync(paths(dataDir).running, { force: true });
      },
    };
  } catch (e) {
    watchdog?.stop();
    if (leadership) await leadership.stop();
    else await loops.stop();
    await replicaFeed?.feed.stop();
    await escalation.stop();
    await Promise.all(servers.map((s) => s.close()));
    await services.verifier.close();
    await store.close();
    keys.close();
    throw e;
  }
}

/** Waits for `work` up to `ms`; past that, says in the log what is still running and goes on. */
async function within(ms: number, what: string, work: Promise<unknown>, logger: Logger) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([work.then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late')
    logger.warn({ part: what, waitedMs: ms }, 'stopping without waiting for it');
  return outcome;
}

/**
 * Closes a listener: requests in progress are answered first, but a peer whose keep-alive
 * connection stays busy cannot hold the stop open; past the bound its connections are cut
 * (it retries, and the receiver answers a repeat with the receipt it already gave).
 */
async function closeServer(server: FastifyInstance, ms: number, logger: Logger): Promise<void> {
  const closing = server.close();
  if ((await within(ms, 'listener', closing, logger)) === 'late') {
    server.server.closeAllConnections();
    await closing;
  }
}

/** Warns of any difference between the loaded vocabulary and what the cards announce. */
/**
 * Refuses to serve with a ladder that names a desk this node does not have (a typo escalates to
 * nobody). The default ladder's missing desks are a warning: a new node has only `ops`, and its
 * operators create the others (docs/operators.md, "Setting up the ladder").
 */
async function checkLadders({ config, people, logger }: Services, where: string): Promise<void> {
  const desks = (await people.roster.desks()).map((d) => d.id);
  for (const [setting, ladder] of [
    ['incidents.ladder', config.incidents.ladder],
    ['approvals.ladder', config.approvals.ladder ?? []],
  ] as const) {
    const missing = ladder.filter((desk) => !desks.includes(desk));
    if (!missing.length) continue;
    const named = missing.map((d) => `"${d}"`).join(', ');
    const isDefault = setting === 'incidents.ladder' && ladder.join() === DEFAULT_LADDER.join();
    if (isDefault)
      logger.warn(
        { missing },
        `the escalation ladder (${ladder.join(' → ')}) names desks this node does not have yet (${named}): escalation reaching them reaches nobody; create them (hotline desk add)`,
      );
    else
      throw new ConfigError(
        `${where}: ${setting} names ${missing.length === 1 ? 'a desk' : 'desks'} this node does not have (${named}); its desks are ${desks.join(', ')}: correct the name, or create the desk first (hotline desk add <id> --name …)`,
      );
  }
}

function warnVocabulary({ language, peers, logger }: Services): void {
  const own = language.ownCard();
  if (!own.same)
    logger.warn(
      { loaded: own.ours, card: own.theirs },
      'this node loaded another vocabulary than its card announces: peers will see the card’s',
    );
  for (const party of peers.keys()) {
    const peer = language.peer(party);
    if (!peer.same) logger.warn({ peer: party, theirs: peer.theirs }, peer.warning as string);
  }
}

/**
 * Warns of any difference between our notification regimes and what the cards pin: compliance
 * may then be counted by other rules on the other side (a warning, never a refusal).
 */
function warnRegimes({ regimes, card, peers, logger }: Services): void {
  const own = compareRegimes(regimes, card.card.party, card.card.ext);
  if (!own.same)
    logger.warn(
      { loaded: own.ours, card: own.theirs ?? null },
      'this node loaded other notification regimes than its card pins: peers will see the card’s',
    );
  for (const party of peers.keys()) {
    const peer = compareRegimes(regimes, party, peers.pinned(party).card.ext);
    if (!peer.same)
      logger.warn({ peer: party, theirs: peer.theirs ?? null }, peer.warning as string);
  }
}
