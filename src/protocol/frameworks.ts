/**
 * Incidents in the reporting frameworks governments already use (docs/frameworks.md):
 *
 * - `oecd`: the OECD common reporting framework for AI incidents ("Towards a common reporting
 *   framework for AI incidents", OECD Artificial Intelligence Papers, 2025): 29 criteria in the
 *   dimensions of the OECD Framework for the Classification of AI Systems, plus incident metadata,
 *   harm details and response.
 * - `eu-ai-act-73`: the serious-incident report of Regulation (EU) 2024/1689 (the AI Act),
 *   Article 73, with the serious-incident categories of Article 3(49) and the deadlines of
 *   Article 73(2)–(4), in the sections of the Commission's draft reporting template (2025).
 *
 * Each criterion says which part of a Hotline report fills it (`field`), so the same table drives
 * the export and the compose form's list of criteria still empty. Pure, and free of Node imports:
 * the console imports the table.
 */
import type { Body, Draft } from './body.ts';
import { citesOf } from './citations.ts';
import { EVALUATION_MEDIA_TYPE } from './evaluation.ts';
import type { IncidentView } from './views.ts';

export const FRAMEWORKS = ['oecd', 'eu-ai-act-73'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The parts of a Hotline report (or its envelope) a criterion is filled from. */
export const REPORT_FIELDS = [
  'text',
  'category',
  'nature',
  'harm.severity',
  'harm.types',
  'harm.scale',
  'harm.geography',
  'harm.reversibility',
  'system.model',
  'system.developer',
  'system.version',
  'system.deployment',
  'attribution',
  'actionsTaken',
  'actionsRequested',
  'evidencePreserved',
  'attachments',
  /** Always filled, from the envelopes and the incident's state. */
  'envelope',
] as const;
export type ReportField = (typeof REPORT_FIELDS)[number];

export interface Criterion {
  /** The key in the export's `criteria` (OECD) or its dotted path (Article 73). */
  id: string;
  /** OECD dimension, or Article 73 template section. */
  group: string;
  /** A framework's mandatory criterion: the export always fills it. */
  mandatory: boolean;
  /** What fills it; null when a Hotline report does not carry it (left null, listed as empty). */
  field: ReportField | null;
}

const c = (id: string, group: string, field: ReportField | null, mandatory = false): Criterion => ({
  id,
  group,
  mandatory,
  field,
});

/** The OECD criteria, in the paper's order of dimensions (docs/frameworks.md, one row each). */
export const OECD_CRITERIA: readonly Criterion[] = [
  c('title', 'metadata', 'category', true),
  c('description', 'metadata', 'text', true),
  c('dateOfOccurrence', 'metadata', null),
  c('dateOfReport', 'metadata', 'envelope', true),
  c('reporter', 'metadata', 'envelope', true),
  c('eventType', 'metadata', 'nature', true),
  c('supportingMaterials', 'metadata', 'attachments'),
  c('status', 'metadata', 'envelope', true),
  c('severity', 'harm', 'harm.severity'),
  c('harmTypes', 'harm', 'harm.types'),
  c('harmQuantification', 'harm', 'harm.scale'),
  c('reversibility', 'harm', 'harm.reversibility'),
  c('countries', 'harm', 'harm.geography'),
  c('affectedStakeholders', 'people-and-planet', null),
  c('aiPrinciples', 'people-and-planet', null),
  c('industry', 'economic-context', null),
  c('businessFunction', 'economic-context', null),
  c('deployer', 'economic-context', 'system.deployment'),
  c('dataAndInput', 'data-and-input', null),
  c('aiSystemName', 'ai-model', 'system.model'),
  c('developer', 'ai-model', 'system.developer'),
  c('systemVersion', 'ai-model', 'system.version'),
  c('modelInformation', 'ai-model', 'attachments'),
  c('aiTask', 'task-and-output', null),
  c('autonomy', 'task-and-output', 'attribution'),
  c('actionsTaken', 'response', 'actionsTaken'),
  c('actionsRequested', 'response', 'actionsRequested'),
  c('evidencePreserved', 'response', 'evidencePreserved'),
  c('partiesInvolved', 'response', 'envelope', true),
];

/** The Article 73 report's fields, by template section (docs/frameworks.md). */
export const EU_AI_ACT_73_CRITERIA: readonly Criterion[] = [
  c('reportType', 'report', 'envelope', true),
  c('provider.name', 'provider', 'system.developer'),
  c('provider.contact', 'provider', null),
  c('aiSystem.name', 'ai-system', 'system.model'),
  c('aiSystem.version', 'ai-system', 'system.version'),
  c('aiSystem.euDatabaseRegistration', 'ai-system', null),
  c('aiSystem.annexIIIArea', 'ai-system', null),
  c('deployer.name', 'deployer', 'system.deployment'),
  c('incident.description', 'incident', 'text', true),
  c('incident.occurredAt', 'incident', null),
  c('incident.awareAt', 'incident', 'envelope', true),
  c('incident.memberStates', 'incident', 'harm.geography'),
  c('incident.seriousIncidentCategories', 'incident', 'harm.types'),
  c('incident.affectedPersons', 'incident', 'harm.scale'),
  c('incident.severity', 'incident', 'harm.severity'),
  c('incident.reversibility', 'incident', 'harm.reversibility'),
  c('deadline', 'incident', 'harm.types', true),
  c('causalLink', 'investigation', 'attribution'),
  c('investigation.correctiveActions', 'investigation', 'actionsTaken'),
  c('investigation.evidencePreserved', 'investigation', 'evidencePreserved'),
  c('investigation.state', 'investigation', 'envelope', true),
];

export const CRITERIA: Readonly<Record<Framework, readonly Criterion[]>> = {
  oecd: OECD_CRITERIA,
  'eu-ai-act-73': EU_AI_ACT_73_CRITERIA,
};

type Report = NonNullable<Body['report']>;

/** Which report fields a draft (or the merged reports of an incident) fills. */
export function filledFields(
  report: Partial<Report> | undefined,
  text: string | undefined,
  attachments: number,
): Set<ReportField> {
  const filled = new Set<ReportField>(['envelope']);
  const has = (field: ReportField, yes: unknown) => {
    if (yes) filled.add(field);
  };
  has('text', text?.trim());
  has('category', report?.category);
  has('nature', report?.nature);
  has('harm.severity', report?.harm?.severity && report.harm.severity !== 'severity.unknown');
  has('harm.types', report?.harm?.types.length);
  has('harm.scale', report?.harm?.scale);
  has('harm.geography', report?.harm?.geography?.length);
  has('harm.reversibility', report?.harm && report.harm.reversibility !== 'unknown');
  has('system.model', report?.system?.model);
  has('system.developer', report?.system?.developer);
  has('system.version', report?.system?.version);
  has('system.deployment', report?.system?.deployment);
  has('attribution', report?.attribution);
  has('actionsTaken', report?.actionsTaken?.length);
  has('actionsRequested', report?.actionsRequested?.length);
  has('evidencePreserved', report?.evidencePreserved !== undefined);
  has('attachments', attachments);
  return filled;
}

/** The criteria of `framework` a draft report leaves empty (those no report fills included). */
export function emptyCriteria(
  framework: Framework,
  draft: Pick<Draft, 'report' | 'text' | 'attachments'>,
): Criterion[] {
  const filled = filledFields(draft.report, draft.text?.body, draft.attachments.length);
  return CRITERIA[framework].filter((k) => k.field === null || !filled.has(k.field));
}

// Exports

/** One message of the incident, from whichever side wrote it. */
export interface FrameworkMessage {
  from: string;
  id: string;
  at: string;
  body: Body;
}

export interface FrameworkInput {
  /** The exporting party. */
  party: string;
  view: IncidentView;
  /** Both sides' messages, one copy each. */
  messages: readonly FrameworkMessage[];
  /** A vocabulary code's text in the export's language. */
  text: (code: string) => string;
  lang: string;
  generatedAt: string;
}

/** What every export says about where it came from. */
interface Source {
  generator: 'hotline';
  party: string;
  incident: string;
  owner: string;
  lang: string;
  messages: Array<{ from: string; id: string; at: string; type: string; tlp: string }>;
  /** TLP:RED messages whose content was left out (their ids are still listed). */
  redWithheld: number;
}

/** Everything the incident's messages say, merged: the latest value of each report field. */
interface Merged {
  report: Partial<Report> & { harm?: Partial<NonNullable<Report['harm']>> };
  texts: Array<{ from: string; at: string; lang: string; body: string }>;
  attachments: Array<{
    from: string;
    message: string;
    name: string;
    mediaType: string;
    sha256: string;
  }>;
  evaluations: Array<{ from: string; message: string; sha256: string }>;
}

function merge(input: FrameworkInput): Merged {
  const ordered = [...input.messages].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const report: Merged['report'] = {};
  const texts: Merged['texts'] = [];
  const attachments: Merged['attachments'] = [];
  const evaluations: Merged['evaluations'] = [];
  for (const m of ordered) {
    if (m.body.tlp === 'red') continue;
    const r = m.body.report;
    if (r) {
      // Only the owner's reports and updates describe the incident; a later one refines it.
      if (m.from === input.view.owner) {
        const { harm, system, ...rest } = r;
        Object.assign(report, rest);
        if (harm) report.harm = { ...report.harm, ...harm };
        if (system) report.system = { ...report.system, ...system };
      }
    }
    if (m.body.text) texts.push({ from: m.from, at: m.at, ...m.body.text });
    for (const a of m.body.attachments)
      attachments.push({
        from: m.from,
        message: m.id,
        name: a.name,
        mediaType: a.mediaType,
        sha256: a.sha256,
      });
    const cites = citesOf(m.body.ext);
    if ('cites' in cites)
      for (const cite of cites.cites)
        evaluations.push({ from: cite.from, message: cite.message, sha256: cite.sha256 });
  }
  return { report, texts, attachments, evaluations };
}

function sourceOf(input: FrameworkInput): Source {
  const ordered = [...input.messages].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    generator: 'hotline',
    party: input.party,
    incident: input.view.incident,
    owner: input.view.owner,
    lang: input.lang,
    messages: ordered.map((m) => ({
      from: m.from,
      id: m.id,
      at: m.at,
      type: m.body.type,
      tlp: m.body.tlp,
    })),
    redWithheld: ordered.filter((m) => m.body.tlp === 'red').length,
  };
}

/** Evaluation results sent with the incident's messages, and those its messages cite. */
const evaluationsOf = (merged: Merged) => [
  ...merged.attachments
    .filter((a) => a.mediaType === EVALUATION_MEDIA_TYPE)
    .map((a) => ({ from: a.from, message: a.message, sha256: a.sha256, cited: false })),
  ...merged.evaluations.map((e) => ({ ...e, cited: true })),
];

const narrative = (merged: Merged) =>
  merged.texts.map((t) => `${t.at} ${t.from} (${t.lang}): ${t.body}`).join('\n');

const coded = (input: FrameworkInput, code: string | undefined) =>
  code === undefined ? null : { code, text: input.text(code) };

/** Vocabulary harm codes as OECD harm types (the paper's list of harm types). */
const OECD_HARM: Record<string, string> = {
  'harm.loss-of-life': 'physical',
  'harm.service-disruption': 'public-interest',
  'harm.economic': 'economic-or-property',
  'harm.system-compromise': 'economic-or-property',
  'harm.information-integrity': 'public-interest',
  'harm.escalation-risk': 'public-interest',
};

/** The OECD severity levels: incident, serious incident; hazard, serious hazard. */
function oecdSeverity(nature: 'incident' | 'hazard', severity: string | undefined): string | null {
  if (!severity || severity === 'severity.unknown') return null;
  const serious = severity === 'severity.severe' || severity === 'severity.extreme';
  return nature === 'hazard'
    ? serious
      ? 'serious-ai-hazard'
      : 'ai-hazard'
    : serious
      ? 'serious-ai-incident'
      : 'ai-incident';
}

const empty = (criteria: Record<string, unknown>) =>
  Object.entries(criteria)
    .filter(([, v]) => v === null || (Array.isArray(v) && v.length === 0))
    .map(([k]) => k);

/** The incident as the OECD common reporting framework's criteria. */
export function exportOecd(input: FrameworkInput) {
  const { view } = input;
  const merged = merge(input);
  const r = merged.report;
  const nature = r.nature ?? view.nature ?? 'incident';
  const category = r.category ?? view.category ?? undefined;
  const criteria = {
    title: `${category ? input.text(category) : 'AI incident'} (${view.owner}, ${view.reportedAt.slice(0, 10)})`,
    description: narrative(merged) || (category ? input.text(category) : 'No free text was sent.'),
    dateOfOccurrence: null,
    dateOfReport: view.reportedAt,
    reporter: { party: view.owner },
    eventType: nature,
    supportingMaterials: merged.attachments,
    status: { state: view.state, retracted: view.retracted !== null, updatedAt: view.updatedAt },
    severity: r.harm?.severity
      ? { level: oecdSeverity(nature, r.harm.severity), ...coded(input, r.harm.severity) }
      : null,
    harmTypes: (r.harm?.types ?? []).map((code) => ({
      type: OECD_HARM[code] ?? 'other',
      code,
      text: input.text(code),
    })),
    harmQuantification: r.harm?.scale ?? null,
    reversibility:
      r.harm?.reversibility && r.harm.reversibility !== 'unknown' ? r.harm.reversibility : null,
    countries: r.harm?.geography ?? [],
    affectedStakeholders: null,
    aiPrinciples: null,
    industry: null,
    businessFunction: null,
    deployer: r.system?.deployment ?? null,
    dataAndInput: null,
    aiSystemName: r.system?.model ?? null,
    developer: r.system?.developer ?? null,
    systemVersion: r.system?.version ?? null,
    modelInformation: evaluationsOf(merged),
    aiTask: null,
    autonomy: r.attribution
      ? {
          actor: r.attribution.actor,
          confidence: r.attribution.confidence,
          text: input.text(`attribution.${r.attribution.actor}`),
        }
      : null,
    actionsTaken: (r.actionsTaken ?? []).map((code) => ({ code, text: input.text(code) })),
    actionsRequested: (r.actionsRequested ?? []).map((code) => ({ code, text: input.text(code) })),
    evidencePreserved: r.evidencePreserved ?? null,
    partiesInvolved: [...new Set([view.owner, input.party, ...view.peers])].sort(),
  };
  return {
    framework: 'oecd-ai-incident-reporting' as const,
    frameworkVersion: 'OECD common reporting framework for AI incidents (2025), 29 criteria',
    generatedAt: input.generatedAt,
    source: sourceOf(input),
    criteria,
    empty: empty(criteria),
  };
}

/** Article 3(49) serious-incident categories, from harm codes and the category. */
const ART_3_49: Record<string, string> = {
  'harm.loss-of-life': '3-49-a-death-or-serious-harm-to-health',
  'harm.service-disruption': '3-49-b-critical-infrastructure-disruption',
  'category.critical-infrastructure': '3-49-b-critical-infrastructure-disruption',
  'harm.economic': '3-49-d-serious-harm-to-property-or-environment',
  'harm.system-compromise': '3-49-d-serious-harm-to-property-or-environment',
};

const DAY_MS = 86_400_000;

/** The incident as an EU AI Act Article 73 serious-incident report. */
export function exportEuAiAct73(input: FrameworkInput) {
  const { view } = input;
  const merged = merge(input);
  const r = merged.report;
  const categories = [
    ...new Set(
      [...(r.harm?.types ?? []), ...(r.category ? [r.category] : [])]
        .map((code) => ART_3_49[code])
        .filter((x): x is string => x !== undefined),
    ),
  ].sort();
  // Art. 73(4): death — 10 days; 73(3): widespread infringement or 3(49)(b) — 2 days; else 15.
  const [paragraph, days] = categories.some((k) => k.startsWith('3-49-b'))
    ? (['73(3)', 2] as const)
    : r.harm?.types?.includes('harm.loss-of-life')
      ? (['73(4)', 10] as const)
      : (['73(2)', 15] as const);
  const awareAt = view.reportedAt;
  const closed = view.state === 'resolved' || view.state === 'closed';
  const report = {
    // Art. 73(5): an initial, incomplete report may be followed by a complete one.
    reportType: closed ? ('complete' as const) : ('initial' as const),
    provider: { name: r.system?.developer ?? null, contact: null },
    aiSystem: {
      name: r.system?.model ?? null,
      version: r.system?.version ?? null,
      euDatabaseRegistration: null,
      annexIIIArea: null,
    },
    deployer: { name: r.system?.deployment ?? null },
    incident: {
      description:
        narrative(merged) || (r.category ? input.text(r.category) : 'No free text was sent.'),
      category: coded(input, r.category),
      occurredAt: null,
      awareAt,
      memberStates: r.harm?.geography ?? [],
      seriousIncidentCategories: categories,
      affectedPersons: r.harm?.scale ?? null,
      severity: coded(input, r.harm?.severity),
      reversibility:
        r.harm?.reversibility && r.harm.reversibility !== 'unknown' ? r.harm.reversibility : null,
    },
    deadline: {
      article: paragraph,
      days,
      dueBy: new Date(Date.parse(awareAt) + days * DAY_MS).toISOString(),
    },
    causalLink: r.attribution
      ? { actor: r.attribution.actor, confidence: r.attribution.confidence }
      : null,
    investigation: {
      correctiveActions: (r.actionsTaken ?? []).map((code) => ({ code, text: input.text(code) })),
      requestedOfOtherParty: (r.actionsRequested ?? []).map((code) => ({
        code,
        text: input.text(code),
      })),
      evidencePreserved: r.evidencePreserved ?? null,
      state: view.state,
      evaluations: evaluationsOf(merged),
    },
  };
  return {
    framework: 'eu-ai-act-article-73' as const,
    legalBasis: 'Regulation (EU) 2024/1689, Article 73 and Article 3(49)',
    templateBasis:
      'Commission draft guidance and reporting template for serious AI incidents (2025 consultation)',
    generatedAt: input.generatedAt,
    source: sourceOf(input),
    report,
    empty: EU_AI_ACT_73_CRITERIA.filter((k) => isEmpty(valueAt(report, k.id))).map((k) => k.id),
  };
}

function valueAt(object: unknown, path: string): unknown {
  let at: unknown = object;
  for (const key of path.split('.')) at = (at as Record<string, unknown> | null)?.[key];
  return at;
}

const isEmpty = (v: unknown) =>
  v === null || v === undefined || (Array.isArray(v) && v.length === 0);

export function exportIncident(framework: Framework, input: FrameworkInput) {
  return framework === 'oecd' ? exportOecd(input) : exportEuAiAct73(input);
}
