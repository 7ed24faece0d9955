/**
 * The compliance part of `hotline verify` (docs/regimes.md § Audit): the table each bundle's
 * ledger gives, recomputed offline exactly as the node computes its board, and — with two
 * bundles — whether both sides' tables agree on every obligation between them.
 */
import type { InFlight, LedgerView } from '../ledger/verify.ts';
import {
  type ComplianceTable,
  compareCompliance,
  computeCompliance,
  type Obligation,
  tableBetween,
} from '../protocol/compliance.ts';
import { pinnedRegimes, type Regimes } from '../protocol/regimes.ts';

export interface ComplianceReport {
  party: string;
  table: ComplianceTable;
  /** Obligations the ledger records as late (`notification-late`) that the table does not. */
  unexplainedLate: string[];
  /** Set when the bundle's own card pins other regimes than the ones applied. */
  warning?: string;
}

export interface ComplianceCross {
  pair: [string, string];
  agreed: number;
  /** Keys of obligations on which the two tables differ, not counting messages in flight. */
  differ: string[];
  /** Keys that differ only because a message was still in flight at export time. */
  inFlight: string[];
}

/** The table one bundle's ledger gives at `at`. */
export function complianceOf(regimes: Regimes, view: LedgerView, at: Date): ComplianceReport {
  const table = computeCompliance(regimes, view.messages, { at, parties: [...view.cards.keys()] });
  const late = new Set(table.obligations.filter((o) => o.state === 'late').map((o) => o.key));
  const pinned = pinnedRegimes(view.cards.get(view.party)?.card.ext);
  const same = pinned?.version === regimes.version && pinned.hash === regimes.hash;
  return {
    party: view.party,
    table,
    unexplainedLate: view.lateRecorded.filter((key) => !late.has(key)),
    ...(same
      ? {}
      : {
          warning: `"${view.party}" pins ${pinned ? `regimes ${pinned.version} (${pinned.hash.slice(0, 12)}…)` : 'no regimes'}; the table applies ${regimes.version} (${regimes.hash.slice(0, 12)}…)`,
        }),
  };
}

/** Both sides' tables compared on the obligations between the two parties. */
export function compareComplianceReports(
  a: ComplianceReport,
  b: ComplianceReport,
  notYetReceived: readonly InFlight[],
): ComplianceCross {
  const pair: [string, string] = [a.party, b.party];
  const keys = compareCompliance(a.table, b.table, pair);
  const flying = new Set(notYetReceived.map((m) => m.id));
  const byKey = new Map<string, Obligation[]>();
  for (const o of [...tableBetween(a.table, pair), ...tableBetween(b.table, pair)])
    byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  const inFlight = keys.filter((key) =>
    (byKey.get(key) ?? []).some(
      (o) =>
        (o.notice && flying.has(o.notice.id)) ||
        (o.acknowledged && flying.has(o.acknowledged.id)) ||
        (o.basis.kind === 'event' && flying.has(o.basis.message)),
    ),
  );
  return {
    pair,
    agreed: tableBetween(a.table, pair).length - keys.length + inFlight.length,
    differ: keys.filter((k) => !inFlight.includes(k)),
    inFlight,
  };
}

/** One obligation as a line of text. */
function obligationLine(o: Obligation): string {
  const sent = o.notice ? `sent ${o.notice.sent}` : 'not sent';
  const ack = o.acknowledged ? `, acknowledged ${o.acknowledged.at}` : '';
  const mode = o.mode === 'actual' ? '' : ` [${o.mode}]`;
  return `    ${o.state.padEnd(5)} ${o.owedBy} → ${o.owedTo}  ${o.type}${mode}  due ${o.due}  (${sent}${ack})`;
}

export function complianceSection(
  reports: readonly ComplianceReport[],
  cross: ComplianceCross | undefined,
): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    const t = r.table;
    lines.push(
      '',
      `Compliance by "${r.party}"'s ledger, regimes ${t.regimes.version}, at ${t.at}:`,
      ...(r.warning ? [`  ⚠ ${r.warning}`] : []),
      ...(t.obligations.length ? t.obligations.map(obligationLine) : ['    nothing owed']),
      ...Object.entries(t.byParty).map(
        ([party, c]) =>
          `  ${party}: ${c.owed} owed, ${c.sent} sent on time, ${c.late} late, ${c.acknowledged} acknowledged`,
      ),
      ...r.unexplainedLate.map((key) => `  ⚠ recorded late, but not late in the table: ${key}`),
    );
  }
  if (cross) {
    const [a, b] = cross.pair;
    lines.push(
      cross.differ.length
        ? `Compliance tables DIFFER on ${cross.differ.length} obligation(s) between ${a} and ${b}: ${cross.differ.join(', ')}`
        : `Compliance tables agree on all ${cross.agreed} obligation(s) between ${a} and ${b}`,
    );
    if (cross.inFlight.length)
      lines.push(
        `  differing only by messages in flight (not failures): ${cross.inFlight.join(', ')}`,
      );
  }
  return lines;
}
