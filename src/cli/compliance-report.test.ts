import { describe, expect, test } from 'vitest';
import type { LedgerView } from '../ledger/verify.ts';
import type { Body } from '../protocol/body.ts';
import type { SignedCard } from '../protocol/card.ts';
import type { ComplianceMessage } from '../protocol/compliance.ts';
import { loadRegimes } from '../protocol/regimes.ts';
import { compareComplianceReports, complianceOf, complianceSection } from './compliance-report.ts';

const regimes = loadRegimes();
const incident = '01900000-0000-7000-8000-00000000abcd';
const reportId = '01900000-0000-7000-8000-000000000001';

const report: ComplianceMessage = {
  from: 'cn',
  to: ['us'],
  id: reportId,
  sent: '2026-06-01T00:00:00.000Z',
  body: {
    salt: 'AAAAAAAAAAAAAAAAAAAAAA',
    type: 'incident.report',
    incident,
    precedence: 'priority',
    status: 'actual',
    tlp: 'green',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    report: {
      nature: 'incident',
      category: 'category.ai-cyberattack',
      harm: { types: [], severity: 'severity.extreme', reversibility: 'unknown' },
      actionsTaken: [],
      actionsRequested: [],
    },
  } as Body,
};

/** A view as verify makes it, holding only what compliance reads. */
function view(party: string, messages: ComplianceMessage[], lateRecorded: string[] = []) {
  const card = (p: string) =>
    ({ card: { party: p, ext: { regimes: regimes.ref } } }) as unknown as SignedCard;
  return {
    party,
    cards: new Map([
      ['us', card('us')],
      ['cn', card('cn')],
    ]),
    messages,
    lateRecorded,
  } as unknown as LedgerView;
}

const at = new Date('2026-06-05T00:00:00.000Z');
const key = `regime.cross-border-incident/cn/us/${incident}`;

describe('compliance in hotline verify', () => {
  test('two bundles holding the same messages agree', () => {
    const a = complianceOf(regimes, view('us', [report], [key]), at);
    const b = complianceOf(regimes, view('cn', [report]), at);
    expect(a.unexplainedLate).toEqual([]);
    expect(a.warning).toBeUndefined();
    const cross = compareComplianceReports(a, b, []);
    expect(cross.differ).toEqual([]);
    expect(complianceSection([a, b], cross).join('\n')).toContain('Compliance tables agree on all');
  });

  test('a report one side lacks makes them differ, unless it was in flight', () => {
    const a = complianceOf(regimes, view('us', [report]), at);
    const b = complianceOf(regimes, view('cn', []), at);
    expect(compareComplianceReports(a, b, []).differ).toEqual([key]);
    const flying = compareComplianceReports(a, b, [
      { from: 'cn', to: 'us', id: reportId, seq: 1, reason: 'released after the export' },
    ]);
    expect(flying).toMatchObject({ differ: [], inFlight: [key] });
    expect(complianceSection([a, b], compareComplianceReports(a, b, [])).join('\n')).toContain(
      'Compliance tables DIFFER on 1 obligation(s)',
    );
  });

  test('a late event the table does not explain, and other regimes pinned, are flagged', () => {
    const v = view('us', [], [key]);
    (v.cards.get('us') as { card: { ext: unknown } }).card.ext = {
      regimes: { version: '2027.1', hash: 'ab'.repeat(32) },
    };
    const r = complianceOf(regimes, v, at);
    expect(r.unexplainedLate).toEqual([key]);
    expect(r.warning).toContain('2027.1');
  });
});
