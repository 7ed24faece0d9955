/**
 * The console's calls to the notification-regime routes of its node (docs/regimes.md): the
 * agreed types, the compliance board and sending a notification.
 */
import type { ComplianceBoard, RegimesView, Submitted } from '../../src/protocol/views.ts';
import { call } from './api.ts';

export interface NotifyInput {
  to: string[];
  type: string;
  fields: Record<string, unknown>;
  desk: string;
  status: 'actual' | 'exercise' | 'test';
  tlp: 'red' | 'amber+strict' | 'amber' | 'green' | 'clear';
  incident?: string;
}

export const regimesApi = {
  regimes: (lang: string) => call<RegimesView>('GET', `/api/v1/regimes?lang=${lang}`),
  compliance: (lang: string) => call<ComplianceBoard>('GET', `/api/v1/compliance?lang=${lang}`),
  notify: (input: NotifyInput) => call<Submitted>('POST', '/api/v1/notifications', input),
};
