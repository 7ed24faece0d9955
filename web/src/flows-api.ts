/**
 * The console's calls to the presence and conference routes (docs/console.md § Presence and
 * calls), and the words for who wrote a flow message.
 */
import type { ConferenceItem, FlowActor, PresenceItem } from '../../src/protocol/flows.ts';
import type { Submitted } from '../../src/protocol/views.ts';
import { call } from './api.ts';

const enc = encodeURIComponent;

export interface Common {
  desk: string;
  precedence: string;
  status: string;
  text?: string;
  lang?: string;
}

export const flowsApi = {
  presence: () => call<PresenceItem[]>('GET', '/api/v1/presence'),
  conferences: () => call<ConferenceItem[]>('GET', '/api/v1/conferences'),
  ask: (to: string, asked: string, common: Common) =>
    call<Submitted>('POST', '/api/v1/presence', { to: [to], asked, ...common }),
  answer: (party: string, id: string, answer: 'present' | 'unavailable') =>
    call<{ presence: string }>('POST', `/api/v1/messages/${enc(party)}/${enc(id)}/presence`, {
      answer,
    }),
  request: (
    to: string,
    times: string[],
    extra: { minutes?: number; medium?: string },
    common: Common,
  ) => call<Submitted>('POST', '/api/v1/conferences', { to, times, ...extra, ...common }),
  respond: (
    party: string,
    id: string,
    answer: {
      desk: string;
      action: 'accept' | 'decline' | 'propose';
      proposal?: string;
      at?: string;
    },
  ) => call<Submitted>('POST', `/api/v1/conferences/${enc(party)}/${enc(id)}/answer`, answer),
};

/** How long until (or since) a moment, in hours, minutes and seconds: `2 h 05 min 09 s`. */
export function span(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h} h ${pad(m)} min ${pad(s % 60)} s` : `${m} min ${pad(s % 60)} s`;
}

/** The time a `datetime-local` input means (the reader's zone), as the wire writes it. */
export function fromLocalInput(value: string): string | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export type { FlowActor };
