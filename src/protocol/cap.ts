/**
 * An incident as an OASIS CAP 1.2 alert (Common Alerting Protocol Version 1.2, OASIS Standard,
 * 1 July 2010, https://docs.oasis-open.org/emergency/cap/v1.2/CAP-v1.2-os.html), for systems
 * outside the hotline that speak CAP. One `<info>` per vocabulary language, each written from the
 * vocabulary's texts in that language; free text appears as the author wrote it (the original is
 * authoritative) beside the sender's own translations, never a translation made on this side.
 *
 * The mapping of every field is in docs/language.md § CAP.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { Body } from './body.ts';
import { renderBody, tlpCode } from './render.ts';
import type { Precedence, Status, Tlp } from './values.ts';
import type { Vocabulary } from './vocabulary.ts';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export interface CapMessage {
  /** The author party. */
  from: string;
  id: string;
  /** When this node logged it (sent or received). */
  at: string;
  body: Body;
}

export interface CapInput {
  incident: string;
  /** The exporting party: the alert's `sender`. */
  party: string;
  /**
   * Each party's names by language (at least the reporting party's), for `senderName`: the
   * authority that reported the incident, whichever node exports it.
   */
  names: Readonly<Record<string, Record<string, string>>>;
  /** The incident's messages that may be exported, oldest first (at least one). */
  messages: readonly CapMessage[];
  /** TLP:RED messages left out (a `note` says how many). */
  excludedRed: number;
  vocabulary: Vocabulary;
}

/** CAP 1.2 §3.2.1 status. */
const STATUS: Record<Status, string> = { actual: 'Actual', exercise: 'Exercise', test: 'Test' };

/** CAP 1.2 §3.2.2 urgency, from the precedence of the latest message. */
const URGENCY: Record<Precedence, string> = {
  flash: 'Immediate',
  immediate: 'Immediate',
  priority: 'Expected',
  routine: 'Future',
};

/** CAP 1.2 category, from the hotline category. */
export const CAP_CATEGORY: Record<string, string> = {
  'category.autonomous-unpredictable': 'Safety',
  'category.ai-cyberattack': 'Security',
  'category.ai-nuclear-c2': 'Security',
  'category.loss-of-control': 'Safety',
  'category.weights-proliferation': 'Security',
  'category.bio-chem-misuse': 'CBRNE',
  'category.crisis-disinformation': 'Security',
  'category.critical-infrastructure': 'Infra',
  'category.other': 'Other',
};

export const CAP_SEVERITY: Record<string, string> = {
  'severity.extreme': 'Extreme',
  'severity.severe': 'Severe',
  'severity.moderate': 'Moderate',
  'severity.minor': 'Minor',
  'severity.unknown': 'Unknown',
};

export const CAP_CERTAINTY: Record<string, string> = {
  'certainty.observed': 'Observed',
  'certainty.likely': 'Likely',
  'certainty.possible': 'Possible',
  'certainty.unlikely': 'Unlikely',
  'certainty.unknown': 'Unknown',
};

/** CAP responseType, from requested actions; actions with no CAP equivalent are left out. */
export const CAP_RESPONSE: Record<string, string> = {
  'action.halt-system': 'Execute',
  'action.isolate-system': 'Execute',
  'action.restrict-access': 'Execute',
  'action.preserve-evidence': 'Execute',
  'action.notify-developer': 'Execute',
  'action.investigate-report': 'Assess',
  'action.share-assessment': 'Assess',
  'action.share-indicators': 'Monitor',
  'action.refrain-escalation': 'Avoid',
  'action.stand-down': 'AllClear',
};

/** The most restrictive first. */
const TLP_ORDER: readonly Tlp[] = ['red', 'amber+strict', 'amber', 'green', 'clear'];

/**
 * CAP 1.2 §3.2.1 `sent` (and every CAP dateTime): "Alphabetic timezone designators such as “Z”
 * MUST NOT be used. The timezone for UTC MUST be represented as “-00:00”."
 */
export function capTime(iso: string): string {
  return `${iso.slice(0, 19)}-00:00`;
}

/**
 * CAP 1.2 §3.2.2 `language`: an RFC 3066 tag. The vocabulary's bare languages get the region the
 * hotline's parties write (`en-US`, `zh-CN`: Simplified Chinese as written in China); another
 * language keeps its own tag.
 */
export const CAP_LANGUAGE: Readonly<Record<string, string>> = { en: 'en-US', zh: 'zh-CN' };

/** The most restrictive TLP of a set of messages. */
export function mostRestrictiveTlp(messages: readonly { body: { tlp: Tlp } }[]): Tlp {
  return TLP_ORDER.find((t) => messages.some((m) => m.body.tlp === t)) ?? 'clear';
}

/** XML 1.0 cannot carry most control characters; free text may. */
function xmlText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing exactly those characters
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}

/**
 * CAP 1.2 §3.2.2 senderName, "the human-readable name of the agency or authority issuing this
 * alert": the party that reported the incident (its `incident.report`, else its first message's
 * author), in `lang` if it has a name in it. `sender` stays the exporting node, which assigns the
 * identifiers (§3.2.1).
 */
function reporterName(input: CapInput, lang: string): string {
  const first = input.messages.find((m) => m.body.type === 'incident.report') ?? input.messages[0];
  const party = first?.from ?? input.party;
  const names = input.names[party] ?? {};
  return names[lang] ?? names.en ?? Object.values(names)[0] ?? party;
}

const identifierOf = (party: string, incident: string, id: string) =>
  `hotline-${party}-${incident}-${id}`;

/** Builds the CAP 1.2 alert of an incident as XML text. */
export function capAlert(input: CapInput): string {
  const { messages, vocabulary: v, party, incident } = input;
  const first = messages[0];
  const last = messages.at(-1);
  if (!first || !last) throw new Error('a CAP alert needs at least one message');
  const report = [...messages].reverse().find((m) => m.body.report)?.body.report;
  const ended = messages.some(
    (m) => m.body.type === 'incident.close' || m.body.type === 'incident.retract',
  );
  const tlp = mostRestrictiveTlp(messages);
  const sender = `hotline:${party}`;
  const msgType =
    last.body.type === 'incident.retract' ? 'Cancel' : messages.length === 1 ? 'Alert' : 'Update';
  const category = report?.category ?? 'category.other';
  const certainty = [...messages]
    .reverse()
    .flatMap((m) => m.body.codes)
    .find((c) => c in CAP_CERTAINTY);
  const responses = ended
    ? ['AllClear']
    : [
        ...new Set(
          (report?.actionsRequested ?? []).flatMap((c) =>
            CAP_RESPONSE[c] ? [CAP_RESPONSE[c]] : [],
          ),
        ),
      ];
  const exercise = last.body.status === 'exercise';
  const notes = [
    // CAP 1.2 §3.2.1 note: "primarily intended for use with status “Exercise”": the exercise's
    // identifier comes first, so a consumer filing drills finds it without parsing further.
    ...(exercise ? [`Exercise ${incident}.`] : []),
    `Hotline incident ${incident}; vocabulary ${v.version} (${v.hash}).`,
    ...(input.excludedRed
      ? [`${input.excludedRed} TLP:RED message(s) of this incident are not included.`]
      : []),
  ];
  const alert: Record<string, unknown> = {
    '@_xmlns': CAP_NAMESPACE,
    identifier: identifierOf(party, incident, last.id),
    sender,
    sent: capTime(last.at),
    status: STATUS[last.body.status],
    msgType,
    source: 'Hotline',
    scope: tlp === 'clear' ? 'Public' : 'Restricted',
    ...(tlp === 'clear'
      ? {}
      : {
          restriction: `${v.render(tlpCode(tlp), 'en').text}: ${v.render(tlpCode(tlp), 'en').definition}`,
        }),
    code: [`TLP:${tlp.toUpperCase()}`, `hotline-vocabulary:${v.version}`],
    note: notes.join(' '),
    // §3.2.1 references: every earlier alert a consumer may hold. Each export is identified by
    // its latest message, so the earlier alerts of this incident are those of every earlier
    // message: all of them are referenced, oldest first.
    ...(msgType === 'Alert'
      ? {}
      : {
          references: messages
            .slice(0, -1)
            .map((m) => `${sender},${identifierOf(party, incident, m.id)},${capTime(m.at)}`)
            .join(' '),
        }),
    incidents: incident,
    info: v.languages.map((lang) =>
      info(input, lang, { category, certainty, responses, ended, tlp }),
    ),
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    format: true,
    suppressEmptyNode: true,
  });
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    alert,
  }) as string;
}

function info(
  input: CapInput,
  lang: string,
  derived: {
    category: string;
    certainty?: string;
    responses: string[];
    ended: boolean;
    /** The most restrictive TLP of the alert's messages. */
    tlp: Tlp;
  },
): Record<string, unknown> {
  const { messages, vocabulary: v } = input;
  const last = messages.at(-1) as CapMessage;
  const report = [...messages].reverse().find((m) => m.body.report)?.body.report;
  const warnings = new Set<string>();
  const text = (code: string) => {
    const r = v.render(code, lang);
    for (const w of r.warnings) warnings.add(`${code}: ${w}`);
    return r.text;
  };
  const event = text(derived.category);
  const severity = report?.harm?.severity;
  const state = [...messages].reverse().find((m) => m.body.state)?.body.state?.to;
  const lines: string[] = [];
  for (const m of messages) {
    const rendered = renderBody(v, m.body, lang);
    for (const w of rendered.warnings) warnings.add(w);
    lines.push(
      `${capTime(m.at)} · ${m.from} · ${rendered.precedence.text} · ${rendered.status.text} · ${rendered.tlp.text} · ${m.id}`,
    );
    const codes = [
      ...(rendered.report ? [rendered.report.nature, rendered.report.category] : []),
      ...(rendered.report?.harm
        ? [rendered.report.harm.severity, ...rendered.report.harm.types]
        : []),
      ...(rendered.state ? [rendered.state] : []),
      ...rendered.codes,
    ];
    if (codes.length) lines.push(`  ${codes.map((c) => c.text).join('; ')}`);
    if (rendered.text)
      lines.push(`  ${rendered.text.label} (${rendered.text.lang}): ${rendered.text.body}`);
    for (const t of rendered.senderTranslations) lines.push(`  ${t.label} (${t.lang}): ${t.body}`);
  }
  const instruction = (report?.actionsRequested ?? []).map(text).join('; ');
  const headline = [event, state ? text(`state.${state}`) : undefined].filter(Boolean).join(' — ');
  if (warnings.size) lines.push('', ...[...warnings].map((w) => `⚠ ${w}`));
  const geography = report?.harm?.geography ?? [];
  return {
    language: CAP_LANGUAGE[lang] ?? lang,
    category: CAP_CATEGORY[derived.category] ?? 'Other',
    event: xmlText(event),
    ...(derived.responses.length ? { responseType: derived.responses } : {}),
    urgency: derived.ended ? 'Past' : URGENCY[last.body.precedence],
    severity: (severity && CAP_SEVERITY[severity]) ?? 'Unknown',
    certainty: (derived.certainty && CAP_CERTAINTY[derived.certainty]) ?? 'Unknown',
    eventCode: [{ valueName: 'hotline-category', value: derived.category }],
    senderName: xmlText(reporterName(input, lang)),
    headline: xmlText(headline.slice(0, 160)),
    description: xmlText(lines.join('\n')),
    ...(instruction ? { instruction: xmlText(instruction) } : {}),
    parameter: [
      { valueName: 'TLP', value: derived.tlp.toUpperCase() },
      ...[...warnings].map((w) => ({ valueName: 'hotline-warning', value: xmlText(w) })),
    ],
    ...(geography.length ? { area: geography.map((g) => ({ areaDesc: xmlText(g) })) } : {}),
  };
}

/** The fields of a CAP 1.2 alert a reader checks first, read back from XML. */
export interface CapSummary {
  identifier: string;
  sender: string;
  sent: string;
  status: string;
  msgType: string;
  scope: string;
  restriction?: string;
  incidents?: string;
  info: Array<{
    language: string;
    category: string[];
    event: string;
    urgency: string;
    severity: string;
    certainty: string;
    headline?: string;
    description?: string;
    instruction?: string;
  }>;
}

/** Reads the main fields of a CAP 1.2 alert (the namespace must be CAP 1.2's). */
export function readCapAlert(xml: string): CapSummary {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) =>
      ['info', 'category', 'responseType', 'parameter', 'area', 'code'].includes(name),
  });
  const doc = parser.parse(xml) as { alert?: Record<string, unknown> };
  const alert = doc.alert;
  if (!alert || alert['@_xmlns'] !== CAP_NAMESPACE) throw new Error('not a CAP 1.2 alert');
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    identifier: s(alert.identifier) ?? '',
    sender: s(alert.sender) ?? '',
    sent: s(alert.sent) ?? '',
    status: s(alert.status) ?? '',
    msgType: s(alert.msgType) ?? '',
    scope: s(alert.scope) ?? '',
    ...(s(alert.restriction) ? { restriction: s(alert.restriction) } : {}),
    ...(s(alert.incidents) ? { incidents: s(alert.incidents) } : {}),
    info: ((alert.info as Record<string, unknown>[] | undefined) ?? []).map((i) => ({
      language: s(i.language) ?? '',
      category: (i.category as string[]) ?? [],
      event: s(i.event) ?? '',
      urgency: s(i.urgency) ?? '',
      severity: s(i.severity) ?? '',
      certainty: s(i.certainty) ?? '',
      ...(s(i.headline) ? { headline: s(i.headline) } : {}),
      ...(s(i.description) ? { description: s(i.description) } : {}),
      ...(s(i.instruction) ? { instruction: s(i.instruction) } : {}),
    })),
  };
}
