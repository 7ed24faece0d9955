/**
 * The database schema, as Kysely types that mirror the tables exactly (migrations.ts creates
 * them). JSON documents are stored as text, typed `Json<T>` with what they hold (json.ts); times
 * as ISO strings; scheduling times as epoch milliseconds.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Body } from '../protocol/body.ts';
import type { KeyEntry, SignedCard } from '../protocol/card.ts';
import type { Envelope } from '../protocol/envelope.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import type { BodyType, Precedence, Status, Tlp } from '../protocol/values.ts';
import type { Json } from './json.ts';

/** A peer's key retired by a rotation, valid for its seqs up to `untilSeq` inclusive. */
export interface RetiredKey {
  key: KeyEntry;
  untilSeq: number;
}

/**
 * How to reach a person at a desk, as stored; src/node/people/roster.ts validates it on entry
 * (`ContactRoute`).
 */
export type StoredRoute =
  | { kind: 'console' }
  | { kind: 'email'; address: string }
  | { kind: 'webhook'; url: string };

/** One open item handed over, as stored; roster.ts validates it on entry (`HandoverItem`). */
export type StoredHandoverItem =
  | { kind: 'message'; id: string; note?: string }
  | { kind: 'alarm'; id: number; note?: string }
  | { kind: 'note'; note: string };

/** One channel an escalation step notified, and whether it could. */
export interface EscalationChannel {
  kind: string;
  ok: boolean;
  detail?: string;
}

/** A message as its author submitted it: a body without its salt. */
export type DraftMessage = Omit<Body, 'salt'>;

export interface MetaTable {
  key: string;
  value: string;
}

/** Pinned peers: the signed card compared at the key ceremony, and keys retired by rotation. */
export interface PeersTable {
  party: string;
  card: Json<SignedCard>;
  retired: Json<RetiredKey[]>;
  pinned_at: string;
}

/** The last seq released on each outgoing channel (me → party). */
export interface ChannelsTable {
  party: string;
  last_seq: number;
}

/** One row per (message, recipient): the envelope exactly as every (re)send sends it. */
export interface OutboxTable {
  party: string;
  id: string;
  seq: number;
  /** 0 flash, 1 immediate, 2 priority, 3 routine: the serving order. */
  rank: number;
  header_hash: string;
  envelope: Json<Envelope>;
  body: Json<Body>;
  created_at: string;
  /** pending until a verified receipt clears it. */
  status: 'pending' | 'receipted';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  receipted_at: string | null;
  /** The peer's receivedAt and leaf index, from its receipt. */
  peer_received_at: string | null;
  peer_index: number | null;
  leaf_index: number;
}

/** Envelopes received, accepted and opened. (party, id) and (party, seq) are unique forever. */
export interface InboxTable {
  party: string;
  id: string;
  seq: number;
  header_hash: string;
  envelope: Json<Envelope>;
  body: Json<Body>;
  received_at: string;
  leaf_index: number;
  receipt_id: number;
}

export interface ReceiptsTable {
  id: Generated<number>;
  /** out: signed by me for a peer's envelopes; in: a peer's receipt for mine, verified. */
  dir: 'in' | 'out';
  party: string;
  at: string;
  receipt: Json<SignedReceipt>;
}

export interface AlarmsTable {
  id: Generated<number>;
  at: string;
  type: string;
  party: string | null;
  message: string;
  cleared_at: string | null;
  /** Who cleared it (an account name), and why. */
  cleared_by: string | null;
  cleared_note: string | null;
  /** The message an alarm is about, `<party>/<id>` (from 0008-incidents), or null. */
  ref?: string | null;
  /**
   * From 0016-alarms. What distinguishes this alarm from others of its type about its party (an
   * error code, a message ref), or null; one open row per (type, party, cause).
   */
  cause: string | null;
  /** How many times it was raised while open, and when last (the first is `at`). */
  count: ColumnType<number, number | undefined, number>;
  last_at: string | null;
  /** When the ledger last recorded it (repeats are recorded at most once a window). */
  logged_at: string | null;
  /** `fault` (the system's: integrity, delivery) or `waiting` (a message awaiting a person). */
  category: ColumnType<AlarmCategory, AlarmCategory | undefined, AlarmCategory>;
}

export type AlarmCategory = 'fault' | 'waiting';

export interface LedgerLeavesTable {
  idx: number;
  leaf: string;
}

/**
 * Every complete subtree hash, in the stored-hash index space of ledger/merkle.ts, packed
 * LEDGER_PAGE_HASHES to a row: page p holds hashes p·64 … p·64+63, 32 bytes each, in order; only
 * the last page may be shorter.
 */
export interface LedgerPagesTable {
  page: number;
  hashes: Uint8Array;
}

export interface CheckpointsTable {
  size: number;
  note: string;
  at: string;
}

/** Per peer, the last checkpoint of its log this node accepted as its witness. */
export interface WitnessedTable {
  party: string;
  size: number;
  /** The checkpoint's root hash, hex. */
  root: string;
  /** The signed checkpoint note as the peer sent it. */
  note: string;
  /** This node's cosignature/v1 signature line on it (witness key). */
  cosignature: string;
  at: string;
}

/** A peer's verified co-signature (its witness key) of one of this node's checkpoints. */
export interface CosignaturesTable {
  party: string;
  size: number;
  /** The signature line, as the peer sent it. */
  line: string;
  /** The time the co-signature claims, POSIX seconds. */
  time: number;
  /** When this node received it. */
  at: string;
}

/**
 * A translation made on this side of a message's free text: a local note, never sent. `party`
 * and `message_id` name the message (its author party and id; our own party for our messages).
 */
export interface TranslationsTable {
  id: string;
  party: string;
  message_id: string;
  /** The language of the text translated (the original's). */
  source_lang: string;
  lang: string;
  text: string;
  /** Who made it: a person, or the configured machine-translation endpoint. */
  kind: 'person' | 'machine';
  /** The person's name or desk, or the endpoint's name. */
  translator: string;
  /** As hotline translators grade their work: sight, rough, final. */
  status: 'sight' | 'rough' | 'final';
  /** The desk that added or requested it. */
  requested_by: string;
  created_at: string;
}

export type Role = 'operator' | 'officer' | 'admin';

/** An operator account. Passwords are Argon2id PHC strings. */
export interface UsersTable {
  name: string;
  display_name: string | null;
  role: Role;
  password_hash: string;
  created_at: string;
  password_changed_at: string;
  disabled_at: string | null;
  /** Consecutive failed logins; a lockout sets `locked_until` and resets the count. */
  failed_logins: number;
  locked_until: string | null;
}

export interface TokensTable {
  /** The public part of the token (`hlt_<id>_<secret>`). */
  id: string;
  user_name: string;
  /** SHA-256 of the secret part, hex. */
  secret_hash: string;
  label: string;
  /** Comma-separated scopes (src/api/access.ts). */
  scopes: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie's value, hex. */
  id_hash: string;
  user_name: string;
  /** SHA-256 of the session's CSRF token, hex. */
  csrf_hash: string;
  source: string;
  created_at: string;
  /** Ends after this much inactivity; renewed on use. */
  idle_until: string;
  /** Ends at this time regardless of use. */
  expires_at: string;
}

/**
 * A second factor of an account (src/node/people/factors.ts): an authenticator app's TOTP secret,
 * or a passkey (a WebAuthn credential's public key). A TOTP secret is pending until the first code
 * made from it is given back (`confirmed_at`).
 */
export interface SecondFactorsTable {
  id: string;
  user_name: string;
  kind: 'totp' | 'passkey';
  label: string;
  created_at: string;
  confirmed_at: string | null;
  last_used_at: string | null;
  /** TOTP: the secret, base32; the last time step used, so a code is never accepted twice. */
  totp_secret: string | null;
  totp_last_step: number | null;
  /** Passkey: the credential id and COSE public key (base64url), signature counter, RP ID. */
  credential_id: string | null;
  public_key: string | null;
  counter: number | null;
  rp_id: string | null;
  transports: string | null;
}

/** Single-use recovery codes: SHA-256 of each code (hex), used once. */
export interface RecoveryCodesTable {
  code_hash: string;
  user_name: string;
  created_at: string;
  used_at: string | null;
}

export interface DesksTable {
  id: string;
  name: string;
  created_at: string;
}

export interface DeskStaffTable {
  desk: string;
  user_name: string;
  routes: Json<StoredRoute[]>;
}

export interface ShiftsTable {
  id: Generated<number>;
  desk: string;
  user_name: string;
  starts_at: string;
  ends_at: string;
  created_by: string;
  created_at: string;
  cancelled_at: string | null;
}

export interface HandoversTable {
  id: Generated<number>;
  desk: string;
  from_user: string;
  to_user: string;
  items: Json<StoredHandoverItem[]>;
  note: string | null;
  created_at: string;
  confirmed_at: string | null;
}

export interface AuditTable {
  id: number;
  at: string;
  /** The account name, `os:<user>` for a command run on the data folder, null if anonymous. */
  actor: string | null;
  role: string | null;
  /** session, token, data-folder or anonymous. */
  via: string;
  /** The client address, or the host for a command run on the data folder. */
  source: string;
  action: string;
  target: string | null;
  /** ok, denied or failed. */
  outcome: string;
  detail: Json<Record<string, unknown>>;
  /** SHA-256 of the entry's canonical JSON, hex, set when anchored. */
  hash: string | null;
  /** The ledger event leaf that anchors `hash`. */
  leaf_index: number | null;
}

/**
 * The follow-up of one message needing a person's acknowledgement (src/node/incidents/escalation.ts):
 * `in` for a received one (escalation), `out` for one we sent (deadline, unanswered, reminders).
 */
export interface FollowupsTable {
  dir: 'in' | 'out' | 'held';
  /** The peer: the sender for `in`, the recipient for `out`. */
  party: string;
  id: string;
  incident: string | null;
  type: string;
  precedence: string;
  /** actual, exercise or test: drills never look real, in notifications either. */
  status: string;
  /** The author desk (for `out`: the desk alarmed when it goes unanswered). */
  desk: string | null;
  /** When escalation (re)started: receipt, or the last reminder. */
  started_at: string;
  deadline_at: string;
  /** The ladder step reached (index), notifications fired in all and at this step. */
  step: number;
  fired: number;
  step_fired: number;
  /** The durable timer, epoch ms; null once nothing is due. */
  next_at: number | null;
  acked_at: string | null;
  acked_desk: string | null;
  acked_person: string | null;
  ack_id: string | null;
  answered_at: string | null;
  answer_id: string | null;
  unanswered_at: string | null;
  retracted_at: string | null;
  /** When the ladder ended without an acknowledgement (standing alarm). */
  exhausted_at: string | null;
  reminders: number;
}

/** One notification fired by escalation: which step, desk, person and channels. */
export interface EscalationsTable {
  id: Generated<number>;
  dir: 'in' | 'out' | 'held';
  party: string;
  message_id: string;
  step: number;
  desk: string;
  user_name: string | null;
  channels: Json<EscalationChannel[]>;
  at: string;
}

/**
 * A browser or phone a person subscribed to Web Push (src/node/incidents/push.ts): the push
 * service's endpoint and the subscription's public keys (RFC 8291), never a private key.
 */
export interface PushSubscriptionsTable {
  /** The first 32 hex digits of SHA-256(endpoint): how the console names it. */
  id: string;
  user_name: string;
  endpoint: string;
  /** The subscription's P-256 public key (65 bytes, base64url) and auth secret (16 bytes). */
  p256dh: string;
  auth: string;
  /** The language notifications to it are written in. */
  lang: string;
  label: string;
  created_at: string;
  last_ok_at: string | null;
  last_error: string | null;
}

/**
 * Drafts held for a second officer (two-person rule). `seq` and the message id exist only once the
 * draft is released, so a rejected draft leaves no gap in any channel.
 */
export interface DraftsTable {
  id: string;
  created_at: string;
  /** The account that wrote it; never the one that approves or rejects it. */
  author: string;
  desk: string;
  /** The recipient parties. */
  recipients: Json<string[]>;
  /** The message as submitted, without salt and approvals. */
  message: Json<DraftMessage>;
  template: string | null;
  /** The policy rules (their index in approvals.rules) the draft matched. */
  rules: Json<number[]>;
  /** pending → releasing → released, or pending → rejected. */
  state: 'pending' | 'releasing' | 'released' | 'rejected';
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
  /** The reason an officer stated to release it without a second approval. */
  break_glass: string | null;
  message_id: string | null;
  /** Each recipient's seq, once released. */
  seq: Json<Record<string, number>> | null;
}

/**
 * One row per stored message, for history and search (0018-search; src/store/search.ts). The
 * text index is `search_text` (SQLite FTS5, rowid = doc) or `vector` (PostgreSQL tsvector).
 */
export interface SearchTable {
  doc: Generated<number>;
  dir: 'in' | 'out';
  /** The other party: sender of a received message, recipient of a sent one. */
  party: string;
  /** The author party. */
  author: string;
  id: string;
  incident: string | null;
  type: BodyType;
  precedence: Precedence;
  status: Status;
  /** The incident report's category, for every message of the incident once it is known. */
  category: string | null;
  tlp: Tlp;
  desk: string;
  /** The header's `sent`. */
  sent: string;
  /** PostgreSQL only: the tsvector of the message's texts. */
  vector?: string;
}

/** A key rotation: ours (`out`, party = us) or a peer's (`in`), as applied. */
export interface RotationsTable {
  dir: 'in' | 'out';
  party: string;
  /** The rotation message's id. */
  id: string;
  reason: 'routine' | 'compromise';
  /** The new card's serial. */
  serial: number;
  at: string;
  /** Compromise: from when the old keys are not trusted (the operator's word). */
  since: string | null;
  /** Compromise: per channel (recipient for `out`, me for `in`), the first untrusted seq. */
  untrusted: Json<Record<string, number>> | null;
  detail: Json<RotationDetail>;
}

/** What a rotation did: kids replaced; `out`: messages re-signed; `in`: messages disputed. */
export interface RotationDetail {
  replaced: string[];
  /** The card the rotation replaced, so an export can show which keys signed what before it. */
  previous?: SignedCard;
  /** Ours: the replaced sealing keys destroyed since, once nothing sealed to them could arrive. */
  destroyed?: Array<{ kid: string; at: string }>;
  resigned?: Array<{ party: string; id: string; seq: number }>;
  disputed?: Array<{ id: string; seq: number }>;
}

/** A received message a compromise rotation disputed: its inbox row, moved here whole. */
export interface DisputedTable extends InboxTable {
  disputed_at: string;
  /** The rotation message that disputed it. */
  rotation: string;
}

/** One row: a token the database changes on every write to the roster's tables (0034). */
export interface RosterVersionTable {
  id: number;
  version: number | string;
}

/** A lease held by one replica of a party (src/node/core/leadership.ts); PostgreSQL only. */
export interface LeasesTable {
  name: string;
  /** The replica id (`replica.id` in its configuration). */
  holder: string;
  /** The fencing token: raised by one on every acquisition, never reused. */
  token: number;
  /** Milliseconds since the epoch, by the database's clock. */
  expires_at: number;
}

export interface Database {
  meta: MetaTable;
  peers: PeersTable;
  channels: ChannelsTable;
  outbox: OutboxTable;
  inbox: InboxTable;
  receipts: ReceiptsTable;
  alarms: AlarmsTable;
  ledger_leaves: LedgerLeavesTable;
  ledger_pages: LedgerPagesTable;
  checkpoints: CheckpointsTable;
  witnessed: WitnessedTable;
  cosignatures: CosignaturesTable;
  translations: TranslationsTable;
  users: UsersTable;
  tokens: TokensTable;
  sessions: SessionsTable;
  desks: DesksTable;
  desk_staff: DeskStaffTable;
  shifts: ShiftsTable;
  handovers: HandoversTable;
  audit: AuditTable;
  followups: FollowupsTable;
  escalations: EscalationsTable;
  drafts: DraftsTable;
  search: SearchTable;
  rotations: RotationsTable;
  disputed: DisputedTable;
  second_factors: SecondFactorsTable;
  recovery_codes: RecoveryCodesTable;
  push_subscriptions: PushSubscriptionsTable;
  leases: LeasesTable;
  roster_version: RosterVersionTable;
}
