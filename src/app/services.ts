/**
 * The composition root: every service of a node built once, in dependency order, into one typed
 * record that the listeners and the commands are handed. Nothing registers itself anywhere and
 * nothing is looked up at run time: a service is given what it uses, by name, here.
 */
import type { Logger } from 'pino';
import { defaultVerifyThreads, Ed25519Pool } from '../crypto/ed25519-pool.ts';
import type { NodeKeys } from '../crypto/keys.ts';
import type { TlsIdentity } from '../crypto/tls.ts';
import { Alarms } from '../node/core/alarms.ts';
import type { Config } from '../node/core/config.ts';
import { NodeEvents } from '../node/core/events.ts';
import { Leadership } from '../node/core/leadership.ts';
import { Metrics } from '../node/core/metrics.ts';
import { Node } from '../node/core/node.ts';
import { Peers } from '../node/core/peers.ts';
import { ReplicaFeed } from '../node/core/replica-feed.ts';
import { SealingKeyRetirement } from '../node/core/sealing-retirement.ts';
import type { VapidKey } from '../node/core/vapid.ts';
import { Heartbeats } from '../node/delivery/heartbeat.ts';
import { Outbox } from '../node/delivery/outbox.ts';
import { Paths } from '../node/delivery/paths.ts';
import { RelayCollector } from '../node/delivery/relays.ts';
import { Watchdog } from '../node/delivery/watchdog.ts';
import { Approvals } from '../node/incidents/approvals.ts';
import { Escalation } from '../node/incidents/escalation.ts';
import { FollowupRecorder } from '../node/incidents/followups.ts';
import { LinkTests } from '../node/incidents/linktest.ts';
import { Notifiers } from '../node/incidents/notifiers.ts';
import { PushNotifier } from '../node/incidents/push.ts';
import { Language } from '../node/language/language.ts';
import { openPeople, type People } from '../node/people/people.ts';
import { Integrity } from '../node/record/integrity.ts';
import { Ledger, logNoteSigner } from '../node/record/ledger.ts';
import { ReceiptProofs } from '../node/record/receipt-proofs.ts';
import { Recovery } from '../node/record/recovery.ts';
import { Witness } from '../node/record/witness.ts';
import { Compliance } from '../node/regimes/compliance.ts';
import type { SignedCard } from '../protocol/card.ts';
import { loadRegimes, type Regimes } from '../protocol/regimes.ts';
import { DraftStore } from '../store/approvals.ts';
import { FollowupStore } from '../store/followups.ts';
import type { PostgresOptions } from '../store/postgres/index.ts';
import { PostgresLeases } from '../store/postgres/leases.ts';
import { PostgresChannel } from '../store/postgres/notify.ts';
import { PushStore } from '../store/push.ts';
import { RotationStore } from '../store/rotations.ts';
import type { Store } from '../store/store.ts';

/** What a node is built from: its data folder's contents, a logger and a clock. */
export interface ServiceParts {
  config: Config;
  keys: NodeKeys;
  card: SignedCard;
  store: Store;
  logger: Logger;
  /** The node's time for deadlines, escalation and the roster (tests inject one). */
  clock: () => Date;
  /** The node's VAPID key (./start.ts reads it); without one, nothing is pushed. */
  vapid?: VapidKey | undefined;
  /** The key sealing TOTP secrets in the store (./start.ts reads it); without one, no TOTP. */
  factorKey?: Uint8Array | undefined;
  /** The key folder, where retired sealing keys are destroyed; without it none is. */
  keysDir?: string | undefined;
  /**
   * The node's TLS key and certificate (./start.ts reads them): the federation listener serves
   * pinned mutual TLS and peers that pin TLS are called over it. Absent in a folder made before
   * pinned TLS (plain HTTP only, until `hotline rotate`).
   */
  tls?: TlsIdentity | undefined;
}

/** Every service of one node. */
export interface Services extends ServiceParts {
  events: NodeEvents;
  metrics: Metrics;
  /** Present on a replica (`replica` configured): who leads, and the fence of every write. */
  leadership: Leadership | undefined;
  /** Present on a replica: every replica's events on this one (LISTEN/NOTIFY). */
  replicaFeed: { feed: ReplicaFeed; channel: PostgresChannel } | undefined;
  ledger: Ledger;
  peers: Peers;
  alarms: Alarms;
  rotations: RotationStore;
  sealingKeys: SealingKeyRetirement;
  followups: FollowupStore;
  recorder: FollowupRecorder;
  node: Node;
  /** Worker threads that check received signatures (closed when the node stops). */
  verifier: Ed25519Pool;
  paths: Paths;
  witness: Witness;
  integrity: Integrity;
  receiptProofs: ReceiptProofs;
  recovery: Recovery;
  outbox: Outbox;
  heartbeats: Heartbeats;
  relays: RelayCollector;
  /** Present when `watchdog.url` is configured. */
  watchdog: Watchdog | undefined;
  language: Language;
  people: People;
  notifiers: Notifiers;
  push: PushNotifier;
  pushSubscriptions: PushStore;
  escalation: Escalation;
  approvals: Approvals;
  linkTests: LinkTests;
  regimes: Regimes;
  compliance: Compliance;
}

/**
 * Builds a node's services over an open store. Nothing runs yet: `startServices` starts the
 * loops, and the listeners are given the record. A bad vocabulary or regimes file throws here.
 *
 * @example
 *   const services = await buildServices({ config, keys, card, store, logger, clock });
 *   await services.node.release(['cn'], draft);
 */
export async function buildServices(parts: ServiceParts): Promise<Services> {
  const { config, keys, card, store, logger, clock } = parts;
  const regimes = loadRegimes(config.regimesFile);
  const events = new NodeEvents();
  const metrics = new Metrics(config.party);
  const leadership = replicaLeadership(config, logger, metrics);
  const ledger = await Ledger.open(store, logNoteSigner(keys), leadership?.guard);
  metrics.countCommits(() => ledger.commits);
  const peers = await Peers.open(store);
  const replicaFeed = replicaEvents(config, logger, events, peers);
  const alarms = new Alarms({ store, ledger, logger, events, clock });
  const integrity = new Integrity({ config, store, alarms, logger });
  const rotations = new RotationStore(store);
  const sealingKeys = new SealingKeyRetirement({
    keys,
    keysDir: parts.keysDir,
    rotations,
    peers,
    ledger,
    logger,
    clock,
  });
  const followups = new FollowupStore(store);
  const recorder = new FollowupRecorder({ config, followups, alarms, events, logger });
  // Escalation releases acks through the node, and the node's commits carry escalation's first
  // step: the one cycle between services, closed here. The hook reaches `escalation` only when
  // messages are stored, which nothing does before this function has built it.
  let escalation: Escalation | undefined;
  const language = new Language({
    config,
    card,
    store,
    ledger,
    peers,
    rotations,
    logger,
    regimes,
  });
  // Threads start with the first batch received; they do not hold the process open.
  const verifier = new Ed25519Pool(defaultVerifyThreads(), { background: true });
  const node = new Node({
    config,
    keys,
    store,
    ledger,
    peers,
    metrics,
    logger,
    events,
    alarms,
    rotations,
    integrity,
    clock,
    onCommit: async (tx, log, dir, messages) => {
      const { due, unwritten } = await recorder.record(tx, log, dir, messages);
      if (!escalation) throw new Error('a message was stored before escalation was built');
      await escalation.fireInCommit(due, unwritten, tx, log);
    },
    regimes,
    vocabulary: language.vocabulary,
    verifier,
  });
  const paths = new Paths({ config, keys, tls: parts.tls, peers, alarms, metrics, events, logger });
  const witness = new Witness({ config, keys, store, ledger, peers, paths, alarms, logger });
  const receiptProofs = new ReceiptProofs(ledger);
  const outbox = new Outbox({
    config,
    store,
    ledger,
    peers,
    paths,
    witness,
    alarms,
    metrics,
    events,
    logger,
  });
  const recovery = new Recovery({
    config,
    keys,
    card,
    store,
    ledger,
    peers,
    paths,
    witness,
    outbox,
    alarms,
    logger,
    clock,
  });
  const heartbeats = new Heartbeats({
    config,
    keys,
    card,
    store,
    ledger,
    peers,
    paths,
    witness,
    outbox,
    metrics,
    logger,
  });
  const relays = new RelayCollector({
    config,
    keys,
    tls: parts.tls,
    alarms,
    card,
    node,
    receiptProofs,
    peers,
    paths,
    witness,
    outbox,
    metrics,
    logger,
  });
  const watchdog = config.watchdog
    ? new Watchdog({ config, store, metrics, logger }, config.watchdog)
    : undefined;
  const people = openPeople(store, config, ledger, clock, parts.factorKey, alarms);
  if (parts.factorKey) {
    const sealed = await people.factors.sealStored();
    if (sealed) logger.warn({ sealed }, 'TOTP secrets stored in the clear were sealed');
  }
  const pushSubscriptions = new PushStore(store);
  const drafts = new DraftStore(store);
  const push = new PushNotifier({
    config: config.notify.push,
    vapid: parts.vapid,
    subscriptions: pushSubscriptions,
    words: {
      vocabulary: language.vocabulary,
      partyName: (party, lang) => {
        const names = peers.get(party)?.signed.card.names;
        return names?.[lang] ?? names?.en ?? party;
      },
    },
    categoryOf: async (party, id) => {
      const row = (await store.getInbox(party, id)) ?? (await store.getOutbox(party, id));
      const message = row?.body ?? (await drafts.get(id))?.message;
      return message?.report?.category ?? null;
    },
    logger,
    clock,
  });
  const notifiers = new Notifiers(config.notify, logger, push);
  escalation = new Escalation({
    config,
    store,
    ledger,
    node,
    alarms,
    events,
    recorder,
    notifiers,
    logger,
    clock,
    roster: people.roster,
    trail: people.trail,
  });
  const approvals = new Approvals({
    config,
    store,
    node,
    peers,
    people,
    events,
    logger,
    followups,
    alarms,
  });
  const linkTests = new LinkTests({ config, store, node, peers, language, logger, clock });
  const compliance = new Compliance({
    config,
    store,
    ledger,
    peers,
    alarms,
    regimes,
    logger,
    clock,
  });
  // How the services wake each other, in one place: a release starts delivery at once, and a
  // follow-up due now that its commit could not fire is fired without waiting for the next look.
  events.on('released', (party, rank) => outbox.kick(party, rank));
  events.on('timers-due', () => escalation.kick());
  // A peer's rotation applied here or, relayed, by another replica: the card is read again (the
  // replica that applied it pinned it already) and what waits for its receipts is due at once.
  events.on('repinned', (party) => {
    peers
      .reload()
      .then(() => outbox.retryNow(party))
      .catch((err: unknown) =>
        logger.error({ err, peer: party }, 'retrying after a rotation failed'),
      );
  });
  return {
    ...parts,
    events,
    metrics,
    leadership,
    replicaFeed,
    ledger,
    peers,
    alarms,
    rotations,
    sealingKeys,
    followups,
    recorder,
    node,
    verifier,
    paths,
    witness,
    integrity,
    receiptProofs,
    recovery,
    outbox,
    heartbeats,
    relays,
    watchdog,
    language,
    people,
    notifiers,
    push,
    pushSubscriptions,
    escalation,
    approvals,
    linkTests,
    regimes,
    compliance,
  };
}

/** The options of the PostgreSQL store every replica shares, when this node is a replica. */
function replicaStore(config: Config): PostgresOptions | undefined {
  const { replica, store } = config;
  if (!replica || store.backend !== 'postgres' || !store.url) return undefined;
  return { url: store.url, ...(store.schema ? { schema: store.schema } : {}) };
}

/** A replica's leadership: the lease, and the fence of every unit of work. */
function replicaLeadership(
  config: Config,
  logger: Logger,
  metrics: Metrics,
): Leadership | undefined {
  const options = replicaStore(config);
  if (!options || !config.replica) return undefined;
  return new Leadership({
    leases: new PostgresLeases(options),
    id: config.replica.id,
    leaseMs: config.replica.leaseMs,
    renewMs: config.replica.renewMs,
    logger,
    metrics,
  });
}

/** Every replica's events on this one, through the store's notification channel. */
function replicaEvents(
  config: Config,
  logger: Logger,
  events: NodeEvents,
  peers: Peers,
): Services['replicaFeed'] {
  const options = replicaStore(config);
  if (!options || !config.replica) return undefined;
  const feed = new ReplicaFeed(events, config.replica.id, logger, peers);
  return { feed, channel: new PostgresChannel(options, feed.hear, logger) };
}
