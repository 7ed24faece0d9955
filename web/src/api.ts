/**
 * The console's data layer: every call to its own node's operator API, in one place. A page asks
 * for data through these functions and never builds a URL itself, so a new route (incidents,
 * approvals, drills) is one function here and a page.
 *
 * A console session is the node's `__Host-hotline-session` cookie; every change carries the
 * session's CSRF token, kept for this tab only.
 */

export type Precedence = 'flash' | 'immediate' | 'priority' | 'routine';
export type Status = 'actual' | 'exercise' | 'test';
export type Tlp = 'red' | 'amber+strict' | 'amber' | 'green' | 'clear';
export const PRECEDENCES: Precedence[] = ['flash', 'immediate', 'priority', 'routine'];
export const STATUSES: Status[] = ['actual', 'exercise', 'test'];
export const TLPS: Tlp[] = ['red', 'amber+strict', 'amber', 'green', 'clear'];
export const RANK: Record<Precedence, number> = { flash: 0, immediate: 1, priority: 2, routine: 3 };
/** Messages that sound the alarm until they are acknowledged. */
export const ALARMING: readonly Precedence[] = ['flash', 'immediate'];

export interface LangText {
  lang: string;
  body: string;
}
export interface Attachment {
  name: string;
  mediaType: string;
  sha256: string;
  data: string;
}
export interface Body {
  type: string;
  incident?: string;
  precedence: Precedence;
  status: Status;
  tlp: Tlp;
  codes: string[];
  text?: LangText;
  translations: LangText[];
  attachments: Attachment[];
  author: { desk: string; person?: string };
  approvals: Array<{ desk: string; person?: string; at: string }>;
  inReplyTo?: string;
  report?: {
    nature: 'incident' | 'hazard';
    category: string;
    harm?: { types: string[]; severity: string; reversibility: string };
    actionsTaken: string[];
    actionsRequested: string[];
  };
}
export type Draft = Body;

export interface InboxItem {
  from: string;
  id: string;
  seq: number;
  receivedAt: string;
  sent: string;
  body: Body;
}
export interface OutboxItem {
  to: string;
  id: string;
  seq: number;
  status: string;
  createdAt: string;
  receiptedAt: string | null;
  peerReceivedAt: string | null;
  attempts: number;
  lastError: string | null;
  body: Body;
}
export interface Alarm {
  id: number;
  at: string;
  type: string;
  party: string | null;
  message: string;
  cleared_at: string | null;
  /** `party/id` of the message an escalation alarm is about (cleared by its acknowledgement). */
  ref?: string | null;
}
export interface PathStatus {
  path: string;
  kind: string;
  url: string;
  state: 'up' | 'degraded' | 'down';
  rttMs: number | null;
  lastHeartbeat: string | null;
  failures: number;
  lastError: string | null;
}
export interface VersionHash {
  version: string;
  hash: string;
}
export interface PeerStatus {
  party: string;
  names: Record<string, string>;
  fingerprint: string;
  path: PathStatus;
  paths: PathStatus[];
  failovers: number;
  outbox: { pending: number; oldestPending: string | null; lastReceiptAt: string | null };
  received: number;
  witness: {
    witnessed: { size: number; at: string } | null;
    cosigned: { size: number; time: string; at: string } | null;
  };
  vocabulary: { ours: VersionHash; theirs: VersionHash | null; same: boolean; warning?: string };
}
export interface Status_ {
  party: string;
  names: Record<string, string>;
  ledger: { size: number };
  peers: PeerStatus[];
  alarms: Alarm[];
  watchdog: unknown;
}
export interface RenderedCode {
  code: string;
  known: boolean;
  lang: string;
  text: string;
  definition?: string;
  review: string;
  warnings: string[];
}
export interface Vocabulary {
  version: string;
  languages: Record<string, { name: string }>;
  entries: RenderedCode[];
}
export interface RenderedText {
  lang: string;
  body: string;
  label: string;
}
export interface LocalTranslation {
  id: string;
  lang: string;
  text: string;
  kind: 'person' | 'machine';
  translator: string;
  status: string;
  createdAt: string;
  label: string;
}
export interface AttachmentView {
  name: string;
  mediaType: string;
  bytes: number;
  intact: boolean;
  stix?:
    | {
        summary: {
          id: string;
          objects: number;
          types: Record<string, number>;
          listed: Array<{ type: string; id: string; label?: string }>;
        };
      }
    | { problems: Array<{ path: string; message: string }> };
  problems: string[];
}
export interface MessageView {
  from: string;
  id: string;
  dir: 'in' | 'out';
  at: string;
  body: Body;
  rendered: {
    lang: string;
    precedence: RenderedCode;
    status: RenderedCode;
    tlp: RenderedCode;
    codes: RenderedCode[];
    report?: {
      nature: RenderedCode;
      category: RenderedCode;
      harm?: { types: RenderedCode[]; severity: RenderedCode; reversibility: RenderedCode };
      actionsTaken: RenderedCode[];
      actionsRequested: RenderedCode[];
    };
    text?: RenderedText;
    senderTranslations: RenderedText[];
  };
  localTranslations: LocalTranslation[];
  attachments: AttachmentView[];
  warnings: string[];
}
export interface Me {
  user: { name: string; displayName: string | null; role: 'operator' | 'officer' | 'admin' };
  via: string;
  scopes: string[];
  desks: string[];
}
export interface Desk {
  id: string;
  name: string;
  staff: Array<{ user: string; routes: Array<{ kind: string }> }>;
}
export interface Duty {
  desk: string;
  at: string;
  onDuty: {
    user: string;
    displayName: string | null;
    shift: { id: number; startsAt: string; endsAt: string };
  } | null;
  next: { user: string; startsAt: string; endsAt: string } | null;
  reason?: string;
}
export interface Shift {
  id: number;
  desk: string;
  user: string;
  startsAt: string;
  endsAt: string;
}
export interface Handover {
  id: number;
  desk: string;
  from: string;
  to: string;
  items: Array<{ kind: string; id?: string | number; note?: string }>;
  note: string | null;
  createdAt: string;
  confirmedAt: string | null;
}
export interface User {
  name: string;
  displayName: string | null;
  role: string;
  createdAt: string;
  disabledAt: string | null;
  lockedUntil: string | null;
}
export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  role: string | null;
  via: string;
  source: string | null;
  action: string;
  target: string | null;
  outcome: string;
}
export interface AuditReport {
  ok: boolean;
  entries?: number;
  pending: number;
  problems: unknown[];
}

/** An error answered by the node: its stable code and sentence. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CSRF_KEY = 'hotline.csrf';

/** Called when the node says the session has ended. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (data as { error?: { code: string; message: string } } | undefined)?.error;
    if (response.status === 401 && path !== '/api/v1/session') onSignedOut();
    throw new ApiFailure(
      response.status,
      error?.code ?? 'E_HTTP',
      error?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return data as T;
}

const enc = encodeURIComponent;

export const api = {
  hasCsrf: () => sessionStorage.getItem(CSRF_KEY) !== null,
  async login(user: string, password: string): Promise<void> {
    const answer = await call<{ csrfToken: string }>('POST', '/api/v1/session', {
      user,
      password,
    });
    sessionStorage.setItem(CSRF_KEY, answer.csrfToken);
  },
  async logout(): Promise<void> {
    try {
      await call('DELETE', '/api/v1/session');
    } finally {
      sessionStorage.removeItem(CSRF_KEY);
    }
  },
  me: () => call<Me>('GET', '/api/v1/me'),
  status: () => call<Status_>('GET', '/api/v1/status'),
  inbox: (limit = 500) => call<InboxItem[]>('GET', `/api/v1/inbox?limit=${limit}`),
  outbox: (limit = 500) => call<OutboxItem[]>('GET', `/api/v1/outbox?limit=${limit}`),
  alarms: () => call<Alarm[]>('GET', '/api/v1/alarms'),
  clearAlarm: (id: number, note?: string) =>
    call<Alarm>('POST', `/api/v1/alarms/${id}/clear`, note ? { note } : {}),
  vocabulary: (lang: string) => call<Vocabulary>('GET', `/api/v1/vocabulary?lang=${enc(lang)}`),
  message: (party: string, id: string, lang: string) =>
    call<MessageView>('GET', `/api/v1/messages/${enc(party)}/${enc(id)}?lang=${enc(lang)}`),
  translations: (party: string, id: string, lang: string) =>
    call<LocalTranslation[]>(
      'GET',
      `/api/v1/messages/${enc(party)}/${enc(id)}/translations?lang=${enc(lang)}`,
    ),
  send: (to: string[], message: Draft) =>
    call<{ id: string; seq: Record<string, number> }>('POST', '/api/v1/messages', { to, message }),
  desks: () => call<Desk[]>('GET', '/api/v1/desks'),
  duty: (desk: string) => call<Duty>('GET', `/api/v1/desks/${enc(desk)}/duty`),
  shifts: (desk: string) => call<Shift[]>('GET', `/api/v1/desks/${enc(desk)}/shifts`),
  handovers: () => call<Handover[]>('GET', '/api/v1/handovers'),
  handOver: (desk: string, items: Array<{ kind: 'note'; note: string }>, note?: string) =>
    call<Handover>('POST', `/api/v1/desks/${enc(desk)}/handovers`, {
      items,
      ...(note ? { note } : {}),
    }),
  confirmHandover: (id: number) => call<Handover>('POST', `/api/v1/handovers/${id}/confirm`),
  users: () => call<User[]>('GET', '/api/v1/users'),
  audit: (limit = 100) => call<AuditEntry[]>('GET', `/api/v1/audit?limit=${limit}`),
  auditVerify: () => call<AuditReport>('GET', '/api/v1/audit/verify'),
};

/**
 * Acknowledges a received message: one click, one function. The node's acknowledge route sends
 * the `ack` and records who acknowledged it (desk and person), stops its escalation and clears
 * its alarms.
 */
export async function acknowledge(message: InboxItem, desk: string): Promise<{ id: string }> {
  const answer = await call<{ ack: string }>(
    'POST',
    `/api/v1/messages/${enc(message.from)}/${enc(message.id)}/ack`,
    { desk },
  );
  return { id: answer.ack };
}
