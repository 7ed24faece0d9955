/**
 * The console's data layer: every call to its own node's operator API, in one place. A page asks
 * for data through these functions and never builds a URL itself, so a new route (incidents,
 * approvals, drills) is one function here and a page.
 *
 * A console session is the node's `__Host-hotline-session` cookie; every change carries the
 * session's CSRF token, kept for this tab only.
 */

import type { Draft } from '../../src/protocol/body.ts';
import type { HandoverItem } from '../../src/protocol/roster.ts';
import type {
  Acknowledged,
  Alarm,
  AuditItem,
  DeskView,
  Duty,
  HandoverView,
  InboxItem,
  LocalTranslation,
  Me,
  MessageView,
  NodeStatus,
  OutboxItem,
  Rotations,
  SecondFactorAsked,
  SessionView,
  ShiftView,
  Submitted,
  TrailReport,
  UserView,
  VocabularyView,
} from '../../src/protocol/views.ts';

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
    if (
      response.status === 401 &&
      !path.startsWith('/api/v1/session') &&
      error?.code !== 'E_SECOND_FACTOR'
    )
      onSignedOut();
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
  /** Signs in; answers the second step asked for, if the account has a second factor. */
  async login(
    user: string,
    password: string,
  ): Promise<SecondFactorAsked['secondFactor'] | undefined> {
    const answer = await call<SessionView | SecondFactorAsked>('POST', '/api/v1/session', {
      user,
      password,
    });
    if ('secondFactor' in answer) return answer.secondFactor;
    sessionStorage.setItem(CSRF_KEY, answer.csrfToken);
    return undefined;
  },
  async secondFactor(ticket: string, proof: unknown): Promise<void> {
    const answer = await call<SessionView>('POST', '/api/v1/session/second-factor', {
      ticket,
      proof,
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
  status: () => call<NodeStatus>('GET', '/api/v1/status'),
  inbox: (limit = 500) => call<InboxItem[]>('GET', `/api/v1/inbox?limit=${limit}`),
  outbox: (limit = 500) => call<OutboxItem[]>('GET', `/api/v1/outbox?limit=${limit}`),
  alarms: () => call<Alarm[]>('GET', '/api/v1/alarms'),
  rotations: () => call<Rotations>('GET', '/api/v1/rotations'),
  clearAlarm: (id: number, note?: string) =>
    call<Alarm>('POST', `/api/v1/alarms/${id}/clear`, note ? { note } : {}),
  vocabulary: (lang: string) => call<VocabularyView>('GET', `/api/v1/vocabulary?lang=${enc(lang)}`),
  message: (party: string, id: string, lang: string) =>
    call<MessageView>('GET', `/api/v1/messages/${enc(party)}/${enc(id)}?lang=${enc(lang)}`),
  translations: (party: string, id: string, lang: string) =>
    call<LocalTranslation[]>(
      'GET',
      `/api/v1/messages/${enc(party)}/${enc(id)}/translations?lang=${enc(lang)}`,
    ),
  /** POST /api/v1/messages, saying whether it left or waits for approval. */
  send: (to: string[], message: Draft) =>
    call<Submitted>('POST', '/api/v1/messages', { to, message }),
  desks: () => call<DeskView[]>('GET', '/api/v1/desks'),
  duty: (desk: string) => call<Duty>('GET', `/api/v1/desks/${enc(desk)}/duty`),
  shifts: (desk: string) => call<ShiftView[]>('GET', `/api/v1/desks/${enc(desk)}/shifts`),
  handovers: () => call<HandoverView[]>('GET', '/api/v1/handovers'),
  handOver: (desk: string, items: HandoverItem[], note?: string) =>
    call<HandoverView>('POST', `/api/v1/desks/${enc(desk)}/handovers`, {
      items,
      ...(note ? { note } : {}),
    }),
  confirmHandover: (id: number) => call<HandoverView>('POST', `/api/v1/handovers/${id}/confirm`),
  users: () => call<UserView[]>('GET', '/api/v1/users'),
  unlockUser: (name: string) =>
    call<UserView>('POST', `/api/v1/users/${encodeURIComponent(name)}/unlock`),
  audit: (limit = 100) => call<AuditItem[]>('GET', `/api/v1/audit?limit=${limit}`),
  auditVerify: () => call<TrailReport>('GET', '/api/v1/audit/verify'),
};

/**
 * Acknowledges a received message: one click, one function. The node's acknowledge route sends
 * the `ack` and records who acknowledged it (desk and person), stops its escalation and clears
 * its alarms.
 */
export async function acknowledge(message: InboxItem, desk: string): Promise<{ id: string }> {
  const answer = await call<Acknowledged>(
    'POST',
    `/api/v1/messages/${enc(message.from)}/${enc(message.id)}/ack`,
    { desk },
  );
  return { id: answer.ack };
}
