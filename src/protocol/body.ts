/**
 * The body of a content message (docs/protocol.md § Body). The body travels only inside a seal;
 * the signed header carries its hash.
 */
import { type Static, Type } from '@sinclair/typebox';
import { SignedCard } from './card.ts';
import {
  B64,
  B64Max,
  Code,
  calendarProblem,
  Ext,
  extTooLarge,
  Hex32,
  inputProblem,
  isBlank,
  Label,
  Lang,
  OneOf,
  rangeProblem,
  Slug,
  Text,
  Timestamp,
  Uuid7,
  unseenProblem,
  whenProblem,
} from './common.ts';
import { LIMITS } from './limits.ts';
import {
  BODY_TYPES,
  type BodyType,
  INCIDENT_STATES,
  PRECEDENCES,
  STATUSES,
  TLPS,
  withArticle,
} from './values.ts';

const LangText = Type.Object({ lang: Lang, body: Text }, { additionalProperties: false });
/** Free text with its language: a body's `text` and each of its `translations`. */
export type LangText = Static<typeof LangText>;

/** A desk as the peer sees it; the person's name only when local policy allows. */
const Actor = Type.Object(
  { desk: Slug, person: Type.Optional(Label) },
  { additionalProperties: false },
);

export const Attachment = Type.Object(
  {
    name: Label,
    mediaType: Type.String({ pattern: '^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$', maxLength: 127 }),
    /** SHA-256 of the decoded data. */
    sha256: Hex32,
    data: B64Max(LIMITS.attachmentChars),
  },
  { additionalProperties: false },
);
export type Attachment = Static<typeof Attachment>;

const Report = Type.Object(
  {
    /** Harm occurred (incident), or could plausibly occur (hazard). */
    nature: OneOf(['incident', 'hazard'] as const),
    category: Code,
    system: Type.Optional(
      Type.Object(
        {
          developer: Type.Optional(Label),
          model: Type.Optional(Label),
          version: Type.Optional(Label),
          deployment: Type.Optional(Label),
        },
        { additionalProperties: false },
      ),
    ),
    harm: Type.Optional(
      Type.Object(
        {
          types: Type.Array(Code, { maxItems: LIMITS.codes }),
          severity: Code,
          scale: Type.Optional(Label),
          geography: Type.Optional(Type.Array(Label, { maxItems: 32 })),
          reversibility: OneOf(['reversible', 'partial', 'irreversible', 'unknown'] as const),
        },
        { additionalProperties: false },
      ),
    ),
    attribution: Type.Optional(
      Type.Object(
        {
          actor: OneOf(['state', 'non-state', 'autonomous-ai-system', 'unknown'] as const),
          confidence: OneOf(['low', 'moderate', 'high'] as const),
        },
        { additionalProperties: false },
      ),
    ),
    actionsTaken: Type.Array(Code, { maxItems: LIMITS.codes }),
    actionsRequested: Type.Array(Code, { maxItems: LIMITS.codes }),
    evidencePreserved: Type.Optional(Type.Boolean()),
    respondBy: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

const StateChange = Type.Object(
  {
    to: OneOf(INCIDENT_STATES),
    /** The id of the state message this one follows; null for the first change. */
    previous: Type.Union([Uuid7, Type.Null()]),
    /** True when the non-owning side asks the owner for this change. */
    request: Type.Boolean(),
    /** The owner's answer to a request (the request is `inReplyTo`). */
    decision: Type.Optional(OneOf(['accepted', 'declined'] as const)),
  },
  { additionalProperties: false },
);

const Conference = Type.Object(
  {
    action: OneOf(['request', 'accept', 'decline', 'propose'] as const),
    at: Type.Optional(Timestamp),
    minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    medium: Type.Optional(Label),
  },
  { additionalProperties: false },
);

const Presence = Type.Object(
  {
    /** The desk asked for, e.g. `principal`. */
    desk: Slug,
    /** Absent in the check; a person's answer in the reply. */
    answer: Type.Optional(OneOf(['present', 'unavailable'] as const)),
  },
  { additionalProperties: false },
);

const Notice = Type.Object(
  {
    subject: Code,
    from: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

/** Rotation statement: the party's newly signed card, authorized by the header's signer. */
const Rotation = Type.Object(
  {
    reason: OneOf(['routine', 'compromise'] as const),
    card: SignedCard,
  },
  { additionalProperties: false },
);

export const Body = Type.Object(
  {
    /** 128 random bits, so a guessable body cannot be confirmed from its hash. */
    salt: B64(16),
    type: OneOf(BODY_TYPES),
    incident: Type.Optional(Uuid7),
    precedence: OneOf(PRECEDENCES),
    status: OneOf(STATUSES),
    tlp: OneOf(TLPS),
    codes: Type.Array(Code, { maxItems: LIMITS.codes }),
    /** The author's own words; authoritative. */
    text: Type.Optional(LangText),
    /** The sender's own translations of `text`. */
    translations: Type.Array(LangText, { maxItems: LIMITS.translations }),
    attachments: Type.Array(Attachment, { maxItems: LIMITS.attachments }),
    author: Actor,
    approvals: Type.Array(
      Type.Object(
        {
          desk: Slug,
          person: Type.Optional(Label),
          at: Timestamp,
          breakGlass: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      { maxItems: LIMITS.approvals },
    ),
    inReplyTo: Type.Optional(Uuid7),
    report: Type.Optional(Report),
    state: Type.Optional(StateChange),
    conference: Type.Optional(Conference),
    presence: Type.Optional(Presence),
    notice: Type.Optional(Notice),
    rotation: Type.Optional(Rotation),
    ext: Type.Optional(Ext),
  },
  { additionalProperties: false },
);
export type Body = Static<typeof Body>;

/** A body before the node adds its salt: what an operator asks to send. */
export type Draft = Omit<Body, 'salt'>;

type Section = 'report' | 'state' | 'conference' | 'presence' | 'notice' | 'rotation';
const SECTIONS: readonly Section[] = [
  'report',
  'state',
  'conference',
  'presence',
  'notice',
  'rotation',
];

interface TypeRule {
  section?: Section;
  needsIncident?: boolean;
  needsReplyTo?: boolean;
}

/** What each type must carry. A section belonging to another type is an error. */
const TYPE_RULES: Record<BodyType, TypeRule> = {
  'incident.report': { section: 'report', needsIncident: true },
  'incident.update': { section: 'report', needsIncident: true },
  'incident.close': { needsIncident: true },
  'incident.retract': { needsIncident: true, needsReplyTo: true },
  query: {},
  reply: { needsReplyTo: true },
  ack: { needsReplyTo: true },
  reminder: { needsReplyTo: true },
  notice: { section: 'notice' },
  presence: { section: 'presence' },
  conference: { section: 'conference' },
  state: { section: 'state', needsIncident: true },
  test: {},
  rotation: { section: 'rotation' },
};

/**
 * The rules a schema cannot say: which section each type carries, and the references it needs.
 * Returns a sentence describing the first broken rule, or undefined.
 */
export function bodyRuleViolation(body: Body): string | undefined {
  const rule = TYPE_RULES[body.type];
  const kind = `${/^[aeiou]/.test(body.type) ? 'an' : 'a'} ${body.type} body`;
  for (const section of SECTIONS) {
    const present = body[section] !== undefined;
    if (section === rule.section && !present) return `${kind} needs "${section}"`;
    if (section !== rule.section && present) return `${kind} cannot carry "${section}"`;
  }
  if (rule.needsIncident && body.incident === undefined) return `${kind} needs "incident"`;
  if (rule.needsReplyTo && body.inReplyTo === undefined) return `${kind} needs "inReplyTo"`;
  if (
    body.conference &&
    body.conference.action !== 'accept' &&
    body.conference.action !== 'decline'
  )
    if (body.conference.at === undefined)
      return `a conference ${body.conference.action} needs "at"`;
  if (extTooLarge(body.ext)) return `"ext" is larger than ${LIMITS.extBytes} bytes`;
  if (body.state?.decision !== undefined && body.inReplyTo === undefined)
    return 'a state decision needs "inReplyTo" naming the request';
  return undefined;
}

/** Types whose only content is what they say: sent empty, the peer would escalate a blank. */
const SAYING_TYPES: ReadonlySet<BodyType> = new Set(['query', 'reply', 'test']);

/**
 * Why a draft says nothing, or undefined: a blank text or translation, or a query, reply or test
 * with no text, code, attachment or citation. The sender's own check at release; a received
 * message is shown as it came.
 */
export function emptyProblem(body: Body): string | undefined {
  if (body.text && isBlank(body.text.body)) return `its text (${body.text.lang}) is blank`;
  const blank = body.translations.find((t) => isBlank(t.body));
  if (blank) return `its translation (${blank.lang}) is blank`;
  const cites = body.ext?.cites;
  if (
    SAYING_TYPES.has(body.type) &&
    !body.text &&
    !body.codes.length &&
    !body.attachments.length &&
    !(Array.isArray(cites) && cites.length)
  )
    return `${withArticle(body.type)} needs text, a vocabulary code or an attachment`;
  return undefined;
}

/** Language tags are not case sensitive (BCP 47 §2.1.1): `EN` is `en`. */
const sameLanguage = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Why a translation into `lang` of text in `source` translates nothing, or undefined. The same
 * sentence for a sender's own translation and a reader's local one (src/node/language).
 */
export function ownLanguageProblem(source: string, lang: string): string | undefined {
  if (!sameLanguage(source, lang)) return undefined;
  return `the text is in "${source}" already: a translation goes into another language`;
}

/**
 * Why a draft's translations or codes would be shown twice or translate nothing, or undefined: a
 * translation in the text's own language, two in one language, a code given twice. The sender's
 * own check at release, as for `emptyProblem`; a received body is shown as it came.
 */
export function repeatedProblem(body: Body): string | undefined {
  for (const [i, t] of body.translations.entries()) {
    const own = body.text && ownLanguageProblem(body.text.lang, t.lang);
    if (own) return `translations/${i}: ${own}`;
    const first = body.translations.findIndex((u) => sameLanguage(u.lang, t.lang));
    if (first < i)
      return `translations/${first} and ${i} are both in "${t.lang}": give one per language`;
  }
  const twice = body.codes.find((code, i) => body.codes.indexOf(code) !== i);
  if (twice !== undefined) return `codes has "${twice}" twice: give each code once`;
  return undefined;
}

/**
 * Why a draft's fields say something no sender should release, or undefined: a time that names
 * no real instant (30 February, 25:61), a notice whose `until` is before its `from`, a conference
 * time already past by `now` (the peer could only decline it), a blank conference medium, a
 * control character in a text, or a name (a `Label`) that is blank or holds a control character
 * or a bidi override, embedding or isolate (`inputProblem`). The sender's own check at release, as for
 * `emptyProblem`; a received body is taken as it came (docs/protocol.md is the contract).
 */
export function writtenProblem(body: Body, now: Date): string | undefined {
  const times: Array<[string, string | undefined]> = [
    ['report.respondBy', body.report?.respondBy],
    ['conference.at', body.conference?.at],
    ['notice.from', body.notice?.from],
    ['notice.until', body.notice?.until],
    ...body.approvals.map((a, i): [string, string] => [`approvals/${i}/at`, a.at]),
  ];
  for (const [path, value] of times) {
    const problem = value === undefined ? undefined : calendarProblem(value);
    if (problem) return `${path}: ${problem}`;
  }
  const { from, until } = body.notice ?? {};
  const range =
    from && until
      ? rangeProblem(
          { name: 'notice.from', given: from, at: from },
          { name: 'notice.until', given: until, at: until },
        )
      : undefined;
  if (range) return range;
  const at = body.conference?.at;
  const past = at === undefined ? undefined : pastProblem(at, now);
  if (past) return `conference.at: ${past}`;
  if (body.conference?.medium !== undefined && isBlank(body.conference.medium))
    return 'conference.medium is blank: name the medium (e.g. video, telephone) or leave it out';
  const texts: Array<[string, string | undefined]> = [
    ['text', body.text?.body],
    ...body.translations.map((t, i): [string, string] => [`translations/${i}`, t.body]),
  ];
  for (const [path, value] of texts) {
    // A blank text is E_EMPTY_MESSAGE (emptyProblem), said as such.
    const problem =
      value === undefined || isBlank(value) ? undefined : unseenProblem(value, 'text');
    if (problem) return `${path} ${problem}`;
  }
  for (const [path, value] of labelsOf(body)) {
    const problem = inputProblem(value, 'name');
    if (problem) return `${path} ${problem}`;
  }
  return undefined;
}

/**
 * The short names a sender writes into a body (a `Label` on the wire: the system's developer and
 * model, the harm's scale and places, a conference's medium, the author's name), by their paths:
 * each is one line shown in lists, so it is checked as a name.
 */
function labelsOf(body: Body): Array<[string, string]> {
  const { system, harm } = body.report ?? {};
  const labels: Array<[string, string | undefined]> = [
    ['report.system.developer', system?.developer],
    ['report.system.model', system?.model],
    ['report.system.version', system?.version],
    ['report.system.deployment', system?.deployment],
    ['report.harm.scale', harm?.scale],
    ...(harm?.geography ?? []).map((g, i): [string, string] => [`report.harm.geography/${i}`, g]),
    ['conference.medium', body.conference?.medium],
    ['author.person', body.author.person],
  ];
  return labels.filter((l): l is [string, string] => l[1] !== undefined);
}

/** Why a conference time cannot be proposed at `now` (it is past), or undefined. */
export function pastProblem(at: string, now: Date): string | undefined {
  return whenProblem({ given: at, at }, now, 'future', 'propose a time to come');
}
