/**
 * The node's configuration file, `<data>/hotline.yaml`: validated, with defaults, and errors that
 * name the offending setting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse, stringify } from 'yaml';
import { Endpoint } from '../../protocol/card.ts';
import {
  Code,
  HostPort,
  Label,
  Lang,
  PartyId,
  Slug,
  Text,
  webAddressProblem,
} from '../../protocol/common.ts';
import { PRECEDENCE_DEADLINES } from '../../protocol/glossary.ts';
import { schemaFault } from '../../protocol/validate.ts';
import { BODY_TYPES, PRECEDENCES, STATUSES, TLPS } from '../../protocol/values.ts';
import { writeOutFileSync } from './out-file.ts';
import { CONFIG_FILE, paths } from './paths.ts';

/** A TLS pin: hex SHA-256 of a certificate's SubjectPublicKeyInfo (as cards carry it). */
const TlsPin = Type.String({ pattern: '^[0-9a-f]{64}$' });

const RelayUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 512 });

/** A relay: its URL (CA-checked over `https:`, plain over `http:`), or its URL and its pin. */
const Relay = Type.Union([
  RelayUrl,
  Type.Object({ url: RelayUrl, pin: TlsPin }, { additionalProperties: false }),
]);

/** A path to a peer set here: an endpoint as cards list them, and for a relay its pin. */
const ConfiguredPath = Type.Object(
  { ...Endpoint.properties, pin: Type.Optional(TlsPin) },
  { additionalProperties: false },
);

const oneOf = <T extends readonly string[]>(values: T, options: { default?: T[number] } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v as T[number])),
    options,
  );

/**
 * A draft matching any rule waits for a second officer (two-person rule). Each list left out
 * matches every value; a rule with none matches every message.
 */
const ApprovalRule = Type.Object(
  {
    types: Type.Optional(Type.Array(oneOf(BODY_TYPES), { minItems: 1 })),
    precedences: Type.Optional(Type.Array(oneOf(PRECEDENCES), { minItems: 1 })),
    statuses: Type.Optional(Type.Array(oneOf(STATUSES), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type ApprovalRule = Static<typeof ApprovalRule>;

/**
 * A message agreed in advance. Sent by its id (POST /api/v1/templates/:id/send), it releases at
 * once when `preApproved`, whatever the rules say; otherwise the rules decide as for any draft.
 */
const Template = Type.Object(
  {
    id: Slug,
    title: Type.Record(Lang, Label),
    preApproved: Type.Boolean({ default: false }),
    type: oneOf(BODY_TYPES),
    precedence: oneOf(PRECEDENCES),
    status: oneOf(STATUSES),
    tlp: oneOf(TLPS),
    codes: Type.Array(Code, { maxItems: 32, default: [] }),
    text: Type.Optional(Type.Object({ lang: Lang, body: Text }, { additionalProperties: false })),
    translations: Type.Array(
      Type.Object({ lang: Lang, body: Text }, { additionalProperties: false }),
      { maxItems: 8, default: [] },
    ),
    /** For report templates: the category code of the report section. */
    category: Type.Optional(Code),
    /** For notice templates: the subject code of the notice section. */
    subject: Type.Optional(Code),
  },
  { additionalProperties: false },
);
export type Template = Static<typeof Template>;

const DEFAULT_RULES: ApprovalRule[] = [
  { types: ['incident.report'], precedences: ['flash'], statuses: ['actual'] },
  { types: ['incident.close'], statuses: ['actual'] },
];

const DEFAULT_TEMPLATES: Template[] = [
  {
    id: 'exercise-flash',
    title: { en: 'Exercise flash report', zh: '演习特提报告' },
    preApproved: true,
    type: 'incident.report',
    precedence: 'flash',
    status: 'exercise',
    tlp: 'clear',
    codes: ['phrase.this-is-exercise'],
    text: { lang: 'en', body: 'EXERCISE EXERCISE EXERCISE. This is a drill: please acknowledge.' },
    translations: [{ lang: 'zh', body: '演习 演习 演习。这是一次演练：请确认收到。' }],
    category: 'category.other',
  },
  {
    id: 'link-test',
    title: { en: 'Link test', zh: '线路测试' },
    preApproved: true,
    type: 'test',
    precedence: 'immediate',
    status: 'test',
    tlp: 'clear',
    codes: ['linktest.01'],
    text: { lang: 'en', body: 'Link test. Please acknowledge.' },
    translations: [{ lang: 'zh', body: '线路测试。请确认收到。' }],
  },
  {
    id: 'maintenance-notice',
    title: { en: 'Hotline maintenance notice', zh: '热线维护通报' },
    preApproved: true,
    type: 'notice',
    precedence: 'routine',
    status: 'actual',
    tlp: 'clear',
    codes: [],
    translations: [],
    subject: 'notice.hotline-maintenance',
  },
];

/** The escalation ladder a node has unless `incidents.ladder` is set. */
export const DEFAULT_LADDER = ['ops', 'duty-officer', 'principal'];

/** A precedence's deadlines; the defaults are the glossary's, which the vocabulary states. */
function Deadline({
  ackMinutes,
  escalateMinutes,
}: {
  ackMinutes: number;
  escalateMinutes: number;
}) {
  return Type.Object(
    {
      ackMinutes: Type.Integer({ minimum: 1, maximum: 10_080, default: ackMinutes }),
      escalateMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: escalateMinutes }),
    },
    { additionalProperties: false, default: {} },
  );
}

/**
 * What every HTTP listener (federation, operator, relay) accepts before a handler runs: JSON
 * bodies bounded before they are parsed, time limits per request and a connection cap.
 */
export const HttpLimits = Type.Object(
  {
    /** Arrays and objects open at once in a JSON body. */
    maxDepth: Type.Integer({ minimum: 4, maximum: 1000, default: 64 }),
    /** Members of one array or object in a JSON body. */
    maxMembers: Type.Integer({ minimum: 16, maximum: 1_000_000, default: 10_000 }),
    /** Arrays, objects and members in a whole JSON body. */
    maxValues: Type.Integer({ minimum: 64, maximum: 10_000_000, default: 200_000 }),
    /** A request (headers and body) not received in full within this is cut off. */
    requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
    /** Headers not received in full within this are cut off. */
    headersTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
    /** Open connections per listener; more are refused at once. */
    maxConnections: Type.Integer({ minimum: 1, maximum: 100_000, default: 512 }),
    /**
     * Host names the operator listener answers besides loopback ones (`localhost`, 127.0.0.1,
     * ::1) and its own listen address: the names people type to reach the console.
     */
    operatorHosts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$' }), {
      maxItems: 32,
      default: [],
    }),
  },
  { additionalProperties: false, default: {} },
);
export type HttpLimits = Static<typeof HttpLimits>;

/** The limits when nothing is configured. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = Value.Default(HttpLimits, {}) as HttpLimits;

/** A PKCS#11 token: which library, which token (label or slot id), where the PIN is. */
export const Pkcs11Config = Type.Object(
  {
    /** The PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
    module: Type.String({ minLength: 1, maxLength: 1024 }),
    /** The token's label (CKA_LABEL of the token); or `slot`. */
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    /** The slot id, when the token is not named by its label. */
    slot: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * A file holding the user PIN (mode 0600). Without it the PIN comes from
     * HOTLINE_PKCS11_PIN_FILE, HOTLINE_PKCS11_PIN or the systemd credential hotline-pkcs11-pin.
     */
    pinFile: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** The key purposes on the token, each by its key objects' CKA_LABEL. */
    labels: Type.Object(
      {
        identity: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        signing: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        log: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        witness: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  { additionalProperties: false },
);
export type Pkcs11Config = Static<typeof Pkcs11Config>;

export const Config = Type.Object(
  {
    party: PartyId,
    /** Federation listener: peers only. */
    listen: Type.String({ ...HostPort, default: '127.0.0.1:7100' }),
    /** Operator listener: console, CLI, /metrics. */
    operatorListen: Type.String({ ...HostPort, default: '127.0.0.1:7101' }),
    heartbeatMs: Type.Integer({ minimum: 200, maximum: 600_000, default: 2000 }),
    /** Beyond this gap between a peer's `sent` and our receipt time, a skew alarm is raised. */
    skewAlarmMs: Type.Integer({ minimum: 1000, default: 300_000 }),
    /** How long stopping waits for each part (delivery, heartbeats, each listener) to finish. */
    stopWaitMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
    outbox: Type.Object(
      {
        batch: Type.Integer({ minimum: 1, maximum: 256, default: 256 }),
        backoffBaseMs: Type.Integer({ minimum: 10, default: 250 }),
        backoffMaxMs: Type.Integer({ minimum: 100, default: 30_000 }),
        /** A send that takes longer than this counts as failed. */
        sendTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        /**
         * A batch unanswered on one path after this long is sent on the next path as well
         * (failover on a send timeout); the first verified answer wins.
         */
        failoverMs: Type.Integer({ minimum: 50, default: 750 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Undelivered messages the outbox holds for one peer: past `warnAt` of the bound (a fraction)
     * an `outbox-full` alarm is raised; at the bound a new release to that peer is refused with
     * `E_OUTBOX_FULL` (nothing released is ever dropped).
     */
    outboxBound: Type.Object(
      {
        maxPendingPerPeer: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000 }),
        warnAt: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.8 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Integrity while running (docs/operators.md § Integrity). */
    integrity: Type.Object(
      {
        /** Between checks of the store's structure (SQLite `PRAGMA quick_check`); one at start. */
        checkIntervalMs: Type.Integer({ minimum: 1000, maximum: 604_800_000, default: 21_600_000 }),
        /**
         * Sends of one message whose receipt the witness refused as a fork, after which delivery
         * to that peer stops resending until the `fork` alarm is cleared.
         */
        forkResends: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Local paths to peers, beside (or, with the same id, instead of) those their cards list:
     * `paths: { cn: [{ id: alternate, kind: direct, url: "http://…", priority: 5 }] }`. A relay
     * path may carry the relay's TLS pin (`pin: <hex>`), as a `relays` entry may.
     */
    paths: Type.Record(PartyId, Type.Array(ConfiguredPath, { maxItems: 8 }), { default: {} }),
    /**
     * Each party's time zone (IANA name), ours included, so the console shows both sides' local
     * times beside UTC: `timeZones: { us: America/New_York, cn: Asia/Shanghai }`.
     */
    timeZones: Type.Record(
      PartyId,
      Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$', maxLength: 64 }),
      { default: {} },
    ),
    /**
     * What each desk is called in each language, for the console's alarm lines and pages:
     * `deskLabels: { duty-officer: { en: Duty officer, zh: 值班官 } }`. A desk without a label in
     * the reader's language is shown by its id.
     */
    deskLabels: Type.Record(Slug, Type.Record(Lang, Label), { default: {} }),
    /**
     * Relays this node collects its own mail from, beside those its card and peers' cards list:
     * each a URL, or `{ url, pin }` with the SPKI pin `hotline relay` prints. A relay with a pin is
     * called over pinned mutual TLS, wherever its URL comes from (a peer's card, a path): only
     * the pinned certificate is accepted (`tls-pin` alarm otherwise).
     */
    relays: Type.Array(Relay, { maxItems: 8, default: [] }),
    /** How often the node collects from each relay it knows. */
    relayPollMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }),
    /** Bounds on what the listeners accept (docs/operators.md § Listener limits). */
    http: HttpLimits,
    /** Dead-man's switch: a URL the node GETs on a schedule while it is healthy. */
    watchdog: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }),
          intervalMs: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000 }),
          timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
        },
        { additionalProperties: false },
      ),
    ),
    epoch: Type.Object(
      {
        maxMessages: Type.Integer({ minimum: 1, default: 10_000 }),
        maxAgeMs: Type.Integer({ minimum: 1000, default: 3_600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Where the node keeps its records: the embedded SQLite file, or a PostgreSQL schema. */
    store: Type.Object(
      {
        backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
          default: 'sqlite',
        }),
        /** PostgreSQL only: a libpq URL, `postgres://user@host:5432/db`. */
        url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', maxLength: 2048 })),
        /** PostgreSQL only: the schema holding this node's tables (created when missing). */
        schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * One replica of several over one PostgreSQL store (docs/deployment.md § Replicas): the
     * replica holding the lease runs delivery and the timers; every replica serves.
     */
    replica: Type.Optional(
      Type.Object(
        {
          /** This replica's name among its party's replicas (unique per replica). */
          id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
          /** How long a lease lasts without renewal: a dead leader is replaced after this. */
          leaseMs: Type.Integer({ minimum: 500, maximum: 60_000, default: 3000 }),
          /** How often the leader renews it (or a follower tries to take it). */
          renewMs: Type.Integer({ minimum: 100, maximum: 30_000, default: 1000 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Where the private keys live besides `<data>/keys` (docs/deployment.md § Keys on a token). */
    keys: Type.Object(
      {
        /**
         * A PKCS#11 token holding the Ed25519 keys of the purposes in `labels` (by CKA_LABEL; the
         * CKA_ID is the key's kid). Their secrets never leave it; the other keys stay in files.
         */
        pkcs11: Type.Optional(Pkcs11Config),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The joint vocabulary file; the one shipped in vocabulary/hotline.json by default. */
    vocabularyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** The notification regimes file (docs/regimes.md); vocabulary/regimes.json by default. */
    regimesFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * A machine-translation endpoint speaking the LibreTranslate API (POST {q, source, target,
     * format} → {translatedText}); its translations are local notes marked as machine-made.
     */
    machineTranslation: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$' }),
          /** How its translations are labelled: the engine's name. */
          name: Type.String({ pattern: '^[A-Za-z0-9 ._-]{1,64}$', default: 'machine' }),
          /** Sent as `api_key` when the endpoint needs one; never logged. */
          apiKey: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Accounts, sessions and what the peer sees of people (docs/people.md). */
    access: Type.Object(
      {
        /** Consecutive failed logins that lock an account, for one minute, doubling with each... */
        lockoutAfter: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
        /** ...up to this long (another officer or an admin can unlock it at once). */
        lockoutMinutes: Type.Integer({ minimum: 1, default: 15 }),
        /**
         * Failed logins of one name from one address within 10 minutes before each further try
         * waits: one second, doubling, at most five minutes.
         */
        throttleFailures: Type.Integer({ minimum: 1, default: 3 }),
        /** A console session ends after this much inactivity... */
        sessionIdleMinutes: Type.Integer({ minimum: 1, default: 30 }),
        /** ...and at the latest this long after login. */
        sessionHours: Type.Integer({ minimum: 1, maximum: 24 * 7, default: 12 }),
        /** Show the peer authors' and approvers' names beside their desks (default: desks only). */
        disclosePersons: Type.Boolean({ default: false }),
        /** Second factors (docs/people.md § Second factor). */
        secondFactor: Type.Object(
          {
            /** The roles that must enrol an authenticator app or a passkey before anything else. */
            required: Type.Array(
              Type.Union([
                Type.Literal('operator'),
                Type.Literal('officer'),
                Type.Literal('admin'),
              ]),
              { maxItems: 3, uniqueItems: true, default: ['officer', 'admin'] },
            ),
            /**
             * The WebAuthn RP ID passkeys are bound to: the console's host name (`hotline.example`).
             * Unset, the host name the console is reached on when a passkey is enrolled.
             */
            rpId: Type.Optional(Type.String({ pattern: '^[a-z0-9.-]{1,253}$' })),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Incidents, acknowledgement deadlines and escalation (docs/operators.md). */
    incidents: Type.Object(
      {
        /** The most characters of free text (and of each translation) a flash message carries. */
        flashTextMax: Type.Integer({ minimum: 50, maximum: 100_000, default: 500 }),
        /**
         * Per precedence: a person must acknowledge within `ackMinutes`; unacknowledged, the
         * receiving side notifies again every `escalateMinutes` (climbing the ladder once the
         * deadline has passed) and the sending side marks the message unanswered at the deadline.
         */
        precedence: Type.Object(
          {
            flash: Deadline(PRECEDENCE_DEADLINES.flash),
            immediate: Deadline(PRECEDENCE_DEADLINES.immediate),
            priority: Deadline(PRECEDENCE_DEADLINES.priority),
            routine: Deadline(PRECEDENCE_DEADLINES.routine),
          },
          { additionalProperties: false, default: {} },
        ),
        /** The desks notified in turn, lowest first; the end of the ladder is a standing alarm. */
        ladder: Type.Array(Slug, {
          minItems: 1,
          maxItems: 8,
          default: DEFAULT_LADDER,
        }),
        /** Notifications per ladder step at most. */
        repeats: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** How escalation reaches people beyond the console (a person's contact routes choose). */
    notify: Type.Object(
      {
        webhook: Type.Object(
          {
            /** HMAC-SHA256 key signing every webhook body (`X-Hotline-Signature`); never logged. */
            secret: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
            timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
            /** Attempts per notification, the first included. */
            attempts: Type.Integer({ minimum: 1, maximum: 10, default: 4 }),
            backoffBaseMs: Type.Integer({ minimum: 10, default: 500 }),
            backoffMaxMs: Type.Integer({ minimum: 10, default: 8000 }),
          },
          { additionalProperties: false, default: {} },
        ),
        /** The SMTP server e-mail notifications go through; without it, e-mail routes are skipped. */
        smtp: Type.Optional(
          Type.Object(
            {
              host: Type.String({ minLength: 1, maxLength: 253 }),
              port: Type.Integer({ minimum: 1, maximum: 65_535, default: 587 }),
              /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
              secure: Type.Boolean({ default: false }),
              /** Refuse to send without STARTTLS. */
              requireTLS: Type.Boolean({ default: false }),
              from: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 254 }),
              user: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
              /** Never logged. */
              password: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
              timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
            },
            { additionalProperties: false },
          ),
        ),
        /** Web Push to the browsers and phones people subscribed (src/node/incidents/push.ts). */
        push: Type.Object(
          {
            /** The contact the VAPID JWT names (RFC 8292 `sub`): a mailto: or https: URL. */
            subject: Type.String({
              pattern: '^(mailto:[^@\\s]+@[^@\\s]+|https://\\S+)$',
              maxLength: 254,
              default: 'mailto:hotline@example.invalid',
            }),
            /**
             * The push services subscriptions may point at: a host name (`fcm.googleapis.com`),
             * a domain beginning with a dot (`.push.apple.com`), or an origin
             * (`http://127.0.0.1:8080`, the only way to allow plain HTTP). Anything else is refused
             * when a browser subscribes, so the node never posts to an address a user chose.
             */
            services: Type.Array(Type.String({ minLength: 2, maxLength: 253 }), {
              maxItems: 32,
              default: [
                'fcm.googleapis.com',
                'updates.push.services.mozilla.com',
                '.notify.windows.com',
                '.push.apple.com',
              ],
            }),
            /** How long a push service keeps an undelivered notification (RFC 8030 TTL). */
            ttlSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 600 }),
            timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
            /** Attempts per notification when the push service fails (5xx, 429, no answer). */
            attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
            /** Subscriptions one person may keep. */
            perUser: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The two-person rule and the messages agreed in advance (docs/operators.md). */
    approvals: Type.Object(
      {
        rules: Type.Array(ApprovalRule, { maxItems: 64, default: DEFAULT_RULES }),
        /**
         * The desks a held draft is escalated through while no second officer decides it, at the
         * deadlines of its precedence (`incidents.precedence`); unset, `incidents.ladder`.
         */
        ladder: Type.Optional(Type.Array(Slug, { minItems: 1, maxItems: 8 })),
        templates: Type.Array(Template, { maxItems: 256, default: DEFAULT_TEMPLATES }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The routine link test: a `test` message to every peer that a person there must answer. */
    linkTest: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        intervalMs: Type.Integer({ minimum: 60_000, maximum: 7 * 86_400_000, default: 3_600_000 }),
        precedence: oneOf(PRECEDENCES, { default: 'immediate' }),
        /** The desk the test is sent from. */
        desk: Type.String({ ...Slug, default: 'ops' }),
      },
      { additionalProperties: false, default: {} },
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Applies defaults and validates; throws ConfigError naming the first bad setting. */
export function parseConfig(raw: unknown, where = CONFIG_FILE): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${where}: expected a mapping of settings`);
  const withDefaults = Value.Default(Config, structuredClone(raw));
  const fault = schemaFault(Config, withDefaults, 'the configuration');
  if (fault) {
    // A setting is named as it is written in the YAML: `approvals.templates.0.id`.
    const setting = fault.path.slice(1).replace(/\//g, '.');
    throw new ConfigError(`${where}: ${setting ? `${setting} ` : ''}${fault.problem}`);
  }
  const config = withDefaults as Config;
  const ids = config.approvals.templates.map((t) => t.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (config.listen === config.operatorListen)
    throw new ConfigError(
      `${where}: listen and operatorListen are both ${config.listen}: the peers' listener and the operators' need a port each`,
    );
  if (twice !== undefined)
    throw new ConfigError(`${where}: approvals.templates names "${twice}" twice`);
  for (const [setting, ladder] of [
    ['incidents.ladder', config.incidents.ladder],
    ['approvals.ladder', config.approvals.ladder ?? []],
  ] as const) {
    const again = ladder.find((desk, i) => ladder.indexOf(desk) !== i);
    if (again !== undefined)
      throw new ConfigError(
        `${where}: ${setting} names the desk "${again}" twice: each step of the ladder is one more desk`,
      );
  }
  for (const [precedence, { ackMinutes, escalateMinutes }] of Object.entries(
    config.incidents.precedence,
  ))
    if (escalateMinutes > ackMinutes)
      throw new ConfigError(
        `${where}: incidents.precedence.${precedence}: escalateMinutes ${escalateMinutes} is longer than ackMinutes ${ackMinutes}: notices repeat every escalateMinutes until the acknowledgement deadline and climb the ladder after it, so escalateMinutes must be at most ackMinutes`,
      );
  // The patterns check the scheme only: `https://` alone would fail each call, not the start.
  const addresses: Array<[setting: string, url: string | undefined]> = [
    ['watchdog.url', config.watchdog?.url],
    ['machineTranslation.url', config.machineTranslation?.url],
    ...config.relays.map((r, i): [string, string] => [
      `relays.${i}`,
      typeof r === 'string' ? r : r.url,
    ]),
  ];
  for (const [setting, url] of addresses) {
    const problem = url === undefined ? undefined : webAddressProblem(url);
    if (problem)
      throw new ConfigError(
        `${where}: ${setting} must be an https address such as https://relay.example:7200 ("${url}" ${problem})`,
      );
  }
  for (const [party, zone] of Object.entries(config.timeZones))
    if (!knownTimeZone(zone))
      throw new ConfigError(
        `${where}: timeZones.${party}: "${zone}" is not a known IANA time zone`,
      );
  const token = config.keys.pkcs11;
  if (token && (token.token === undefined) === (token.slot === undefined))
    throw new ConfigError(`${where}: keys.pkcs11 names its token by one of token (label) or slot`);
  if (config.store.backend === 'postgres' && config.store.url === undefined)
    throw new ConfigError(`${where}: store.url is required when store.backend is postgres`);
  if (config.store.backend === 'sqlite' && (config.store.url ?? config.store.schema) !== undefined)
    throw new ConfigError(`${where}: store.url and store.schema apply to postgres only`);
  for (const [party, list] of Object.entries(config.paths))
    for (const path of list)
      if (path.pin !== undefined && path.kind !== 'relay')
        throw new ConfigError(
          `${where}: paths.${party}: "${path.id}" is a direct path: its pin comes from ${party}'s card, only a relay path takes one here`,
        );
  relayPins(config, where);
  if (config.replica && config.store.backend !== 'postgres')
    throw new ConfigError(`${where}: replica needs store.backend postgres (one store for all)`);
  if (config.replica && config.replica.renewMs * 2 > config.replica.leaseMs)
    throw new ConfigError(
      `${where}: replica.renewMs must be at most half of replica.leaseMs, so a renewal can fail once`,
    );
  return config;
}

/** The data folder's configuration, with `overrides` (serve's options) checked as settings. */
export function readConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  const path = paths(dataDir).config;
  if (!existsSync(path)) throw new ConfigError(`${path} not found: run "hotline init" first`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!Object.keys(overrides).length) return parseConfig(raw, path);
  const given = Object.keys(overrides).join(', ');
  return parseConfig(
    raw !== null && typeof raw === 'object' ? { ...raw, ...overrides } : raw,
    `${path} with ${given} given`,
  );
}

/**
 * What identifies a relay whatever URL names it: host, port and path, not the scheme (a card of
 * version 1 lists `http:` where the pinned relay is reached over `https:`).
 */
export function relayKey(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}

/**
 * The relays' pins the configuration gives (its `relays` entries and its relay paths), by
 * relayKey. Two different pins for one relay are a ConfigError.
 */
export function relayPins(config: Pick<Config, 'relays' | 'paths'>, where = CONFIG_FILE) {
  const pins = new Map<string, string>();
  const given = [
    ...config.relays.flatMap((r) => (typeof r === 'string' ? [] : [r])),
    ...Object.values(config.paths).flatMap((list) =>
      list.flatMap((p) => (p.pin === undefined ? [] : [{ url: p.url, pin: p.pin }])),
    ),
  ];
  for (const { url, pin } of given) {
    const key = relayKey(url);
    const known = pins.get(key);
    if (known !== undefined && known !== pin)
      throw new ConfigError(`${where}: the relay ${url} is given two different pins`);
    pins.set(key, pin);
  }
  return pins;
}

/** The URLs of the `relays` setting. */
export function relayUrls(config: Pick<Config, 'relays'>): string[] {
  return config.relays.map((r) => (typeof r === 'string' ? r : r.url));
}

export function writeConfig(dataDir: string, config: Partial<Config> & { party: string }): void {
  writeOutFileSync(paths(dataDir).config, stringify(config), { replace: true });
}
