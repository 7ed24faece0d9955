/**
 * Notification regimes (docs/regimes.md): the agreed confidence-building notifications — what
 * each one carries, when it is due and who owes it — as data (`vocabulary/regimes.json`), like
 * the vocabulary: versioned, bilingual, hashed, and pinned in each party's card (`ext.regimes`),
 * so each side knows whether the other counts compliance by the same rules.
 *
 * Each type's fields are described in the file (name, kind, required, bilingual label) and built
 * here into a TypeBox schema, which checks the fields of a notification before it is released and
 * again when one is shown. Pure apart from `loadRegimes`.
 */
import { fileURLToPath } from 'node:url';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Code, calendarProblem, Hex32, Label, Lang, Slug, Version, whenProblem } from './common.ts';
import { DocumentError, documentLoader, documentSchemaProblems } from './document-file.ts';
import { sha256, toHex, utf8 } from './encoding.ts';
import { jcs } from './jcs.ts';
import { schemaError, schemaFault } from './validate.ts';

/** The regimes this node ships with. */
export const DEFAULT_REGIMES_FILE = fileURLToPath(
  new URL('../../vocabulary/regimes.json', import.meta.url),
);

/** The card's `ext` member pinning the regimes a party counts compliance by. */
export const REGIMES_EXT = 'regimes';

const LangMap = Type.Record(Lang, Type.String({ minLength: 1, maxLength: 2000 }));
const Day = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'a date (YYYY-MM-DD, e.g. 2027-03-01)',
});

export const FIELD_KINDS = [
  'text',
  'date',
  'number',
  'integer',
  'year',
  'boolean',
  'choice',
] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

const Field = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z][a-zA-Z0-9]{0,31}$',
      description: 'a field name (a lowercase letter, then up to 31 letters and digits)',
    }),
    type: Type.Union(FIELD_KINDS.map((k) => Type.Literal(k))),
    required: Type.Boolean(),
    label: LangMap,
    /** For `choice`: the allowed values. */
    values: Type.Optional(Type.Array(Slug, { minItems: 1, maxItems: 64 })),
    /** For numbers: bounds. */
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    /**
     * For numbers: another number field of the same notice this one may not be below (a run's
     * compute, at least the agreed threshold the notice states).
     */
    atLeast: Type.Optional(Type.String({ pattern: '^[a-z][a-zA-Z0-9]{0,31}$' })),
  },
  { additionalProperties: false },
);
export type RegimeField = Static<typeof Field>;

/**
 * When a notification is due:
 * - `before`: at least `days` before the date in `field` (a planned training run);
 * - `after`: within `days` after the date in `field` (an evaluation completed);
 * - `event`: within `hours` of an `on` message of the party owing it (a reported incident),
 *   when its severity is one of `severities` (any severity when absent);
 * - `annual`: for each year from the regimes' `effective` year, by `month`/`day` of the next.
 */
const Timing = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('before'),
      field: Type.String(),
      days: Type.Integer({ minimum: 0, maximum: 3650 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('after'),
      field: Type.String(),
      days: Type.Integer({ minimum: 0, maximum: 3650 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('event'),
      on: Type.Literal('incident.report'),
      severities: Type.Optional(Type.Array(Code, { minItems: 1, maxItems: 16 })),
      hours: Type.Number({ exclusiveMinimum: 0, maximum: 8760 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('annual'),
      month: Type.Integer({ minimum: 1, maximum: 12 }),
      day: Type.Integer({ minimum: 1, maximum: 31 }),
    },
    { additionalProperties: false },
  ),
]);
export type RegimeTiming = Static<typeof Timing>;

const NotificationType = Type.Object(
  {
    /** The notice's `subject`. */
    code: Code,
    name: LangMap,
    description: LangMap,
    /** `each`: every party owes it to every other; `reporter`: the party whose report started it. */
    owedBy: Type.Union([Type.Literal('each'), Type.Literal('reporter')]),
    timing: Timing,
    /** The owing desk is reminded this long before the due time. */
    remindHours: Type.Number({ minimum: 0, maximum: 8760 }),
    /** The desk that owes it on each side. */
    desk: Slug,
    fields: Type.Array(Field, { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false },
);
export type NotificationType = Static<typeof NotificationType>;

export const RegimesDocument = Type.Object(
  {
    format: Type.Literal(1),
    name: LangMap,
    version: Version,
    /** The first day obligations count from (annual ones: its year is the first covered). */
    effective: Day,
    languages: Type.Record(Lang, Type.Object({ name: Label }, { additionalProperties: false })),
    types: Type.Array(NotificationType, { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export type RegimesDocument = Static<typeof RegimesDocument>;

/** What a card pins: `ext.regimes`. */
export const RegimesRef = Type.Object(
  { version: Version, hash: Hex32 },
  { additionalProperties: false },
);
export type RegimesRef = Static<typeof RegimesRef>;

export class RegimesError extends DocumentError {
  override name = 'RegimesError';
}

/** A validated regimes document, with each type's fields built into a schema. */
export class Regimes {
  readonly document: RegimesDocument;
  readonly version: string;
  /** SHA-256 of JCS(document), hex: what the card pins. */
  readonly hash: string;
  readonly languages: readonly string[];
  readonly #types = new Map<string, NotificationType>();
  readonly #schemas = new Map<string, TSchema>();

  constructor(document: RegimesDocument) {
    this.document = document;
    this.version = document.version;
    this.hash = toHex(sha256(utf8(jcs(document))));
    this.languages = Object.keys(document.languages);
    for (const type of document.types) {
      this.#types.set(type.code, type);
      this.#schemas.set(type.code, fieldsSchema(type.fields));
    }
  }

  get ref(): RegimesRef {
    return { version: this.version, hash: this.hash };
  }

  get types(): readonly NotificationType[] {
    return this.document.types;
  }

  type(code: string): NotificationType | undefined {
    return this.#types.get(code);
  }

  /** The TypeBox schema of a type's fields. */
  schema(code: string): TSchema | undefined {
    return this.#schemas.get(code);
  }

  /**
   * The first problem of `fields` for the type `code`, as a sentence; undefined when valid.
   * `where` names the fields in the document the user wrote, as the start of a path.
   */
  fieldsProblem(
    code: string,
    fields: unknown,
    where = 'the notification attachment/fields',
  ): string | undefined {
    const schema = this.#schemas.get(code);
    if (!schema) return `"${code}" is not a notification type of regimes ${this.version}`;
    const fault = schemaFault(schema, fields, code);
    if (fault) return `${where}${fault.path} ${fault.problem}`;
    const type = this.#types.get(code) as NotificationType;
    const values = fields as Record<string, unknown>;
    for (const field of type.fields) {
      const value = values[field.name];
      if (field.type === 'date' && typeof value === 'string' && !realDay(value))
        return `${where}/${field.name} is not a calendar date (${value})`;
      const { atLeast } = field;
      const floor = atLeast === undefined ? undefined : values[atLeast];
      if (atLeast && typeof value === 'number' && typeof floor === 'number' && value < floor)
        return `${where}/${field.name} is ${value}, below ${atLeast} (${this.#label(type, atLeast)}), ${floor}: a ${code} notice is for a ${field.name} at or above it; check both figures`;
    }
    return undefined;
  }

  /**
   * The sender's check of `fields` at `now`, beside `fieldsProblem`: a type due `before` a date
   * (a planned start) announces what is still to come, so that date may not be past (today, in
   * UTC, is taken). A notice received is shown as it came, whenever it is read.
   */
  plannedProblem(
    code: string,
    fields: Record<string, unknown>,
    now: Date,
    where = 'the notification attachment/fields',
  ): string | undefined {
    const timing = this.#types.get(code)?.timing;
    if (timing?.kind !== 'before') return undefined;
    const day = fields[timing.field];
    if (typeof day !== 'string' || !realDay(day)) return undefined;
    return whenProblem(
      { name: `${where}/${timing.field}`, given: day, at: `${day}T23:59:59.999Z` },
      now,
      'future',
      `a ${code} notice announces what is planned, notified ${timing.days} days before ${timing.field}; give the day to come`,
    );
  }

  /** A field's label in the first language, or its name. */
  #label(type: NotificationType, name: string): string {
    const field = type.fields.find((f) => f.name === name);
    return field?.label[this.languages[0] as string] ?? name;
  }

  /** A type's name in `lang` (the first language when `lang` has none). */
  name(code: string, lang: string): string {
    const type = this.#types.get(code);
    if (!type) return code;
    return type.name[lang] ?? type.name[this.languages[0] as string] ?? code;
  }
}

/** `YYYY-MM-DD` that names a real day. */
function realDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && calendarProblem(value) === undefined;
}

/** Builds the TypeBox schema of a type's fields. */
export function fieldsSchema(fields: readonly RegimeField[]): TSchema {
  const properties: Record<string, TSchema> = {};
  for (const f of fields) {
    const bounds = {
      ...(f.min === undefined ? {} : { minimum: f.min }),
      ...(f.max === undefined ? {} : { maximum: f.max }),
    };
    const schema: TSchema =
      f.type === 'text'
        ? Type.String({ minLength: 1, maxLength: 4000 })
        : f.type === 'date'
          ? Day
          : f.type === 'number'
            ? Type.Number(bounds)
            : f.type === 'integer'
              ? Type.Integer(bounds)
              : f.type === 'year'
                ? Type.Integer({ minimum: 1970, maximum: 9999 })
                : f.type === 'boolean'
                  ? Type.Boolean()
                  : Type.Union((f.values ?? []).map((v) => Type.Literal(v)));
    properties[f.name] = f.required ? schema : Type.Optional(schema);
  }
  return Type.Object(properties, { additionalProperties: false });
}

/** Every problem of a regimes document, each as a sentence; empty when it is valid. */
export function regimesProblems(raw: unknown): string[] {
  const schema = documentSchemaProblems(RegimesDocument, raw, 'regimes file');
  if (schema.length) return schema;
  const doc = raw as RegimesDocument;
  const problems: string[] = [];
  const langs = Object.keys(doc.languages);
  if (!langs.length) problems.push('no languages are declared');
  if (!realDay(doc.effective)) problems.push(`effective ${doc.effective} is not a calendar date`);
  const needAll = (what: string, map: Record<string, string>) => {
    for (const lang of langs)
      if (!map[lang]?.trim()) problems.push(`${what} has no "${lang}" text`);
    for (const lang of Object.keys(map))
      if (!langs.includes(lang)) problems.push(`${what} has text in undeclared language "${lang}"`);
  };
  needAll('name', doc.name);
  const codes = new Set<string>();
  for (const type of doc.types) {
    const at = `type "${type.code}"`;
    if (codes.has(type.code)) problems.push(`${at} appears twice`);
    codes.add(type.code);
    needAll(`${at} name`, type.name);
    needAll(`${at} description`, type.description);
    const names = new Map<string, RegimeField>();
    for (const field of type.fields) {
      if (names.has(field.name)) problems.push(`${at} field "${field.name}" appears twice`);
      names.set(field.name, field);
      needAll(`${at} field "${field.name}" label`, field.label);
      if (field.type === 'choice' && !field.values?.length)
        problems.push(`${at} field "${field.name}" is a choice without values`);
      if (field.type !== 'choice' && field.values)
        problems.push(`${at} field "${field.name}" has values but is not a choice`);
    }
    for (const field of type.fields) {
      if (field.atLeast === undefined) continue;
      const floor = names.get(field.atLeast);
      const numeric = (f: RegimeField | undefined) => f?.type === 'number' || f?.type === 'integer';
      if (!numeric(field) || !numeric(floor) || field.atLeast === field.name)
        problems.push(
          `${at} field "${field.name}" is at least "${field.atLeast}": both must be number or integer fields of the type, and not the same`,
        );
    }
    const timing = type.timing;
    if (timing.kind === 'before' || timing.kind === 'after') {
      const field = names.get(timing.field);
      if (field?.type !== 'date' || !field.required)
        problems.push(`${at} is timed by "${timing.field}", which must be a required date field`);
    }
    if (timing.kind === 'annual') {
      // Each year must have the day: 29 February would be missing three years in four.
      if (timing.day > ([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][timing.month - 1] ?? 0))
        problems.push(`${at} falls due on ${timing.month}/${timing.day}, a day some years lack`);
      const year = names.get('year');
      if (year?.type !== 'year' || !year.required)
        problems.push(`${at} is annual and needs a required "year" field`);
    }
    if (type.owedBy === 'reporter' && timing.kind !== 'event')
      problems.push(`${at} is owed by the reporter, so it must be timed by an event`);
  }
  return problems;
}

/** Validates a parsed document; throws RegimesError listing every problem. */
export function parseRegimes(raw: unknown, where = 'regimes'): Regimes {
  const problems = regimesProblems(raw);
  if (problems.length) throw new RegimesError(where, problems);
  return new Regimes(raw as RegimesDocument);
}

const readRegimes = documentLoader(
  parseRegimes,
  (file, problem) => new RegimesError(file, [problem]),
);

/** Reads, validates and indexes a regimes file (the shipped one by default); cached per path. */
export function loadRegimes(file: string = DEFAULT_REGIMES_FILE): Regimes {
  return readRegimes(file);
}

/** The regimes a card pins in `ext.regimes`, when it pins valid ones. */
export function pinnedRegimes(ext: Record<string, unknown> | undefined): RegimesRef | undefined {
  const value = ext?.[REGIMES_EXT];
  return value !== undefined && schemaError(RegimesRef, value) === undefined
    ? (value as RegimesRef)
    : undefined;
}

export interface RegimesComparison {
  ours: RegimesRef;
  /** Absent when the peer's card pins no regimes (a node older than regimes). */
  theirs?: RegimesRef;
  same: boolean;
  warning?: string;
}

/** Our regimes against what a card pins: a difference is a warning, never a refusal. */
export function compareRegimes(
  regimes: Regimes,
  party: string,
  ext: Record<string, unknown> | undefined,
): RegimesComparison {
  const ours = regimes.ref;
  const theirs = pinnedRegimes(ext);
  if (!theirs)
    return {
      ours,
      same: false,
      warning: `"${party}" pins no notification regimes in its card: its compliance may be counted by other rules than ours (${ours.version})`,
    };
  if (theirs.version === ours.version && theirs.hash === ours.hash)
    return { ours, theirs, same: true };
  const label = (r: RegimesRef) => `${r.version} (${r.hash.slice(0, 12)}…)`;
  return {
    ours,
    theirs,
    same: false,
    warning: `"${party}" counts compliance by notification regimes ${label(theirs)}; we use ${label(ours)}: due dates may differ`,
  };
}
