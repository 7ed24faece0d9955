/**
 * The console's calls to the incident, approvals, drills and readiness routes of its node
 * (docs/operators.md): kept apart from api.ts so each page's data layer is one file.
 */
import type { IncidentState } from '../../src/protocol/values.ts';
import type {
  Acknowledged,
  DraftView,
  IncidentDetail,
  IncidentSummary,
  Readiness,
  Reminded,
  Submitted,
  TemplateView,
} from '../../src/protocol/views.ts';
import { call } from './api.ts';

const enc = encodeURIComponent;

export const incidentsApi = {
  list: (all = false) => call<IncidentSummary[]>('GET', `/api/v1/incidents${all ? '?all=1' : ''}`),
  get: (id: string) => call<IncidentDetail>('GET', `/api/v1/incidents/${enc(id)}`),
  setState: (id: string, desk: string, to: IncidentState, text?: string) =>
    call<Submitted>('POST', `/api/v1/incidents/${enc(id)}/state`, {
      desk,
      to,
      ...(text ? { text } : {}),
    }),
  request: (id: string, desk: string, to: IncidentState, text?: string) =>
    call('POST', `/api/v1/incidents/${enc(id)}/requests`, { desk, to, ...(text ? { text } : {}) }),
  decide: (id: string, request: string, desk: string, decision: 'accepted' | 'declined') =>
    call<Submitted>('POST', `/api/v1/incidents/${enc(id)}/requests/${enc(request)}/decision`, {
      desk,
      decision,
    }),
  retract: (id: string, desk: string, text?: string) =>
    call<Submitted>('POST', `/api/v1/incidents/${enc(id)}/retract`, {
      desk,
      ...(text ? { text } : {}),
    }),
  ack: (party: string, id: string, desk: string) =>
    call<Acknowledged>('POST', `/api/v1/messages/${enc(party)}/${enc(id)}/ack`, { desk }),
  remind: (party: string, id: string, desk: string) =>
    call<Reminded>('POST', `/api/v1/messages/${enc(party)}/${enc(id)}/remind`, { desk }),
  drafts: (all = false) => call<DraftView[]>('GET', `/api/v1/drafts${all ? '?state=all' : ''}`),
  approve: (id: string, note?: string, stepUp?: unknown) =>
    call('POST', `/api/v1/drafts/${enc(id)}/approve`, {
      ...(note ? { note } : {}),
      ...(stepUp ? { stepUp } : {}),
    }),
  reject: (id: string, note: string) => call('POST', `/api/v1/drafts/${enc(id)}/reject`, { note }),
  breakGlass: (id: string, reason: string, stepUp?: unknown) =>
    call('POST', `/api/v1/drafts/${enc(id)}/break-glass`, {
      reason,
      ...(stepUp ? { stepUp } : {}),
    }),
  templates: () => call<TemplateView[]>('GET', '/api/v1/templates'),
  sendTemplate: (id: string, to: string[], desk: string) =>
    call<Submitted>('POST', `/api/v1/templates/${enc(id)}/send`, { to, desk }),
  readiness: (last = 20) => call<Readiness>('GET', `/api/v1/readiness?last=${last}`),
};
