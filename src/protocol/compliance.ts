/**
 * Compliance with the notification regimes (docs/regimes.md § Compliance): what each party owes
 * each other party, by when, and whether it was sent on time, late, and acknowledged.
 *
 * Pure, and computed only from what both ledgers hold alike: the signed headers (`from`, `to`,
 * `id`, `sent`) and the bodies of the messages exchanged — the notices, the incident reports that
 * start an obligation, and the acknowledgements. So the sender's node, the recipient's node and an
 * auditor holding either export (`hotline verify`) compute the same table at the same time.
 *
 * Time is the sender's signed `sent`: an obligation is met on time when its notice was sent by the
 * due time. (A backdated `sent` is what the receiver's skew alarm is for.)
 */
import { Body } from './body.ts';
import type { Header } from './envelope.ts';
import { jcs } from './jcs.ts';
import { notificationOf } from './notification.ts';
import type { NotificationType, Regimes } from './regimes.ts';
import { schemaError } from './validate.ts';
import type { ComplianceState, ComplianceTable, Obligation, PartyCompliance } from './views.ts';

export type { ComplianceState, ComplianceTable, Obligation, PartyCompliance };

/** A message as the computation needs it: its signed header's parts and its body. */
export interface ComplianceMessage {
  from: string;
  to: readonly string[];
  id: string;
  sent: string;
  body: Body;
}

const RELEVANT = new Set(['notice', 'incident.report', 'ack']);
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The last instant a Timestamp writes (a year of four digits). */
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Whether a body is of a type compliance is computed from (`add` checks its schema too). */
export function isComplianceType(body: unknown): boolean {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' && RELEVANT.has(type);
}

/**
 * Gathers the messages compliance is computed from, as a ledger is read: each message once (a
 * message to several recipients has a leaf per recipient), bodies checked against the schema.
 */
export class ComplianceMessages {
  readonly #seen = new Set<string>();
  readonly list: ComplianceMessage[] = [];

  add(header: Header, body: unknown): void {
    const key = `${header.from}\n${header.id}`;
    if (this.#seen.has(key)) return;
    if (!isComplianceType(body)) return;
    if (schemaError(Body, body) !== undefined) return;
    this.#seen.add(key);
    this.list.push({
      from: header.from,
      to: header.to,
      id: header.id,
      sent: header.sent,
      body: body as Body,
    });
  }
}

/**
 * Orders strings by UTF-16 code units, never by locale: both sides, on any machine, must sort
 * alike (`localeCompare` follows the host's ICU data).
 */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The end of the UTC day `day` (YYYY-MM-DD), plus `days`. */
function endOfDay(day: string, days: number): number {
  return Date.parse(`${day}T00:00:00.000Z`) + (days + 1) * DAY_MS - 1;
}

/** The compliance table at `at` between `parties`, from the messages both sides logged. */
export function computeCompliance(
  regimes: Regimes,
  messages: readonly ComplianceMessage[],
  options: { at: Date; parties: readonly string[] },
): ComplianceTable {
  const at = options.at.getTime();
  const parties = [...new Set(options.parties)].sort();
  const member = new Set(parties);
  const effective = Date.parse(`${regimes.document.effective}T00:00:00.000Z`);
  const known = messages
    .filter((m) => {
      const sent = Date.parse(m.sent);
      return sent <= at && sent >= effective && member.has(m.from);
    })
    .sort(
      (a, b) =>
        byCodeUnits(a.sent, b.sent) || byCodeUnits(a.from, b.from) || byCodeUnits(a.id, b.id),
    );
  const acks = new Map<string, { from: string; id: string; at: string }>();
  for (const m of known)
    if (m.body.type === 'ack' && m.body.inReplyTo) {
      const key = `${m.from}\n${m.body.inReplyTo}`;
      if (!acks.has(key)) acks.set(key, { from: m.from, id: m.id, at: m.sent });
    }
  const notices = known.filter((m) => m.body.type === 'notice' && m.body.notice);
  // Each notice's attachment decoded once.
  const decoded = new Map<ComplianceMessage, Record<string, unknown> | undefined>();
  const fieldsOf = (m: ComplianceMessage) => {
    if (!decoded.has(m)) decoded.set(m, notificationOf(m.body)?.fields);
    return decoded.get(m);
  };
  const obligations: Obligation[] = [];
  const add = (
    type: NotificationType,
    o: Pick<Obligation, 'mode' | 'owedBy' | 'owedTo' | 'basis'> & { due: number; key: string },
    notice: ComplianceMessage | undefined,
  ) => {
    // Due after the year 9999 (an annual notice as at that year): still to come at any time a
    // board is asked for, and with no Timestamp to write it in (`+010000-…`, sorted first), so
    // left out.
    if (o.due > LAST_INSTANT) return;
    const sent = notice ? Date.parse(notice.sent) : undefined;
    const state: ComplianceState =
      sent !== undefined ? (sent <= o.due ? 'sent' : 'late') : at > o.due ? 'late' : 'owed';
    const ack = notice ? acks.get(`${o.owedTo}\n${notice.id}`) : undefined;
    obligations.push({
      key: `${type.code}/${o.owedBy}/${o.owedTo}/${o.key}`,
      type: type.code,
      mode: o.mode,
      owedBy: o.owedBy,
      owedTo: o.owedTo,
      due: new Date(o.due).toISOString(),
      basis: o.basis,
      state,
      notice: notice ? { id: notice.id, sent: notice.sent } : null,
      acknowledged: ack ? { id: ack.id, at: ack.at } : null,
    });
  };
  const recipients = (m: ComplianceMessage) =>
    [...new Set(m.to)].filter((p) => member.has(p) && p !== m.from).sort();
  for (const type of regimes.types) {
    const ofType = notices.filter((m) => m.body.notice?.subject === type.code);
    const timing = type.timing;
    if (timing.kind === 'before' || timing.kind === 'after') {
      // Owed by the notice itself: on time when sent by the date its field names, less or plus.
      for (const m of ofType) {
        const date = fieldsOf(m)?.[timing.field];
        if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) continue;
        const due =
          timing.kind === 'before'
            ? Date.parse(`${date}T00:00:00.000Z`) - timing.days * DAY_MS
            : endOfDay(date, timing.days);
        if (!Number.isFinite(due)) continue;
        for (const to of recipients(m))
          add(
            type,
            {
              key: m.id,
              mode: m.body.status,
              owedBy: m.from,
              owedTo: to,
              basis: { kind: 'notice', field: timing.field, date },
              due,
            },
            m,
          );
      }
    } else if (timing.kind === 'event') {
      const started = new Set<string>();
      // The notices of each (author, incident, status), in `sent` order: one look-up per report.
      const byIncident = new Map<string, ComplianceMessage[]>();
      for (const n of ofType) {
        const key = `${n.from}\n${n.body.incident}\n${n.body.status}`;
        byIncident.set(key, [...(byIncident.get(key) ?? []), n]);
      }
      for (const report of known) {
        const incident = report.body.incident;
        if (report.body.type !== timing.on || !incident) continue;
        const severity = report.body.report?.harm?.severity;
        if (timing.severities && !(severity && timing.severities.includes(severity))) continue;
        for (const to of recipients(report)) {
          const key = `${report.from}\n${to}\n${incident}`;
          if (started.has(key)) continue;
          started.add(key);
          const notice = byIncident
            .get(`${report.from}\n${incident}\n${report.body.status}`)
            ?.find((n) => n.to.includes(to));
          add(
            type,
            {
              key: incident,
              mode: report.body.status,
              owedBy: report.from,
              owedTo: to,
              basis: { kind: 'event', message: report.id, incident },
              due: Date.parse(report.sent) + timing.hours * HOUR_MS,
            },
            notice,
          );
        }
      }
    } else {
      // Each year from the effective one, due on month/day of the next; up to the next one due.
      const first = new Date(effective).getUTCFullYear();
      const last = new Date(at).getUTCFullYear();
      for (let year = first; year <= last; year++) {
        const due = Date.UTC(year + 1, timing.month - 1, timing.day, 23, 59, 59, 999);
        for (const owedBy of parties)
          for (const owedTo of parties) {
            if (owedBy === owedTo) continue;
            const notice = ofType.find(
              (n) =>
                n.from === owedBy &&
                n.to.includes(owedTo) &&
                n.body.status === 'actual' &&
                fieldsOf(n)?.year === year,
            );
            add(
              type,
              {
                key: String(year),
                mode: 'actual',
                owedBy,
                owedTo,
                basis: { kind: 'annual', year },
                due,
              },
              notice,
            );
          }
      }
    }
  }
  obligations.sort((a, b) => byCodeUnits(a.due, b.due) || byCodeUnits(a.key, b.key));
  const byParty: Record<string, PartyCompliance> = {};
  for (const party of parties) byParty[party] = { owed: 0, sent: 0, late: 0, acknowledged: 0 };
  for (const o of obligations) {
    const counts = byParty[o.owedBy] as PartyCompliance;
    counts[o.state]++;
    if (o.acknowledged) counts.acknowledged++;
  }
  return {
    regimes: regimes.ref,
    at: new Date(at).toISOString(),
    parties,
    obligations,
    byParty,
  };
}

/** The table limited to obligations between the parties of `pair`, for comparing two sides. */
export function tableBetween(table: ComplianceTable, pair: readonly string[]): Obligation[] {
  return table.obligations.filter((o) => pair.includes(o.owedBy) && pair.includes(o.owedTo));
}

/**
 * The obligations between `pair` on which two tables differ, by key; empty when both sides
 * compute the same thing.
 */
export function compareCompliance(
  a: ComplianceTable,
  b: ComplianceTable,
  pair: readonly string[],
): string[] {
  const index = (t: ComplianceTable) => new Map(tableBetween(t, pair).map((o) => [o.key, jcs(o)]));
  const x = index(a);
  const y = index(b);
  const differ = new Set<string>();
  for (const [key, text] of x) if (y.get(key) !== text) differ.add(key);
  for (const key of y.keys()) if (!x.has(key)) differ.add(key);
  return [...differ].sort();
}
