/**
 * What the operator API answers (docs/operators.md, docs/people.md, docs/language.md,
 * docs/console.md § The live feed), as types: the node builds its answers to them and the console
 * (web/) reads them, so a change on one side that the other does not follow fails `tsc`.
 *
 * Types only, and nothing that needs Node: the console takes this module with `import type`, and
 * whatever it imports must type-check in the browser's configuration (web/tsconfig.json).
 */
import type { Body, Draft, LangText } from './body.ts';
import type { Endpoint } from './card.ts';
import type { Evaluation, EvaluationProblem } from './evaluation.ts';
import type { ContactRoute, HandoverItem } from './roster.ts';
import type { StixProblem, StixSummary } from './stix.ts';
import type { BodyType, IncidentState, Precedence, Status, Tlp } from './values.ts';

// Messages: GET /api/v1/inbox, /api/v1/outbox, POST /api/v1/messages

export interface InboxItem {
  from: string;
  id: string;
  seq: number;
  receivedAt: string;
  /** The time the sender's header claims. */
  sent: string;
  body: Body;
  /** Translations of its text made on this side (a person's or the machine's), oldest first. */
  localTranslations?: Array<{
    lang: string;
    text: string;
    kind: 'person' | 'machine';
    translator: string;
  }>;
}

export interface OutboxItem {
  to: string;
  id: string;
  seq: number;
  /** pending until a verified receipt clears it. */
  status: 'pending' | 'receipted';
  createdAt: string;
  receiptedAt: string | null;
  peerReceivedAt: string | null;
  attempts: number;
  lastError: string | null;
  /** Sent → received → acknowledged by a person → answered, with the deadline. */
  followup: FollowupView | null;
  body: Body;
}

/** A released message: its id, and its seq toward each recipient. */
export interface Released {
  id: string;
  seq: Record<string, number>;
}

/** What sending gives: a released message (201) or a draft held for a second officer (202). */
export type Submitted =
  | ({ state: 'released'; draft: string | null } & Released)
  | { state: 'pending'; draft: string; rules: number[] };

// Key rotations: GET /api/v1/rotations

/** A key rotation: ours (`out`) or a peer's (`in`), as applied. */
export interface RotationView {
  dir: 'in' | 'out';
  party: string;
  /** The rotation message's id. */
  id: string;
  reason: 'routine' | 'compromise';
  serial: number;
  at: string;
  /** Compromise: from when the old keys are untrusted, in the owner's words. */
  since: string | null;
  /** Compromise: per channel, the first seq the old keys may not sign. */
  untrusted: Record<string, number> | null;
  /** The key ids the rotation replaced. */
  replaced: string[];
  /** The same keys with their purpose and algorithm, from the card replaced (null if unknown). */
  replacedKeys: Array<{ kid: string; purpose: string | null; alg: string | null }>;
  /** Ours: the messages re-signed with the new key. */
  resigned: Array<{ party: string; id: string; seq: number }>;
  /** Theirs: the received messages it disputed. */
  disputed: Array<{ id: string; seq: number }>;
}

/** A received message a compromise rotation disputed: kept, never shown as genuine. */
export interface DisputedMessage {
  from: string;
  id: string;
  seq: number;
  receivedAt: string;
  disputedAt: string;
  /** The rotation that disputed it. */
  rotation: string;
  body: Body;
}

export interface Rotations {
  rotations: RotationView[];
  disputed: DisputedMessage[];
}

// Status and alarms: GET /api/v1/status, /api/v1/alarms

/** A durable alarm, as stored. */
export interface Alarm {
  id: number;
  at: string;
  type: string;
  party: string | null;
  message: string;
  cleared_at: string | null;
  /** Who cleared it (an account name), and why. */
  cleared_by: string | null;
  cleared_note: string | null;
  /** `party/id` of the message an escalation alarm is about (cleared by its acknowledgement). */
  ref: string | null;
  /** What sets it apart from others of its type about its party (an error code), or null. */
  cause: string | null;
  /** Times raised while open; `at` is the first, `last_at` the latest. */
  count: number;
  last_at: string | null;
  /** When the ledger last recorded it. */
  logged_at: string | null;
  /** `fault`: the system's (integrity, delivery); `waiting`: a message awaiting a person. */
  category: 'fault' | 'waiting';
}

/** How many alarms of each category are open. */
export interface AlarmCounts {
  fault: number;
  waiting: number;
}

export type PathState = 'up' | 'degraded' | 'down';

export interface PathStatus {
  path: string;
  kind: Endpoint['kind'];
  url: string;
  priority: number;
  /** Where the path comes from: the peer's card, or this node's `paths` setting. */
  source: 'card' | 'config';
  state: PathState;
  rttMs: number | null;
  lastHeartbeat: string | null;
  /** Failures in a row, of heartbeats and sends alike. */
  failures: number;
  lastError: string | null;
}

export interface Failover {
  at: string;
  from: string;
  to: string;
  reason: string;
}

export interface PeerPaths {
  paths: PathStatus[];
  failovers: number;
  lastFailover: Failover | null;
}

export interface WitnessStatus {
  /** The peer's checkpoint this node last accepted and co-signed. */
  witnessed: { size: number; at: string } | null;
  /** This node's largest checkpoint the peer co-signed: the time it claims, when it arrived. */
  cosigned: { size: number; time: string; at: string } | null;
}

export interface WatchdogStatus {
  url: string;
  lastPing: string | null;
  lastError: string | null;
  pings: number;
  failures: number;
}

/** What a card announces: `{ version, hash }`. */
export interface VocabularyRef {
  version: string;
  hash: string;
}

export interface VocabularyComparison {
  ours: VocabularyRef;
  theirs: VocabularyRef;
  same: boolean;
  /** Present when the versions or hashes differ, in the asked language. */
  warning?: string;
}

export interface PeerStatus extends PeerPaths {
  party: string;
  names: Record<string, string>;
  /** Its time zone (IANA), from this node's `timeZones` setting; null when not set. */
  timeZone: string | null;
  fingerprint: string;
  /** The best path. */
  path: PathStatus;
  outbox: { pending: number; oldestPending: string | null; lastReceiptAt: string | null };
  /** Seqs received from the peer without a gap. */
  received: number;
  witness: WitnessStatus;
  /** Its vocabulary against ours: a difference is a warning for operators. */
  vocabulary: VocabularyComparison;
}

export interface NodeStatus {
  party: string;
  names: Record<string, string>;
  /** Our time zone (IANA), from `timeZones`; null when not set. */
  timeZone: string | null;
  /** Desk names by desk id and language (`deskLabels` in hotline.yaml); a desk not named here reads as its id. */
  deskLabels: Record<string, Record<string, string>>;
  ledger: { size: number };
  vocabulary: VocabularyComparison;
  peers: PeerStatus[];
  /**
   * The newest open faults (integrity, delivery), at most a page: `counts.fault` says how many
   * are open; GET /api/v1/alarms pages through them all.
   */
  alarms: Alarm[];
  /** The newest open alarms of messages awaiting a person, at most a page; kept apart. */
  waiting: Alarm[];
  counts: AlarmCounts;
  watchdog: WatchdogStatus | null;
  /** The sealing keys our rotations replaced: held until nothing sealed to them can arrive. */
  sealingKeys: SealingKeyView[];
  /** Our current card: its serial (one more with each rotation), fingerprint and keys. */
  card: OwnCardView;
}

/** What the console shows of our own card; the private halves never leave the node. */
export interface OwnCardView {
  serial: number;
  /** Read aloud at a key ceremony; a compromise rotation changes it (a new identity key). */
  fingerprint: string;
  issued: string;
  expires: string;
  keys: Array<{ kid: string; purpose: string; alg: string }>;
}

/** A sealing key one of our rotations replaced (src/node/core/sealing-retirement.ts). */
export interface SealingKeyView {
  kid: string;
  suite: string;
  /** The rotation that replaced it, and when. */
  rotation: string;
  retiredAt: string;
  /** `missing`: neither held nor recorded destroyed (its file was removed by hand). */
  state: 'held' | 'destroyed' | 'missing';
  destroyedAt: string | null;
  /** Held: what it waits for, per peer, as of the last check (hourly and at start). */
  waiting: string[];
}

// Language: GET /api/v1/vocabulary, /api/v1/messages/:party/:id(/translations)

export interface RenderedCode {
  code: string;
  /** False when the vocabulary does not know the code: `text` is then the code itself. */
  known: boolean;
  /** The language shown (the asked one, or the fallback). */
  lang: string;
  text: string;
  definition?: string;
  review: 'reviewed' | 'unreviewed' | 'outdated' | 'none';
  reviewedBy?: string;
  reviewedAt?: string;
  /** Sentences the reader must see beside the text; empty when there is nothing to say. */
  warnings: string[];
}

export interface VocabularyView {
  version: string;
  hash: string;
  languages: Record<string, { name: string }>;
  /** Our vocabulary against our own card, and against each peer's. */
  card: VocabularyComparison;
  peers: Array<{ party: string } & VocabularyComparison>;
  /** Every code, in the asked language. */
  entries: RenderedCode[];
}

export interface RenderedText {
  lang: string;
  body: string;
  /** `original (authoritative)` or `translation by the sender`, in the reader's language. */
  label: string;
}

/** A body's structured part as a reader in one language sees it (src/protocol/render.ts). */
export interface RenderedBody {
  lang: string;
  precedence: RenderedCode;
  status: RenderedCode;
  tlp: RenderedCode;
  codes: RenderedCode[];
  report?: {
    nature: RenderedCode;
    category: RenderedCode;
    harm?: { types: RenderedCode[]; severity: RenderedCode; reversibility: RenderedCode };
    attribution?: { actor: RenderedCode; confidence: RenderedCode };
    actionsTaken: RenderedCode[];
    actionsRequested: RenderedCode[];
  };
  state?: RenderedCode;
  notice?: RenderedCode;
  text?: RenderedText;
  senderTranslations: RenderedText[];
  /** Every warning of every rendered code, once each, prefixed by its code. */
  warnings: string[];
}

export interface AttachmentView {
  name: string;
  mediaType: string;
  bytes: number;
  /** Whether the data matches the attachment's `sha256`. */
  intact: boolean;
  stix?: { summary: StixSummary } | { problems: StixProblem[] };
  /** A regime notification's fields, labelled in the reader's language (docs/regimes.md). */
  notification?: NotificationView;
  /** An evaluation result (src/protocol/evaluation.ts), or why it is not one. */
  evaluation?: { result: Evaluation } | { problems: EvaluationProblem[] };
  /** Sentences for a reader; empty when nothing is wrong. */
  problems: string[];
}

/** A regime notification attachment as a reader in a language sees it (docs/regimes.md). */
export interface NotificationView {
  type: string;
  /** The type's name in the reader's language; the code when our regimes do not know it. */
  name: string;
  fields: Array<{ name: string; label: string; value: unknown }>;
  problems: string[];
}

// Notification regimes: GET /api/v1/regimes, GET /api/v1/compliance (docs/regimes.md)

export type ComplianceState = 'owed' | 'sent' | 'late';

export interface Obligation {
  /** `<type>/<owedBy>/<owedTo>/<basis>`: the same on both sides. */
  key: string;
  type: string;
  /** actual, exercise or test: what started it (an exercise report owes an exercise notice). */
  mode: Status;
  owedBy: string;
  owedTo: string;
  due: string;
  /** Why it is owed: a year, a report (its message and incident), or the notice itself. */
  basis:
    | { kind: 'annual'; year: number }
    | { kind: 'event'; message: string; incident: string }
    | { kind: 'notice'; field: string; date: string };
  state: ComplianceState;
  notice: { id: string; sent: string } | null;
  acknowledged: { id: string; at: string } | null;
}

export interface PartyCompliance {
  owed: number;
  sent: number;
  late: number;
  acknowledged: number;
}

export interface ComplianceTable {
  regimes: { version: string; hash: string };
  at: string;
  parties: string[];
  obligations: Obligation[];
  /** By the party that owes. */
  byParty: Record<string, PartyCompliance>;
}

/** The compliance board: the table, with each type's name in the asked language. */
export interface ComplianceBoard extends ComplianceTable {
  names: Record<string, string>;
}

/** Our regimes against a card's pin (ours or a peer's): a difference is a warning. */
export interface RegimesComparisonView {
  ours: { version: string; hash: string };
  theirs?: { version: string; hash: string };
  same: boolean;
  warning?: string;
}

export interface RegimesView {
  version: string;
  hash: string;
  effective: string;
  name: string;
  card: RegimesComparisonView;
  peers: Array<RegimesComparisonView & { party: string }>;
  types: Array<{
    code: string;
    name: string;
    description: string;
    owedBy: 'each' | 'reporter';
    timing:
      | { kind: 'before' | 'after'; field: string; days: number }
      | { kind: 'event'; on: 'incident.report'; severities?: string[]; hours: number }
      | { kind: 'annual'; month: number; day: number };
    remindHours: number;
    desk: string;
    fields: Array<{
      name: string;
      type: 'text' | 'date' | 'number' | 'integer' | 'year' | 'boolean' | 'choice';
      required: boolean;
      label: string;
      values?: string[];
      min?: number;
      max?: number;
    }>;
  }>;
}

/** One citation of an earlier message's attachment, resolved against this node's messages. */
export interface CitationView {
  from: string;
  message: string;
  sha256: string;
  /** The cited attachment, when this node holds the message and it has one with that digest. */
  attachment: AttachmentView | null;
  /** Why the citation could not be resolved, for a reader; absent when it was. */
  problem?: string;
}

export type TranslationStatus = 'sight' | 'rough' | 'final';

export interface LocalTranslation {
  id: string;
  /** Always `local`: made on this side, not the sender's words. */
  origin: 'local';
  sourceLang: string;
  lang: string;
  text: string;
  kind: 'person' | 'machine';
  translator: string;
  status: TranslationStatus;
  requestedBy: string;
  createdAt: string;
  /** Provenance in the reader's language, e.g. `machine translation by libre · rough translation`. */
  label: string;
}

export interface MessageView {
  /** The author party and the message id. */
  from: string;
  id: string;
  dir: 'in' | 'out';
  at: string;
  body: Body;
  rendered: RenderedBody;
  /** The local notes, after the original and the sender's translations; never sent. */
  localTranslations: LocalTranslation[];
  attachments: AttachmentView[];
  /** The attachments of earlier messages this one cites (`ext.cites`), as this node holds them. */
  citations?: CitationView[];
  /** Present when the author's vocabulary is not ours. */
  vocabulary?: VocabularyComparison;
  /** Everything a reader must be warned of, in the reader's language. */
  warnings: string[];
  /**
   * Present when a compromise rotation of its sender disputed it (GET /api/v1/rotations): signed
   * by a stolen key, kept, never to be taken as genuine.
   */
  disputed?: { at: string; rotation: string };
}

// Incidents: GET /api/v1/incidents(/:incident), POST …/ack and …/remind

/** A message that waits for a person's acknowledgement, and what escalation has done about it. */
export interface FollowupView {
  dir: 'in' | 'out' | 'held';
  party: string;
  id: string;
  incident: string | null;
  type: string;
  precedence: string;
  status: string;
  deadline: string;
  /** The ladder desk reached (in), and notifications fired. */
  step: number;
  desk: string | null;
  fired: number;
  nextAt: string | null;
  acknowledged: {
    at: string;
    desk: string | null;
    person: string | null;
    ack: string | null;
  } | null;
  answered: { at: string; by: string | null } | null;
  unansweredAt: string | null;
  retractedAt: string | null;
  exhaustedAt: string | null;
  reminders: number;
}

/** A message of an open incident still waiting for its acknowledgement. */
export interface Awaiting {
  dir: 'in' | 'out';
  party: string;
  id: string;
  deadline: string;
  overdue: boolean;
  unansweredAt: string | null;
  step: number;
}

export interface StateEntry {
  id: string;
  from: string;
  desk: string;
  at: string;
  kind: 'change' | 'request' | 'decision';
  to: IncidentState;
  previous: string | null;
  decision?: 'accepted' | 'declined';
  /** The request a decision answers. */
  request?: string;
  /** Whether it is part of the state chain (a change, or an accepted decision). */
  applied: boolean;
}

/** An incident's state, derived from its messages (src/node/incidents/incidents.ts). */
export interface IncidentView {
  incident: string;
  owner: string;
  /** Whether this node's party owns the state. */
  ours: boolean;
  peers: string[];
  state: IncidentState;
  /** The id of the last applied change (what the next change must cite), or null. */
  head: string | null;
  precedence: Precedence;
  status: Status;
  category: string | null;
  nature: 'incident' | 'hazard' | null;
  reportedAt: string;
  updatedAt: string;
  retracted: { id: string; at: string; desk: string; text: string | null } | null;
  /** Requests of the other side not yet decided. */
  pendingRequests: StateEntry[];
  history: StateEntry[];
}

/** One open incident in the list, most urgent first. */
export interface IncidentSummary
  extends Pick<
    IncidentView,
    | 'incident'
    | 'owner'
    | 'ours'
    | 'peers'
    | 'state'
    | 'precedence'
    | 'status'
    | 'category'
    | 'retracted'
    | 'reportedAt'
    | 'updatedAt'
  > {
  pendingRequests: number;
  nextDeadline: string | null;
  awaiting: Awaiting[];
}

/** One message of an incident's timeline, from either side. */
export interface TimelineEntry {
  dir: 'in' | 'out';
  party: string;
  from: string;
  id: string;
  seq: Record<string, number> | null;
  type: BodyType;
  precedence: Precedence;
  status: Status;
  tlp: Tlp;
  desk: string;
  codes: string[];
  text: LangText | null;
  inReplyTo: string | null;
  state: NonNullable<Body['state']> | null;
  sent: string;
  /** When the peer received ours, or we received theirs. */
  received: string | null;
  followup: FollowupView | null;
  /**
   * The ladder's notifications of a received message; the `final` one is the standing alarm
   * raised past the last desk (nobody is notified at it, so it names no person).
   */
  escalations: Array<Pick<EscalationStep, 'step' | 'desk' | 'user' | 'at' | 'channels' | 'final'>>;
  /**
   * A message of ours, recipient by recipient: whether their node has it (`received`, from its
   * receipt) and whether a person there acknowledged it. Empty for a received message.
   */
  recipients: RecipientStatus[];
}

/** Where a message of ours stands with one of its recipients. */
export interface RecipientStatus {
  party: string;
  status: 'pending' | 'receipted';
  received: string | null;
  followup: FollowupView | null;
}

export interface IncidentDetail extends IncidentView {
  /** Both sides' messages; a retraction first. */
  timeline: TimelineEntry[];
}

export interface Acknowledged {
  party: string;
  /** The message acknowledged (an acknowledged reminder acknowledges its original). */
  id: string;
  ack: string;
  seq: Record<string, number>;
  desk: string;
  by: string;
}

export interface Reminded {
  party: string;
  id: string;
  reminder: string;
  seq: Record<string, number>;
  /** Reminders of this message so far. */
  number: number;
  deadline: string;
}

/** One notification of an escalation ladder, as the live feed shows it. */
export interface EscalationStep {
  dir: 'in' | 'out' | 'held';
  party: string;
  id: string;
  incident: string | null;
  precedence: Precedence;
  /** The ladder index (0 = first desk); for `out`, the sending desk alarmed. */
  step: number;
  desk: string;
  /** The person on duty there, or null when nobody is. */
  user: string | null;
  /** Notifications of this message so far, this one included. */
  fired: number;
  channels: Array<{ kind: string; ok: boolean; detail?: string }>;
  /** True when this is the end of the ladder: a standing alarm. */
  final: boolean;
  at: string;
}

/** A browser or phone subscribed to Web Push (GET /api/v1/me/push). */
export interface PushDevice {
  id: string;
  label: string;
  lang: string;
  /** The push service's host (fcm.googleapis.com, web.push.apple.com, …). */
  service: string;
  createdAt: string;
  lastOkAt: string | null;
  lastError: string | null;
}

/** The node's VAPID public key (null: none, nothing is pushed) and the person's devices. */
export interface PushSettings {
  publicKey: string | null;
  devices: PushDevice[];
}

/**
 * A message acknowledged by a person: `dir` out, the peer acknowledged ours; in, one of our
 * people acknowledged the peer's.
 */
export interface AckInfo {
  dir: 'in' | 'out';
  desk: string;
  person: string | null;
  at: string;
  ackId: string | null;
}

// Approvals, templates, readiness: GET /api/v1/drafts, /api/v1/templates, /api/v1/readiness

export type DraftState = 'pending' | 'releasing' | 'released' | 'rejected';

/** A draft as the API shows it. */
export interface DraftView {
  id: string;
  createdAt: string;
  author: string;
  desk: string;
  to: string[];
  message: Draft;
  template: string | null;
  /** The policy rules (indexes into approvals.rules) that hold it for a second officer. */
  rules: number[];
  state: DraftState;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
  breakGlass: string | null;
  messageId: string | null;
  seq: Record<string, number> | null;
}

/** A message agreed in advance (approvals.templates in hotline.yaml). */
export interface TemplateView {
  id: string;
  title: Record<string, string>;
  preApproved: boolean;
  /** Whether the rules hold it for a second officer (never when pre-approved). */
  needsApproval: boolean;
  type: BodyType;
  precedence: Precedence;
  status: Status;
  tlp: Tlp;
  codes: string[];
  text?: LangText;
  translations: LangText[];
  category?: string;
  subject?: string;
}

export interface AckStats {
  /** Tests (status test) and drills (status exercise) in the window. */
  tests: number;
  drills: number;
  acknowledged: number;
  unacknowledged: number;
  medianMs: number | null;
  meanMs: number | null;
  maxMs: number | null;
}

export interface PeerReadiness {
  party: string;
  /** Ours, acknowledged by a person at the peer. */
  sent: Record<Precedence, AckStats>;
  /** The peer's, acknowledged by a person here. */
  received: Record<Precedence, AckStats>;
}

export interface Readiness {
  last: number;
  peers: PeerReadiness[];
}

// People: sessions, accounts, desks, duty, handovers, the audit trail (docs/people.md)

export type Role = 'operator' | 'officer' | 'admin';
export type Scope = 'read' | 'write' | 'admin';

export interface UserView {
  name: string;
  displayName: string | null;
  role: Role;
  createdAt: string;
  disabledAt: string | null;
  lockedUntil: string | null;
  failedLogins: number;
}

/** A signed-in console: the CSRF token goes with every change (the session is a cookie). */
export interface SessionView {
  user: UserView;
  csrfToken: string;
  expiresAt: string;
  /** The role must have a second factor and has none: the session may only enrol one. */
  enrol?: boolean;
}

/** The password was right; now the second factor (POST /api/v1/session/second-factor). */
export interface SecondFactorAsked {
  secondFactor: {
    /** Names this sign-in for its second step; good for five minutes and a few tries. */
    ticket: string;
    methods: ('totp' | 'passkey' | 'recovery')[];
    expiresAt: string;
    /** The WebAuthn challenge for the user's passkeys (navigator.credentials.get). */
    passkey?: unknown;
  };
}

/** The second factors of the signed-in user: GET /api/v1/me/second-factor. */
export interface SecondFactorStatus {
  required: boolean;
  factors: {
    id: string;
    kind: 'totp' | 'passkey';
    label: string;
    createdAt: string;
    lastUsedAt: string | null;
  }[];
  recoveryCodesLeft: number;
}

/** Who is asking: GET /api/v1/me. */
export interface Me {
  user: UserView;
  via: 'session' | 'token' | 'data-folder';
  scopes: readonly Scope[];
  /** The desks this person staffs. */
  desks: string[];
  /** The role must have a second factor and has none: only enrolment is allowed. */
  enrol: boolean;
}

export interface DeskView {
  id: string;
  name: string;
  staff: Array<{ user: string; routes: ContactRoute[] }>;
}

export interface Duty {
  desk: string;
  at: string;
  /** The person on duty, or null: no shift covers `at`, or its person's account is disabled. */
  onDuty: {
    user: string;
    displayName: string | null;
    routes: ContactRoute[];
    shift: { id: number; startsAt: string; endsAt: string };
  } | null;
  /** Why nobody is on duty, when nobody is. */
  reason?: string;
  next: { user: string; startsAt: string; endsAt: string } | null;
}

export interface ShiftView {
  id: number;
  desk: string;
  user: string;
  startsAt: string;
  endsAt: string;
  createdBy: string;
}

export interface HandoverView {
  id: number;
  desk: string;
  from: string;
  to: string;
  items: HandoverItem[];
  note: string | null;
  createdAt: string;
  confirmedAt: string | null;
}

/** An entry of the audit trail as read back. */
export interface AuditItem {
  id: number;
  at: string;
  actor: string | null;
  role: string | null;
  via: string;
  source: string;
  action: string;
  target: string | null;
  outcome: string;
  detail: Record<string, unknown>;
  /** The ledger leaf that anchors it; null until the node has anchored it. */
  leafIndex: number | null;
}

/** The audit trail checked against its anchors in the ledger. */
export interface TrailReport {
  entries: number;
  anchored: number;
  /** Written by a process without the node, and not anchored yet. */
  pending: number;
  problems: { entry: number; problem: string }[];
  ok: boolean;
}

// The live feed: GET /api/v1/feed (src/api/live.ts)

/** A frame the node pushes to a console, stamped `at` when sent. */
export type FeedFrame = { at: string } & FeedEvent;

export type FeedEvent =
  /** Once, on connecting. */
  | { type: 'hello'; party: string }
  /** Messages from `party` stored. */
  | { type: 'received'; party: string; ids: string[] }
  /** Our messages to `party` receipted. */
  | { type: 'receipted'; party: string; ids: string[] }
  | { type: 'alarm'; alarm: Alarm }
  | { type: 'alarm-cleared'; id: number }
  /** A path to a peer changed state. */
  | { type: 'link'; party: string; path: string; state: PathState }
  /** Something changed in an incident. */
  | { type: 'incident'; incident: string }
  | { type: 'escalation'; step: EscalationStep }
  /** A held draft entered the approvals queue or left it. */
  | { type: 'draft'; id: string; state: 'pending' | 'released' | 'rejected' }
  /** A person acknowledged a message: `party` is the peer, `id` the message. */
  | { type: 'acknowledged'; party: string; id: string; ack: AckInfo }
  /** Every `pingMs`, so a silent drop is noticed. */
  | { type: 'ping' };

// History and search: GET /api/v1/search, GET /api/v1/incidents/:incident/report

/** A text as the reader may read it, and whose words it is. */
export interface ReadableText extends LangText {
  /** `author`: the original; `sender`: the sender's own translation; else made on this side. */
  by: 'author' | 'sender' | 'person' | 'machine';
  translator?: string;
}

/** One message found by a search, newest first. */
export interface SearchHit {
  dir: 'in' | 'out';
  /** The other party: sender of a received message, recipient of a sent one. */
  party: string;
  from: string;
  id: string;
  incident: string | null;
  /** The incident's state now, when the message belongs to one. */
  incidentState: IncidentState | null;
  retracted: boolean;
  type: BodyType;
  precedence: Precedence;
  status: Status;
  category: string | null;
  tlp: Tlp;
  desk: string;
  sent: string;
  /** The author's words, and the text in the reader's language when there is one. */
  text: LangText | null;
  translation: ReadableText | null;
}

/** One message of an incident report: every text it is held in, and its place in the ledger. */
export interface ReportEntry extends TimelineEntry {
  texts: ReadableText[];
  /** The ledger leaf that logs it on this node. */
  leafIndex: number | null;
}

/** A printable incident report: both sides' timeline in both languages, and the checkpoint. */
export interface IncidentReport {
  party: string;
  generatedAt: string;
  incident: IncidentView;
  entries: ReportEntry[];
  /** A signed checkpoint of this node's ledger; `covers`: every entry's leaf is inside it. */
  checkpoint: { size: number; note: string; covers: boolean };
}
