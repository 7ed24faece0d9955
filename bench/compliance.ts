/**
 * Compliance with the notification regimes (docs/regimes.md): what one look at the board costs
 * as the record grows. A synthetic year between two parties: `REPORTS` severe incident reports,
 * each answered by its cross-border notice and an ack, plus `NOTICES` training-run notices each
 * acked — gathered as verify gathers them (`ComplianceMessages.add`: schema check per body), then
 * the table computed (`computeCompliance`), as the node does for every board request and tick.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Body } from '../src/protocol/body.ts';
import { ComplianceMessages, computeCompliance } from '../src/protocol/compliance.ts';
import type { Header } from '../src/protocol/envelope.ts';
import { notificationAttachment } from '../src/protocol/notification.ts';
import { loadRegimes } from '../src/protocol/regimes.ts';

const ROUNDS = 5;

function body(overrides: Partial<Body>): Body {
  return {
    salt: 'AAAAAAAAAAAAAAAAAAAAAA',
    type: 'notice',
    precedence: 'routine',
    status: 'actual',
    tlp: 'green',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...overrides,
  } as Body;
}

function corpus(reports: number, notices: number): Array<[Header, Body]> {
  const regimes = loadRegimes();
  const t0 = Date.parse('2026-02-01T00:00:00.000Z');
  const out: Array<[Header, Body]> = [];
  let minute = 0;
  const header = (from: string, id = uuidv7()): Header =>
    ({
      v: 1,
      kind: 'message',
      id,
      from,
      to: [from === 'us' ? 'cn' : 'us'],
      seq: {},
      sent: new Date(t0 + minute++ * 60_000).toISOString(),
      kid: '0'.repeat(32),
      bodyHash: '0'.repeat(64),
    }) as unknown as Header;
  const acked = (from: string, b: Body) => {
    const h = header(from);
    out.push([h, b]);
    out.push([
      header(from === 'us' ? 'cn' : 'us'),
      body({ type: 'ack', inReplyTo: h.id, codes: ['phrase.received-understood'] }),
    ]);
  };
  for (let i = 0; i < reports; i++) {
    const from = i % 2 ? 'us' : 'cn';
    const incident = uuidv7();
    out.push([
      header(from),
      body({
        type: 'incident.report',
        incident,
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          harm: { types: [], severity: 'severity.severe', reversibility: 'unknown' },
          actionsTaken: [],
          actionsRequested: [],
        },
      }),
    ]);
    acked(
      from,
      body({
        incident,
        notice: { subject: 'regime.cross-border-incident' },
        attachments: [
          notificationAttachment(regimes, 'regime.cross-border-incident', {
            crossedBorder: 'may',
            summary: 'x',
          }),
        ],
      }),
    );
  }
  for (let i = 0; i < notices; i++)
    acked(
      i % 2 ? 'us' : 'cn',
      body({
        notice: { subject: 'regime.training-run' },
        attachments: [
          notificationAttachment(regimes, 'regime.training-run', {
            plannedStart: '2026-12-01',
            developer: 'Lab',
            computeFlop: 1e26,
            thresholdFlop: 1e25,
          }),
        ],
      }),
    );
  return out;
}

export async function benchCompliance() {
  const regimes = loadRegimes();
  const figures = [];
  for (const [reports, notices] of [
    [100, 100],
    [1000, 1000],
    [5000, 5000],
  ] as const) {
    const messages = corpus(reports, notices);
    let gatherMs = Number.POSITIVE_INFINITY;
    let tableMs = Number.POSITIVE_INFINITY;
    let obligations = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const gathered = new ComplianceMessages();
      for (const [h, b] of messages) gathered.add(h, b);
      const gathered_ = performance.now();
      const table = computeCompliance(regimes, gathered.list, {
        at: new Date('2027-02-01T00:00:00.000Z'),
        parties: ['us', 'cn'],
      });
      const done = performance.now();
      gatherMs = Math.min(gatherMs, gathered_ - started);
      tableMs = Math.min(tableMs, done - gathered_);
      obligations = table.obligations.length;
    }
    figures.push({
      messages: messages.length,
      obligations,
      gatherMs: Math.round(gatherMs * 10) / 10,
      tableMs: Math.round(tableMs * 10) / 10,
    });
  }
  return figures;
}

export function printCompliance(figures: Awaited<ReturnType<typeof benchCompliance>>) {
  console.log(
    '\n## compliance (best of 5: gather = schema-check bodies; table = computeCompliance)',
  );
  for (const f of figures)
    console.log(
      `  ${String(f.messages).padStart(6)} messages, ${String(f.obligations).padStart(5)} obligations: gather ${f.gatherMs} ms, table ${f.tableMs} ms`,
    );
}
