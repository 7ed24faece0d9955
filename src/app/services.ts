/**
 * The composition root: every service of a node built once, in dependency order, into one typed
 * record that the listeners and the commands are handed. Nothing registers itself anywhere and
 * nothing is looked up at run time: a service is given what it uses, by name, here.
 */
import type { Logger } from 'pino';
import type { NodeKeys } from '../crypto/keys.ts';
import type { TlsIdentity } from '../crypto/tls.ts';
import { ed25519NoteSigner } from '../ledger/note.ts';
import { Alarms } from '../node/core/alarms.ts';
import type { Config } from '../node/core/config.ts';
import { NodeEvents } from '../node/core/events.ts';
import { Metrics } from '../node/core/metrics.ts';
import { Node } from '../node/core/node.ts';
import { Peers } from '../node/core/peers.ts';
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
import { Ledger } from '../node/record/ledger.ts';
import { ReceiptProofs } from '../node/record/receipt-proofs.ts';
import { Witness } from '../node/record/witness.ts';
import { Compliance } from '../node/regimes/compliance.ts';
import type { SignedCard } from '../protocol/card.ts';
import { loadRegimes, type Regimes } from '../protocol/regimes.ts';
import { DraftStore } from '../store/approvals.ts';
import { FollowupStore } from '../store/followups.ts';
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
  ledger: Ledger;
  peers: Peers;
  alarms: Alarms;
  rotations: RotationStore;
  followups: FollowupStore;
  recorder: FollowupRecorder;
  node: Node;
  paths: Paths;
  witness: Witness;
  integrity: Integrity;
  receiptProofs: ReceiptProofs;
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
  const logKey = keys.get('log');
  const ledger = await Ledger.open(
    store,
    ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret),
  );
  metrics.countCommits(() => ledger.commits);
  const peers = await Peers.open(store);
  const alarms = new Alarms({ store, ledger, logger, events, clock });
  const integrity = new Integrity({ config, store, alarms, logger });
  const rotations = new RotationStore(store);
  const followups = new FollowupStore(store);
  const recorder = new FollowupRecorder({ config, followups, alarms, events, logger });
  // Escalation releases acks through the node, and the node's commits carry escalation's first
  // step: the one cycle between services, closed here. The hook reaches `escalation` only when
  // messages are stored, which nothing does before this function has built it.
  let escalation: Escalation | undefined;
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
      const due = await recorder.record(tx, log, dir, messages);
      if (!escalation) throw new Error('a message was stored before escalation was built');
      await escalation.fireInCommit(due, tx, log);
    },
    regimes,
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
  const language = new Language({ config, card, store, ledger, peers, logger, regimes });
  const people = openPeople(store, config.access, ledger, clock);
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
  return {
    ...parts,
    events,
    metrics,
    ledger,
    peers,
    alarms,
    rotations,
    followups,
    recorder,
    node,
    paths,
    witness,
    integrity,
    receiptProofs,
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
