/**
 * The alarm banner's items, built from structured data only (messages, stored alarms by type and
 * reference, escalation steps, held drafts) and worded in the reader's language: no sentence the
 * node wrote in English reaches the banner. One item per message, however many escalation steps
 * it has been through; a new step bumps the item's `version`, so it notifies again.
 */
import type {
  Alarm,
  DraftView,
  EscalationStep,
  InboxItem,
  OutboxItem,
} from '../../src/protocol/views.ts';
import type { AlarmItem } from './alarm.ts';

export interface Words {
  t: (key: string, options?: Record<string, unknown>) => string;
  lang: string;
  /** A vocabulary code in the reader's language. */
  code: (code: string) => string;
  party: (party: string) => string;
  /** A desk's name in the reader's language (`deskLabels`), else its id. */
  desk: (desk: string) => string;
}

/** The alarms that concern a message and fold into its item (src/node/incidents/escalation.ts). */
const ABOUT_A_MESSAGE = new Set(['escalation', 'unacknowledged', 'unanswered']);
/** The alarms of a held draft's escalation (ref `draft/<id>`), folded into the draft's item. */
const ABOUT_A_DRAFT = new Set(['held-escalation', 'held-unapproved']);

/** Alarms about keys and cards: they open the Keys page (rotations, disputed messages). */
const ABOUT_KEYS = new Set(['compromise', 'card-expiring', 'card-expired']);

/** A short id a person can read out on the phone: the end of the UUID, which varies most. */
export const shortId = (id: string) => id.slice(-8);

function typeName(w: Words, type: string): string {
  const name = w.t(`types.${type}`, { defaultValue: type });
  return w.lang === 'en' ? name.toLowerCase() : name;
}

/** "Flash message from Beijing: incident report, <category> (#1a2b3c4d)". */
function messageTitle(w: Words, m: InboxItem): string {
  return w.t('alarm.messageFull', {
    precedence: w.code(`precedence.${m.body.precedence}`),
    party: w.party(m.from),
    type: typeName(w, m.body.type),
    category: m.body.report ? `${w.code(m.body.report.category)}, ` : '',
    short: shortId(m.id),
  });
}

function summaryOf(w: Words, m: InboxItem): string {
  const own =
    m.body.text?.lang === w.lang ? undefined : m.body.translations.find((x) => x.lang === w.lang);
  if (own) return `${own.body.slice(0, 200)} (${w.t('message.senderTranslation')})`;
  // Else a translation made here, by a person or the machine, saying whose it is.
  const local =
    m.body.text?.lang === w.lang
      ? undefined
      : m.localTranslations?.filter((x) => x.lang === w.lang).pop();
  if (local)
    return `${local.text.slice(0, 200)} (${w.t(`hist.translated.${local.kind}`, { translator: local.translator })})`;
  return m.body.text?.body.slice(0, 200) ?? '';
}

export interface AlarmInputs {
  unacknowledged: InboxItem[];
  inbox: InboxItem[];
  outbox: OutboxItem[];
  alarms: Alarm[];
  silenced: Set<number>;
  escalations: EscalationStep[];
  /** Held drafts this reader may decide (not their own). */
  drafts: DraftView[];
}

export function alarmItems(w: Words, input: AlarmInputs): AlarmItem[] {
  const { t } = w;
  const inbox = new Map(input.inbox.map((m) => [`${m.from}/${m.id}`, m]));
  const outbox = new Map(input.outbox.map((m) => [`${m.to}/${m.id}`, m]));
  const steps = new Map(input.escalations.map((s) => [`${s.dir}:${s.party}/${s.id}`, s]));
  // Stored alarms about a message, by direction and reference: the latest type says how far
  // the ladder went (after a reload, the feed's steps are gone; these remain).
  const stored = new Map<string, Alarm>();
  const system: Alarm[] = [];
  for (const a of input.alarms) {
    if (a.ref && ABOUT_A_DRAFT.has(a.type)) {
      const key = `held:${a.ref.slice('draft/'.length)}`;
      const before = stored.get(key);
      if (!before || before.id < a.id) stored.set(key, a);
    } else if (a.ref && ABOUT_A_MESSAGE.has(a.type)) {
      const key = `${a.type === 'unanswered' ? 'out' : 'in'}:${a.ref}`;
      const before = stored.get(key);
      if (!before || before.id < a.id) stored.set(key, a);
    } else if (!input.silenced.has(a.id)) system.push(a);
  }

  const out: AlarmItem[] = [];
  const seen = new Set<string>();
  // Faults of the system (a fork, a bad proof) come first, before any message awaiting a person:
  // named by type in the reader's language; the node's own sentence is on
  // the board.
  for (const a of system)
    out.push({
      key: `alarm:${a.id}`,
      title: t(`alarmTypes.${a.type}`, { defaultValue: t('alarm.system', { type: a.type }) }),
      detail: [
        a.party ? w.party(a.party) : '',
        a.count > 1 ? `×${a.count}` : '',
        t(ABOUT_KEYS.has(a.type) ? 'alarm.seeKeys' : 'alarm.seeBoard'),
      ]
        .filter(Boolean)
        .join(' — '),
      href: ABOUT_KEYS.has(a.type) ? '/keys' : '/board',
      silence: a.id,
    });
  // Received messages waiting for a person: unacknowledged flash and immediate ones, and any
  // the ladder is escalating.
  const waiting = new Map(input.unacknowledged.map((m) => [`${m.from}/${m.id}`, m]));
  for (const key of [...steps.keys(), ...stored.keys()])
    if (key.startsWith('in:')) {
      const ref = key.slice(3);
      const m = inbox.get(ref);
      if (m && !waiting.has(ref)) waiting.set(ref, m);
      else if (!m && !waiting.has(ref)) seen.add(ref);
    }
  for (const [ref, m] of waiting) {
    const step = steps.get(`in:${ref}`);
    const alarm = stored.get(`in:${ref}`);
    let escalated = '';
    if (step)
      escalated = step.final
        ? t('inc.alarm.final')
        : t('alarm.escalatedStep', { desk: w.desk(step.desk), count: step.fired });
    else if (alarm?.type === 'unacknowledged') escalated = t('inc.alarm.final');
    else if (alarm) escalated = t('alarm.escalated');
    out.push({
      key: `msg:${ref}`,
      version: step?.fired ?? (alarm ? 1 : 0),
      title: messageTitle(w, m),
      detail: [escalated, summaryOf(w, m)].filter(Boolean).join(' — '),
      href: `/message/${m.from}/${m.id}`,
    });
  }
  // Escalated messages this console has not loaded: named by what the alarm says of them.
  for (const ref of seen) {
    const step = steps.get(`in:${ref}`);
    const alarm = stored.get(`in:${ref}`);
    const [party = '', id = ''] = ref.split('/');
    out.push({
      key: `msg:${ref}`,
      version: step?.fired ?? 1,
      title: w.t('alarm.messageShort', {
        precedence: w.code(`precedence.${step?.precedence ?? 'routine'}`),
        party: w.party(party),
        short: shortId(id),
      }),
      detail:
        step?.final || alarm?.type === 'unacknowledged'
          ? t('inc.alarm.final')
          : t('inc.alarm.ackNow'),
      href: step?.incident ? `/incident/${step.incident}` : `/message/${party}/${id}`,
    });
  }
  // Ours, not acknowledged by the other side in time.
  const unanswered = new Set<string>();
  for (const key of [...steps.keys(), ...stored.keys()])
    if (key.startsWith('out:')) unanswered.add(key.slice(4));
  for (const ref of unanswered) {
    const step = steps.get(`out:${ref}`);
    const [party = '', id = ''] = ref.split('/');
    const m = outbox.get(ref);
    out.push({
      key: `out:${ref}`,
      version: step?.fired ?? 1,
      title: t('alarm.unanswered', {
        precedence: w.code(`precedence.${m?.body.precedence ?? step?.precedence ?? 'routine'}`),
        type: m ? typeName(w, m.body.type) : t('alarm.aMessage'),
        party: w.party(party),
        short: shortId(id),
      }),
      detail: t('inc.alarm.remindNow'),
      href: step?.incident
        ? `/incident/${step.incident}`
        : m?.body.incident
          ? `/incident/${m.body.incident}`
          : '/board',
    });
  }
  // Held drafts: one item each, however far up the ladder their escalation has gone.
  const heldSteps = new Map(
    input.escalations.filter((s) => s.dir === 'held').map((s) => [s.id, s]),
  );
  for (const d of input.drafts) {
    const step = heldSteps.get(d.id);
    const alarm = stored.get(`held:${d.id}`);
    const escalated =
      step?.final || alarm?.type === 'held-unapproved'
        ? t('al.heldFinal')
        : step && step.step > 0
          ? t('alarm.escalatedStep', { desk: w.desk(step.desk), count: step.fired })
          : '';
    out.push({
      key: `draft:${d.id}`,
      version: step?.fired ?? (alarm ? 1 : 0),
      title: t('inc.approvals.heldAlarm', {
        precedence: w.code(`precedence.${d.message.precedence}`),
        type: typeName(w, d.message.type),
        to: d.to.map(w.party).join(', '),
        author: d.author,
        desk: w.desk(d.desk),
      }),
      detail: [escalated, t('inc.approvals.heldAlarmDetail'), d.message.text?.body.slice(0, 200)]
        .filter(Boolean)
        .join(' '),
      href: `/approvals/${d.id}`,
    });
  }
  return out;
}

/** What the board shows of one stored alarm, in the reader's language from its fields. */
export function alarmLine(
  w: Words,
  a: Alarm,
  known: { inbox: InboxItem[]; outbox: OutboxItem[]; drafts: DraftView[] },
): string {
  const { t } = w;
  const kind = t(`alarmTypes.${a.type}`, { defaultValue: t('alarm.system', { type: a.type }) });
  const count = a.count > 1 ? ` ×${a.count}` : '';
  if (a.ref && ABOUT_A_DRAFT.has(a.type)) {
    const id = a.ref.slice('draft/'.length);
    const d = known.drafts.find((x) => x.id === id);
    return `${kind}: ${t('al.heldDraft', {
      short: shortId(id),
      what: d
        ? `${w.code(`precedence.${d.message.precedence}`)} ${typeName(w, d.message.type)}`
        : '',
    }).trim()}${count}`;
  }
  if (a.ref && ABOUT_A_MESSAGE.has(a.type)) {
    const [party = '', id = ''] = a.ref.split('/');
    let what: string;
    if (a.type === 'unanswered') {
      const m = known.outbox.find((x) => x.to === party && x.id === id);
      what = t('al.ours', {
        what: m
          ? `${w.code(`precedence.${m.body.precedence}`)} ${typeName(w, m.body.type)}`
          : t('alarm.aMessage'),
        party: w.party(party),
        short: shortId(id),
      });
    } else {
      const m = known.inbox.find((x) => x.from === party && x.id === id);
      what = m ? messageTitle(w, m) : t('al.theirs', { party: w.party(party), short: shortId(id) });
    }
    return `${kind}: ${what}${count}`;
  }
  const cause = a.cause ? ` (${a.cause})` : '';
  return `${kind}${a.party ? ` — ${w.party(a.party)}` : ''}${cause}${count}`;
}
