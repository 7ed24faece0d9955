/**
 * A running node: its services (services.ts) with their loops started and both listeners
 * serving, started and stopped as one. `hotline serve` and the demo run this.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { federationServer, hostPort, operatorServer } from '../api/server.ts';
import { type Config, readConfig } from '../node/core/config.ts';
import { openNodeStore, paths, readNodeKeys, readNodeTls, readOwnCard } from '../node/core/data.ts';
import { checkCardExpiry } from '../node/core/expiry.ts';
import { readVapidKey } from '../node/core/vapid.ts';
import { compareRegimes } from '../protocol/regimes.ts';
import { buildServices, type Services } from './services.ts';

export interface RunningNode extends Services {
  federationUrl: string;
  operatorUrl: string;
  stop(): Promise<void>;
}

/** How often the node looks at its own and its peers' card expiry. */
const EXPIRY_EVERY_MS = 3600_000;

/** How often the node anchors audit entries written by other processes (an export beside it). */
const ANCHOR_EVERY_MS = 5000;

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
  const config = { ...readConfig(dataDir), ...overrides };
  const logger = makeLogger(config, logDestination);
  const store = await openNodeStore(dataDir, config);
  let services: Services;
  try {
    services = await buildServices({
      config,
      keys: readNodeKeys(dataDir),
      card: readOwnCard(dataDir),
      store,
      logger,
      clock,
      // Made here for a node initialised before Web Push existed.
      vapid: readVapidKey(paths(dataDir).keys),
      tls: readNodeTls(dataDir),
    });
    warnVocabulary(services);
    warnRegimes(services);
  } catch (e) {
    await store.close();
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
  } = services;
  const servers: FastifyInstance[] = [];
  let anchoring: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  try {
    // Audit entries written beside the node (an export) or while it was stopped.
    await people.trail.anchor();
    anchoring = setInterval(() => {
      people.trail.anchor().catch((err) => logger.error({ err }, 'audit anchoring failed'));
    }, ANCHOR_EVERY_MS);
    anchoring.unref();
    // Drafts whose release a stopped node never committed go back to the queue.
    await approvals.recover();
    const federation = await federationServer(services);
    const operator = await operatorServer(services);
    servers.push(federation, operator);
    const federationUrl = await federation.listen(hostPort(config.listen));
    const operatorUrl = await operator.listen(hostPort(config.operatorListen));
    writeFileSync(
      paths(dataDir).running,
      `${JSON.stringify({ pid: process.pid, operatorUrl, federationUrl })}\n`,
    );
    integrity.start();
    outbox.start();
    heartbeats.start();
    relays.start();
    watchdog?.start();
    escalation.start();
    linkTests.start();
    compliance.start();
    const lookAtExpiry = () =>
      checkCardExpiry(services).catch((err: unknown) =>
        logger.error({ err }, 'card expiry check failed'),
      );
    await lookAtExpiry();
    expiry = setInterval(lookAtExpiry, EXPIRY_EVERY_MS);
    expiry.unref();
    logger.info({ federationUrl, operatorUrl }, 'node serving');
    return {
      ...services,
      federationUrl,
      operatorUrl,
      async stop() {
        watchdog?.stop();
        await within(config.stopWaitMs, 'link tests', linkTests.stop(), logger);
        await within(config.stopWaitMs, 'compliance', compliance.stop(), logger);
        clearInterval(anchoring);
        clearInterval(expiry);
        // Each part finishes what it has under way; one that overruns is named in the log and
        // left behind, so a stop always ends (what it had not committed is sent again later).
        await within(config.stopWaitMs, 'heartbeats', heartbeats.stop(), logger);
        await within(config.stopWaitMs, 'relay collection', relays.stop(), logger);
        await within(config.stopWaitMs, 'delivery', outbox.stop(), logger);
        await Promise.all(servers.map((s) => closeServer(s, config.stopWaitMs, logger)));
        await within(config.stopWaitMs, 'escalation', escalation.stop(), logger);
        await integrity.stop();
        await store.close();
        rmSync(paths(dataDir).running, { force: true });
      },
    };
  } catch (e) {
    clearInterval(anchoring);
    clearInterval(expiry);
    await compliance.stop();
    await escalation.stop();
    await integrity.stop();
    await Promise.all(servers.map((s) => s.close()));
    await store.close();
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
