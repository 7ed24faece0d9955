/**
 * STIX 2.1 bundles as attachments (OASIS STIX Version 2.1, https://docs.oasis-open.org/cti/stix/v2.1/).
 * Checked for structure — §8 bundle, §3.2 common properties (`type`, `id`, `spec_version`,
 * `created`, `modified`), the properties each common object type requires, and that every
 * `*_ref` / `*_refs` names an object in the bundle — for real timestamps in their order
 * (`modified` not before `created`, an end not before its start), and for indicators' STIX
 * patterns (stix-pattern.ts); then summarized for display with the most restrictive TLP marking
 * it carries, TLP 1.0 or TLP 2.0. Vocabularies are not checked: the receiving analysts' tools do.
 */
import { type PatternResult, parseStixPattern } from './stix-pattern.ts';
import { compareTimestamps, timestampProblem } from './stix-time.ts';
import { TLPS, type Tlp } from './values.ts';

export const STIX_MEDIA_TYPE = 'application/stix+json';

/** §3.3 identifier: `type--UUID`. */
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const IDENTIFIER = new RegExp(`^([a-z0-9-]{3,250})--${UUID}$`);
/** §3.1 type names: lowercase ASCII letters, digits and hyphens, 3–250 characters. */
const TYPE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** §6 STIX Cyber-observable Objects: `spec_version`, `created` and `modified` are not required. */
const SCO_TYPES = new Set([
  'artifact',
  'autonomous-system',
  'directory',
  'domain-name',
  'email-addr',
  'email-message',
  'file',
  'ipv4-addr',
  'ipv6-addr',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'url',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
]);

/** Objects whose `modified` is not required (§7.2 marking definitions; §7.3 extension definitions have it). */
const NO_MODIFIED = new Set(['marking-definition']);

/** Required properties beyond the common ones (§4 SDOs, §5 SROs, §7 meta objects). */
const REQUIRED: Record<string, readonly string[]> = {
  'attack-pattern': ['name'],
  campaign: ['name'],
  'course-of-action': ['name'],
  grouping: ['context', 'object_refs'],
  identity: ['name'],
  incident: ['name'],
  indicator: ['pattern', 'pattern_type', 'valid_from'],
  infrastructure: ['name'],
  'intrusion-set': ['name'],
  malware: ['is_family'],
  'malware-analysis': ['product'],
  note: ['content', 'object_refs'],
  'observed-data': ['first_observed', 'last_observed', 'number_observed'],
  opinion: ['opinion', 'object_refs'],
  report: ['name', 'published', 'object_refs'],
  'threat-actor': ['name'],
  tool: ['name'],
  vulnerability: ['name'],
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'marking-definition': [],
  'language-content': ['object_ref', 'contents'],
  'extension-definition': ['name', 'schema', 'version', 'extension_types'],
  'domain-name': ['value'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  url: ['value'],
  'email-addr': ['value'],
  'mac-addr': ['value'],
};

/** The property extension OASIS defines for TLP 2.0 marking definitions. */
export const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/**
 * The TLP marking definitions a producer may reference without including them: TLP 1.0 as
 * STIX 2.1 §7.2.1.4 lists them (`definition_type: "tlp"`), and TLP 2.0 as OASIS publishes them
 * in oasis-open/cti-stix-common-objects, extension-definition-specifications/tlp-2.0
 * (marking-definition.json and examples/; `name` and the `tlp_2_0` value of extension
 * `extension-definition--60a3c5c5-…`, created 2022-10-01T00:00:00.000Z). TLP 1.0 WHITE is
 * TLP 2.0 CLEAR.
 */
export const TLP_MARKINGS: Readonly<
  Record<string, { tlp: Tlp; version: '1.0' | '2.0'; name: string; value: string }>
> = {
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': {
    tlp: 'clear',
    version: '1.0',
    name: 'TLP:WHITE',
    value: 'white',
  },
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': {
    tlp: 'green',
    version: '1.0',
    name: 'TLP:GREEN',
    value: 'green',
  },
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': {
    tlp: 'amber',
    version: '1.0',
    name: 'TLP:AMBER',
    value: 'amber',
  },
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': {
    tlp: 'red',
    version: '1.0',
    name: 'TLP:RED',
    value: 'red',
  },
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487': {
    tlp: 'clear',
    version: '2.0',
    name: 'TLP:CLEAR',
    value: 'clear',
  },
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb': {
    tlp: 'green',
    version: '2.0',
    name: 'TLP:GREEN',
    value: 'green',
  },
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421': {
    tlp: 'amber',
    version: '2.0',
    name: 'TLP:AMBER',
    value: 'amber',
  },
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003': {
    tlp: 'amber+strict',
    version: '2.0',
    name: 'TLP:AMBER+STRICT',
    value: 'amber+strict',
  },
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1': {
    tlp: 'red',
    version: '2.0',
    name: 'TLP:RED',
    value: 'red',
  },
};

/** Timestamp properties of STIX 2.1 objects, checked wherever they appear. */
const TIMESTAMPS = [
  'created',
  'modified',
  'valid_from',
  'valid_until',
  'first_seen',
  'last_seen',
  'first_observed',
  'last_observed',
  'published',
] as const;

/** Pairs that the specification orders (§3.2, §4.7, §4.13, §5.2, …): the second not before the first. */
const ORDERED: ReadonlyArray<readonly [string, string, 'later' | 'not-earlier']> = [
  ['created', 'modified', 'not-earlier'],
  ['valid_from', 'valid_until', 'later'],
  ['first_seen', 'last_seen', 'not-earlier'],
  ['first_observed', 'last_observed', 'not-earlier'],
];

/** Problems reported at most: a hostile bundle cannot make a huge report. */
const MAX_PROBLEMS = 50;
/** Objects listed in a summary. */
const MAX_LISTED = 20;

export interface StixProblem {
  /** JSON path, e.g. `objects[2].pattern`. */
  path: string;
  message: string;
}

export interface StixSummary {
  id: string;
  objects: number;
  /** Objects per type, most frequent first. */
  types: Record<string, number>;
  /** The first objects, with what identifies each for a reader. */
  listed: Array<{ type: string; id: string; label?: string }>;
  /** The most restrictive TLP marking any object carries (TLP 1.0 WHITE as `clear`). */
  tlp?: Tlp;
}

export type StixResult =
  | { ok: true; summary: StixSummary }
  | { ok: false; problems: StixProblem[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed JSON value as a STIX 2.1 bundle. */
export function checkStixBundle(bundle: unknown): StixResult {
  const problems: StixProblem[] = [];
  const add = (path: string, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message });
  };
  if (!isObject(bundle))
    return { ok: false, problems: [{ path: '', message: 'is not a JSON object' }] };
  if (bundle.type !== 'bundle') add('type', `must be "bundle", not ${show(bundle.type)}`);
  if (
    typeof bundle.id !== 'string' ||
    !IDENTIFIER.test(bundle.id) ||
    !bundle.id.startsWith('bundle--')
  )
    add('id', `must be "bundle--" followed by a UUID, not ${show(bundle.id)}`);
  if ('spec_version' in bundle)
    add(
      'spec_version',
      `a STIX 2.1 bundle has no spec_version (${show(bundle.spec_version)} suggests STIX 2.0)`,
    );
  if (!Array.isArray(bundle.objects) || bundle.objects.length === 0) {
    add('objects', 'must be a non-empty array of STIX objects');
    return { ok: false, problems };
  }
  const objects = bundle.objects as unknown[];
  const ids = new Set<string>();
  for (const o of objects) if (isObject(o) && typeof o.id === 'string') ids.add(o.id);
  for (const [i, o] of objects.entries()) checkObject(o, `objects[${i}]`, ids, add);
  if (problems.length) return { ok: false, problems };
  return { ok: true, summary: summarize(bundle.id as string, objects as Json[]) };
}

function checkObject(
  o: unknown,
  path: string,
  ids: ReadonlySet<string>,
  add: (path: string, message: string) => void,
): void {
  if (!isObject(o)) {
    add(path, 'is not a JSON object');
    return;
  }
  const type = o.type;
  if (typeof type !== 'string' || type.length < 3 || type.length > 250 || !TYPE_NAME.test(type)) {
    add(`${path}.type`, `must be a STIX type name, not ${show(type)}`);
    return;
  }
  const at = `${path} (${type})`;
  if (type === 'marking-definition') checkTlpMarking(o, path, add);
  if (typeof o.id !== 'string' || !IDENTIFIER.test(o.id) || !o.id.startsWith(`${type}--`))
    add(`${path}.id`, `must be "${type}--" followed by a UUID, not ${show(o.id)}`);
  const sco = SCO_TYPES.has(type);
  if (!sco || 'spec_version' in o)
    if (o.spec_version !== '2.1')
      add(`${path}.spec_version`, `must be "2.1" for a ${type}, not ${show(o.spec_version)}`);
  if (!sco) {
    if (o.created === undefined) add(`${path}.created`, `${at} needs a UTC timestamp "created"`);
    if (!NO_MODIFIED.has(type) && o.modified === undefined)
      add(`${path}.modified`, `${at} needs a UTC timestamp "modified"`);
  }
  const valid = new Set<string>();
  for (const property of TIMESTAMPS) {
    if (o[property] === undefined) continue;
    const problem = timestampProblem(o[property]);
    if (problem) add(`${path}.${property}`, `${show(o[property])} ${problem}`);
    else valid.add(property);
  }
  for (const [first, second, rule] of ORDERED) {
    if (!valid.has(first) || !valid.has(second)) continue;
    const order = compareTimestamps(o[second] as string, o[first] as string);
    if (order < 0 || (rule === 'later' && order === 0))
      add(
        `${path}.${second}`,
        `${at} has ${second} ${o[second] as string} ${rule === 'later' ? 'not later than' : 'before'} ${first} ${o[first] as string}`,
      );
  }
  for (const property of REQUIRED[type] ?? [])
    if (o[property] === undefined || o[property] === null || o[property] === '')
      add(`${path}.${property}`, `${at} requires "${property}"`);
  if (type === 'malware' && o.is_family === true && typeof o.name !== 'string')
    add(`${path}.name`, `${at} is a family, so it requires "name"`);
  if (type === 'indicator' && o.pattern_type === 'stix' && o.pattern) {
    const result: PatternResult =
      typeof o.pattern === 'string' || o.pattern === undefined
        ? parseStixPattern(o.pattern ?? '')
        : { ok: false, column: 1, message: 'is not a string' };
    if (!result.ok)
      add(
        `${path}.pattern`,
        `is not a STIX 2.1 pattern: at column ${result.column}, ${result.message}`,
      );
  }
  checkRefs(o, path, ids, add);
}

/**
 * A marking definition that takes a TLP marking's id must be that marking as published: a
 * TLP:RED id that says `clear` inside is a contradiction, not a marking.
 */
function checkTlpMarking(
  o: Json,
  path: string,
  add: (path: string, message: string) => void,
): void {
  const known = typeof o.id === 'string' ? TLP_MARKINGS[o.id] : undefined;
  if (!known) return;
  const stated = statedTlp(o);
  if (stated !== known.value || (o.name !== undefined && o.name !== known.name))
    add(
      path,
      `takes the id of ${known.name} (TLP ${known.version}) but says ${show(stated ?? o.name)}: use the definition as published`,
    );
}

/** The TLP value a marking definition states: TLP 1.0 `definition.tlp`, TLP 2.0 its extension. */
function statedTlp(o: Json): string | undefined {
  const definition = isObject(o.definition) ? o.definition : undefined;
  if (o.definition_type === 'tlp' && typeof definition?.tlp === 'string') return definition.tlp;
  const extensions = isObject(o.extensions) ? o.extensions : undefined;
  const tlp2 =
    extensions && isObject(extensions[TLP2_EXTENSION]) ? extensions[TLP2_EXTENSION] : undefined;
  return typeof tlp2?.tlp_2_0 === 'string' ? tlp2.tlp_2_0 : undefined;
}

const TLP_OF_VALUE: Record<string, Tlp> = {
  white: 'clear',
  clear: 'clear',
  green: 'green',
  amber: 'amber',
  'amber+strict': 'amber+strict',
  red: 'red',
};

/**
 * The most restrictive TLP marking the objects of a bundle reference (object markings and
 * granular markings), by the published ids or by a TLP marking definition in the bundle.
 */
export function bundleTlp(objects: readonly Json[]): Tlp | undefined {
  const local = new Map<string, Tlp>();
  for (const o of objects) {
    if (o.type !== 'marking-definition' || typeof o.id !== 'string') continue;
    const stated = statedTlp(o);
    const tlp = stated ? TLP_OF_VALUE[stated] : undefined;
    if (tlp) local.set(o.id, tlp);
  }
  const found = new Set<Tlp>();
  const note = (ref: unknown) => {
    if (typeof ref !== 'string') return;
    const tlp = TLP_MARKINGS[ref]?.tlp ?? local.get(ref);
    if (tlp) found.add(tlp);
  };
  for (const o of objects) {
    if (Array.isArray(o.object_marking_refs)) for (const ref of o.object_marking_refs) note(ref);
    if (Array.isArray(o.granular_markings))
      for (const g of o.granular_markings) if (isObject(g)) note(g.marking_ref);
  }
  return TLPS.find((t) => found.has(t));
}

/** Every `*_ref` and `*_refs`, at any depth, must name an object of the bundle. */
function checkRefs(
  value: unknown,
  path: string,
  ids: ReadonlySet<string>,
  add: (path: string, message: string) => void,
  depth = 0,
): void {
  if (depth > 16) {
    add(path, 'is nested too deeply');
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkRefs(v, `${path}[${i}]`, ids, add, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const where = `${path}.${key}`;
    if (key.endsWith('_ref')) checkRef(v, where, ids, add);
    else if (key.endsWith('_refs')) {
      if (!Array.isArray(v)) add(where, 'must be an array of identifiers');
      else for (const [i, ref] of v.entries()) checkRef(ref, `${where}[${i}]`, ids, add);
    } else checkRefs(v, where, ids, add, depth + 1);
  }
}

function checkRef(
  ref: unknown,
  path: string,
  ids: ReadonlySet<string>,
  add: (path: string, message: string) => void,
): void {
  if (typeof ref !== 'string' || !IDENTIFIER.test(ref)) {
    add(path, `must be a STIX identifier, not ${show(ref)}`);
    return;
  }
  if (!ids.has(ref) && !(ref in TLP_MARKINGS))
    add(path, `refers to ${ref}, which is not in the bundle`);
}

function summarize(id: string, objects: readonly Json[]): StixSummary {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.type as string, (counts.get(o.type as string) ?? 0) + 1);
  const types = Object.fromEntries(
    [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
  );
  const listed = objects
    .filter((o) => o.type !== 'marking-definition' && o.type !== 'identity')
    .slice(0, MAX_LISTED)
    .map((o) => {
      const label = labelOf(o);
      return { type: o.type as string, id: o.id as string, ...(label ? { label } : {}) };
    });
  const tlp = bundleTlp(objects);
  return { id, objects: objects.length, types, listed, ...(tlp ? { tlp } : {}) };
}

function labelOf(o: Json): string | undefined {
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
  if (o.type === 'indicator') return [text(o.name), text(o.pattern)].filter(Boolean).join(': ');
  if (o.type === 'relationship')
    return `${text(o.source_ref)} ${text(o.relationship_type)} ${text(o.target_ref)}`;
  return text(o.name) ?? text(o.value);
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** One line per problem, for people. */
export function describeStixProblems(problems: readonly StixProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}
