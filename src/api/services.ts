/**
 * How the listeners get the node's services: one plugin decorates the Fastify instance with the
 * services it is given, and every route plugin is made by `routes`, naming the services it uses.
 * Fastify checks those names when the plugin registers, so a listener built without a service a
 * route needs fails at boot, not at the first request. Handlers are typed from their TypeBox
 * schemas (the type provider), so a handler never casts its request.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { NodeKeys } from '../crypto/keys.ts';
import type { TlsIdentity } from '../crypto/tls.ts';
import type { Alarms } from '../node/core/alarms.ts';
import type { Config } from '../node/core/config.ts';
import type { NodeEvents } from '../node/core/events.ts';
import type { Metrics } from '../node/core/metrics.ts';
import type { Node } from '../node/core/node.ts';
import type { Peers } from '../node/core/peers.ts';
import type { SealingKeyRetirement } from '../node/core/sealing-retirement.ts';
import type { Heartbeats } from '../node/delivery/heartbeat.ts';
import type { Paths } from '../node/delivery/paths.ts';
import type { Watchdog } from '../node/delivery/watchdog.ts';
import type { Approvals } from '../node/incidents/approvals.ts';
import type { Escalation } from '../node/incidents/escalation.ts';
import type { PushNotifier } from '../node/incidents/push.ts';
import type { Language } from '../node/language/language.ts';
import type { People } from '../node/people/people.ts';
import type { Ledger } from '../node/record/ledger.ts';
import type { ReceiptProofs } from '../node/record/receipt-proofs.ts';
import type { Recovery } from '../node/record/recovery.ts';
import type { Witness } from '../node/record/witness.ts';
import type { Compliance } from '../node/regimes/compliance.ts';
import type { SignedCard } from '../protocol/card.ts';
import type { Regimes } from '../protocol/regimes.ts';
import type { FollowupStore } from '../store/followups.ts';
import type { PushStore } from '../store/push.ts';
import type { RotationStore } from '../store/rotations.ts';
import type { Store } from '../store/store.ts';

/** The services the listeners serve from (src/app builds them). */
export interface ApiServices {
  config: Config;
  keys: NodeKeys;
  tls?: TlsIdentity | undefined;
  card: SignedCard;
  store: Store;
  clock: () => Date;
  logger: Logger;
  events: NodeEvents;
  metrics: Metrics;
  ledger: Ledger;
  peers: Peers;
  alarms: Alarms;
  rotations: RotationStore;
  sealingKeys: SealingKeyRetirement;
  followups: FollowupStore;
  node: Node;
  paths: Paths;
  witness: Witness;
  receiptProofs: ReceiptProofs;
  recovery: Recovery;
  heartbeats: Heartbeats;
  watchdog: Watchdog | undefined;
  language: Language;
  people: People;
  escalation: Escalation;
  approvals: Approvals;
  push: PushNotifier;
  pushSubscriptions: PushStore;
  regimes: Regimes;
  compliance: Compliance;
}

declare module 'fastify' {
  interface FastifyInstance extends ApiServices {}
}

/** A Fastify instance whose handlers are typed from their TypeBox schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Every name of ApiServices, so that only services become decorators (the compiler checks it). */
const NAMES = {
  config: true,
  keys: true,
  tls: true,
  card: true,
  store: true,
  clock: true,
  logger: true,
  events: true,
  metrics: true,
  ledger: true,
  peers: true,
  alarms: true,
  rotations: true,
  sealingKeys: true,
  followups: true,
  node: true,
  paths: true,
  witness: true,
  receiptProofs: true,
  recovery: true,
  heartbeats: true,
  watchdog: true,
  language: true,
  people: true,
  escalation: true,
  approvals: true,
  push: true,
  pushSubscriptions: true,
  regimes: true,
  compliance: true,
} satisfies Record<keyof ApiServices, true>;

/** Decorates the instance with the services given (a listener may serve only some of them). */
export const services = fp<Partial<ApiServices>>(
  async (app, given) => {
    for (const [name, service] of Object.entries(given))
      if (name in NAMES) app.decorate<unknown>(name, service);
  },
  { name: 'hotline-services', fastify: '5.x' },
);

/**
 * A route plugin that uses `needs` of the services: registration fails at boot when one is
 * missing. It stays encapsulated (its hooks apply to its own routes and below).
 */
export function routes<Options extends Record<string, unknown> = Record<never, never>>(
  name: string,
  needs: ReadonlyArray<keyof ApiServices>,
  plugin: (app: App, options: Options) => Promise<void>,
): FastifyPluginAsync<Options> {
  const typed: FastifyPluginAsync<Options> = (app, options) =>
    plugin(app.withTypeProvider<TypeBoxTypeProvider>(), options);
  return fp(typed, {
    name,
    fastify: '5.x',
    decorators: { fastify: [...needs] },
    dependencies: ['hotline-services'],
    encapsulate: true,
  });
}
