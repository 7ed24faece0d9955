/**
 * The console's calls to the incident, approvals, drills and readiness routes of its node
 * (docs/operators.md): kept apart from api.ts so each page's data layer is one file.
 */
import { call, type Draft, type LangText, type Precedence, type Status, type Tlp } from './api.ts';

const enc = encodeURIComponent;

export type IncidentState =
  | 'reported'
  | 'acknowledged'
  | 'investigating'
  | 'mitigating'
  | 'resolved'
  | 'closed';
export const INCIDENT_STATES: IncidentState[] = [
  'reported',
  'acknowledged',
  'investigating',
  'mitigating',
  'resolved',
  'closed',
];

export interface Awaiting {
  dir: 'in' | 'out';
  party: string;
  id: string;
  deadline: string;
  overdue: boolean;
  unansweredAt: string | null;
  step: number;
}
export interface IncidentSummary {
  incident: string;
  owner: string;
  ours: boolean;
  peers: string[];
  state: IncidentState;
  precedence: Precedence;
  status: Status;
  category: string | null;
  retracted: { id: string; at: string; desk: string; text: string | null } | null;
  reportedAt: string;
  updatedAt: string;
  pendingRequests: number;
  nextDeadline: string | null;
  awaiting: Awaiting[];
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
  request?: string;
  applied: boolean;
}
export interface Followup {
  deadline: string;
  step: number;
  desk: string | null;
  fired: number;
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
export interface TimelineEntry {
  dir: 'in' | 'out';
  party: string;
  from: string;
  id: string;
  seq: Record<string, number> | null;
  type: string;
  precedence: Precedence;
  status: Status;
  tlp: Tlp;
  desk: string;
  codes: string[];
  text: LangText | null;
  inReplyTo: string | null;
  state: { to: IncidentState; request?: boolean; decision?: string } | null;
  sent: string;
  received: string | null;
  followup: Followup | null;
  escalations: Array<{ step: number; desk: string; user: string | null; at: string }>;
}
export interface IncidentDetail {
  incident: string;
  owner: string;
  ours: boolean;
  peers: string[];
  state: IncidentState;
  head: string | null;
  precedence: Precedence;
  status: Status;
  category: string | null;
  reportedAt: string;
  updatedAt: string;
  retracted: { id: string; at: string; desk: string; text: string | null } | null;
  pendingRequests: StateEntry[];
  history: StateEntry[];
  timeline: TimelineEntry[];
}
export interface DraftView {
  id: string;
  createdAt: string;
  author: string;
  desk: string;
  to: string[];
  message: Draft & { incident?: string };
  template: string | null;
  rules: number[];
  state: 'pending' | 'releasing' | 'released' | 'rejected';
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
  breakGlass: string | null;
  messageId: string | null;
}
export interface TemplateView {
  id: string;
  title: Record<string, string>;
  preApproved: boolean;
  needsApproval: boolean;
  type: string;
  precedence: Precedence;
  status: Status;
  tlp: Tlp;
}
export interface AckStats {
  tests: number;
  drills: number;
  acknowledged: number;
  unacknowledged: number;
  medianMs: number | null;
  meanMs: number | null;
  maxMs: number | null;
}
export interface Readiness {
  last: number;
  peers: Array<{
    party: string;
    sent: Record<Precedence, AckStats>;
    received: Record<Precedence, AckStats>;
  }>;
}
/** What sending gives: a released message (201) or a draft held for a second officer (202). */
export type Submitted =
  | { state: 'released'; id: string; seq: Record<string, number>; draft: string | null }
  | { state: 'pending'; draft: string; rules: number[] };

/** A live-feed frame about incidents (src/api/live.ts). */
export interface EscalationStep {
  dir: 'in' | 'out';
  party: string;
  id: string;
  incident: string | null;
  precedence: Precedence;
  step: number;
  desk: string;
  user: string | null;
  fired: number;
  final: boolean;
  at: string;
}

export const incidentsApi = {
  list: (all = false) => call<IncidentSummary[]>('GET', `/api/v1/incidents${all ? '?all=1' : ''}`),
  get: (id: string) => call<IncidentDetail>('GET', `/api/v1/incidents/${enc(id)}`),
  setState: (id: string, desk: string, to: IncidentState, text?: string) =>
    call('POST', `/api/v1/incidents/${enc(id)}/state`, { desk, to, ...(text ? { text } : {}) }),
  request: (id: string, desk: string, to: IncidentState, text?: string) =>
    call('POST', `/api/v1/incidents/${enc(id)}/requests`, { desk, to, ...(text ? { text } : {}) }),
  decide: (id: string, request: string, desk: string, decision: 'accepted' | 'declined') =>
    call('POST', `/api/v1/incidents/${enc(id)}/requests/${enc(request)}/decision`, {
      desk,
      decision,
    }),
  retract: (id: string, desk: string, text?: string) =>
    call('POST', `/api/v1/incidents/${enc(id)}/retract`, { desk, ...(text ? { text } : {}) }),
  ack: (party: string, id: string, desk: string) =>
    call<{ ack: string; by: string }>('POST', `/api/v1/messages/${enc(party)}/${enc(id)}/ack`, {
      desk,
    }),
  remind: (party: string, id: string, desk: string) =>
    call<{ reminder: string; number: number }>(
      'POST',
      `/api/v1/messages/${enc(party)}/${enc(id)}/remind`,
      { desk },
    ),
  /** POST /api/v1/messages, saying whether it left or waits for approval. */
  submit: (to: string[], message: Draft) =>
    call<Submitted>('POST', '/api/v1/messages', { to, message }),
  drafts: (all = false) => call<DraftView[]>('GET', `/api/v1/drafts${all ? '?state=all' : ''}`),
  approve: (id: string, note?: string) =>
    call('POST', `/api/v1/drafts/${enc(id)}/approve`, note ? { note } : {}),
  reject: (id: string, note: string) => call('POST', `/api/v1/drafts/${enc(id)}/reject`, { note }),
  breakGlass: (id: string, reason: string) =>
    call('POST', `/api/v1/drafts/${enc(id)}/break-glass`, { reason }),
  templates: () => call<TemplateView[]>('GET', '/api/v1/templates'),
  sendTemplate: (id: string, to: string[], desk: string) =>
    call<Submitted>('POST', `/api/v1/templates/${enc(id)}/send`, { to, desk }),
  readiness: (last = 20) => call<Readiness>('GET', `/api/v1/readiness?last=${last}`),
};
