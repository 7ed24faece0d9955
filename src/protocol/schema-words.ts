/**
 * A schema check's failure in words for people: where in the document (a JSON pointer) and what
 * is wrong there — `/to` `is not a list`, `` `has no "desk"`, `/decision` `is not one of: accepted,
 * declined`. One wording for every checker: the operator API's AJV errors arrive in this shape
 * as they are (its AJV runs with `verbose: true`, so each error carries the schema it broke in
 * `parentSchema`, whose `description` words a pattern, the keyword's value in `schema` and the
 * value it judged in `data`); TypeBox's are turned into it here (`valueErrorProblem`), without its
 * compiler, so the console can word its checks too.
 */
import { type ValueError, ValueErrorType } from '@sinclair/typebox/value';

/** One failure, in the shape of an AJV error object (as Fastify hands them over). */
export interface SchemaFailure {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
  propertyName?: string;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
}

/** Where a failure is (a JSON pointer, `''` for the whole document) and what is wrong there. */
export interface SchemaProblem {
  path: string;
  /** A predicate to follow the path: `is not a list`, `has no "desk"`. */
  problem: string;
}

/** The problem of a TypeBox error (`Value.Errors`, a compiled check's `Errors`), as AJV's is said. */
export function valueErrorProblem(error: ValueError, whole?: string): SchemaProblem {
  return schemaProblem(failuresOf(error), whole);
}

/** What each JSON type is called in a sentence. */
const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

/**
 * The problem of a value that broke its schema. With `allErrors` off the validator stops at the
 * first failure, so the failures are that one and, when it sits in an `anyOf`, the failures of
 * each of its branches before it. `whole` names what takes the document in "which it does not
 * take" (`this route` for a request).
 */
export function schemaProblem(failures: readonly SchemaFailure[], whole = 'it'): SchemaProblem {
  const last = failures.at(-1);
  if (!last) return { path: '', problem: 'is not valid' };
  const failure = isAlternatives(last) ? alternativeOf(last, failures) : last;
  return { path: failure.instancePath, problem: predicate(failure, whole) };
}

const isAlternatives = (e: SchemaFailure) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * The failure that says most about a failed `anyOf`. A list of values says they are not among
 * them; a tagged union (objects told apart by one member of fixed value, as `kind`) the failure
 * of the branch its tag names. Otherwise the failures of the branches of the value's type that
 * got furthest into the value (the deepest path) speak for the branch that was meant: the first
 * past the type and value checks, else all of them together (`is not one of: …` when each wanted
 * one value, `needs one of …` when each wanted another member); else the `anyOf` itself, said as
 * its branches' forms (`is not text or an object`).
 */
function alternativeOf(failed: SchemaFailure, failures: readonly SchemaFailure[]): SchemaFailure {
  if (fixedValues(failed.schema)) return failed;
  const tagged = taggedBranch(failed);
  if (typeof tagged === 'object') return tagged;
  if (typeof tagged === 'number') {
    const own = failures.filter((e) => e.schemaPath.startsWith(`${failed.schemaPath}/${tagged}/`));
    const last = own.at(-1);
    if (last) return isAlternatives(last) ? alternativeOf(last, own) : last;
  }
  const branches = failures.filter(
    (e) => !isAlternatives(e) && e.schemaPath.startsWith(`${failed.schemaPath}/`),
  );
  // A branch of another type than the value's was not meant, when one of its type failed further.
  const ofItsType = branches.filter(
    (e) => e.keyword !== 'type' || e.instancePath !== failed.instancePath,
  );
  const inside = ofItsType.length ? ofItsType : branches;
  const depth = (e: SchemaFailure) => e.instancePath.split('/').length;
  const deepest = Math.max(...inside.map(depth));
  const furthest = inside.filter((e) => depth(e) === deepest);
  const [first] = furthest;
  if (!first) return failed;
  const meant = furthest.find((e) => !['type', 'const', 'required'].includes(e.keyword));
  if (meant) return meant;
  const all = (keyword: string) =>
    furthest.every((e) => e.keyword === keyword && e.instancePath === first.instancePath);
  const each = (param: string) => [...new Set(furthest.map((e) => e.params[param]))];
  if (all('const'))
    return { ...first, keyword: 'enum', params: { allowedValues: each('allowedValue') } };
  if (all('required'))
    return { ...first, keyword: 'required', params: { missingProperty: each('missingProperty') } };
  return failed;
}

/**
 * In a tagged union (every branch an object with one member of fixed value, as `kind`), the index
 * of the branch the value's tag names, or the failure of a tag that is missing or names none.
 */
function taggedBranch(failed: SchemaFailure): number | SchemaFailure | undefined {
  const { data } = failed;
  if (!Array.isArray(failed.schema) || data === null || typeof data !== 'object') return undefined;
  if (Array.isArray(data)) return undefined;
  const members = (failed.schema as Record<string, unknown>[]).map(
    (branch) => (branch.properties ?? {}) as Record<string, Record<string, unknown>>,
  );
  const tag = Object.keys(members[0] ?? {}).find((name) =>
    members.every((properties) => properties[name] && 'const' in properties[name]),
  );
  if (tag === undefined) return undefined;
  const values = members.map((properties) => properties[tag]?.const);
  const given = (data as Record<string, unknown>)[tag];
  if (given === undefined)
    return { ...failed, keyword: 'required', params: { missingProperty: tag } };
  const branch = values.indexOf(given);
  if (branch !== -1) return branch;
  const instancePath = `${failed.instancePath}/${tag}`;
  return {
    ...failed,
    instancePath,
    keyword: 'enum',
    params: { allowedValues: values },
    data: given,
  };
}

/** The values of an `anyOf` whose every branch is a `const` (or null), or undefined. */
function fixedValues(branches: unknown): unknown[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const values: unknown[] = [];
  for (const branch of branches as Record<string, unknown>[]) {
    if ('const' in branch) values.push(branch.const);
    else if (branch.type === 'null') values.push(null);
    else return undefined;
  }
  return values;
}

/** A branch of an `anyOf` in words: its description, its one value or its type. */
function formOf(branch: Record<string, unknown>): string | undefined {
  if (typeof branch.description === 'string') return branch.description;
  if ('const' in branch) return listed([branch.const]);
  if (branch.type !== undefined) return typeWords(branch.type);
  return undefined;
}

const listed = (values: readonly unknown[]) =>
  values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');

const typeWords = (type: unknown): string =>
  (Array.isArray(type) ? type : [type]).map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');

/** What is wrong with the value, after its path. */
function predicate(failure: SchemaFailure, whole: string): string {
  const { params, parentSchema = {} } = failure;
  const limit = Number(params.limit);
  switch (failure.keyword) {
    case 'required': {
      const missing = [params.missingProperty].flat().map((name) => `"${String(name)}"`);
      return missing.length === 1 ? `has no ${missing[0]}` : `needs one of ${missing.join(', ')}`;
    }
    case 'dependentRequired':
    case 'dependencies':
      return `has "${String(params.property)}" but no "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `has "${String(params.additionalProperty)}", which ${whole} does not take`;
    case 'propertyNames':
      return `has a member named "${String(params.propertyName)}", which is not a name it takes`;
    case 'type':
      if (typeof parentSchema.description === 'string') return `is not ${parentSchema.description}`;
      return `is not ${typeWords(params.type)}`;
    case 'anyOf':
    case 'oneOf': {
      const values = fixedValues(failure.schema);
      if (values) return `is not one of: ${listed(values)}`;
      const forms = Array.isArray(failure.schema) ? failure.schema.map(formOf) : [];
      if (forms.length && forms.every((f) => f !== undefined))
        return `is not ${forms.join(' or ')}`;
      return `is none of the forms ${whole} takes`;
    }
    case 'enum':
      return `is not one of: ${listed((params.allowedValues as unknown[]) ?? [])}`;
    case 'const':
      return `is not ${listed([params.allowedValue])}`;
    case 'pattern':
    case 'format': {
      const said = parentSchema.description;
      if (typeof said === 'string') return `is not ${said}`;
      return failure.keyword === 'pattern'
        ? `is not in the form ${String(params.pattern)} (a regular expression)`
        : `is not ${String(params.format)}`;
    }
    case 'minLength':
      return limit === 1 ? 'is empty' : `is shorter than ${limit} characters`;
    case 'maxLength':
      return `is longer than ${limit} characters`;
    case 'minItems':
      return limit === 1 ? 'is an empty list' : `has fewer than ${limit} items`;
    case 'maxItems':
      return `has more than ${limit} items`;
    case 'minProperties':
      return limit === 1 ? 'is an empty object' : `has fewer than ${limit} members`;
    case 'maxProperties':
      return `has more than ${limit} members`;
    case 'uniqueItems':
      return `has the same item twice (items ${String(params.j)} and ${String(params.i)})`;
    case 'multipleOf':
      return `is not a multiple of ${String(params.multipleOf)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return outOfRange(failure.keyword, limit, parentSchema);
    default:
      return failure.message ?? 'is not valid';
  }
}

/** A number out of its bounds: both bounds when the schema has both, else the one it broke. */
function outOfRange(keyword: string, limit: number, schema: Record<string, unknown>): string {
  const { minimum, maximum } = schema;
  if (typeof minimum === 'number' && typeof maximum === 'number')
    return `is not ${typeWords(schema.type ?? 'number')} from ${minimum} to ${maximum}`;
  if (keyword === 'minimum') return `is less than ${limit}`;
  if (keyword === 'exclusiveMinimum') return `is not more than ${limit}`;
  if (keyword === 'maximum') return `is more than ${limit}`;
  return `is not less than ${limit}`;
}

/**
 * A TypeBox error in the shape of AJV's (with `verbose`), so that one wording serves both: the
 * error and, for a union, the first error of each branch before it, as AJV lists them.
 */
function failuresOf(error: ValueError, schemaPath = '#'): SchemaFailure[] {
  const { path, schema, value } = error;
  const at = (keyword: string, params: Record<string, unknown> = {}): SchemaFailure => ({
    keyword,
    instancePath: path,
    schemaPath: `${schemaPath}/${keyword}`,
    params,
    parentSchema: schema,
    schema: (schema as Record<string, unknown>)[keyword],
    data: value,
  });
  const member = (keyword: string, param: string): SchemaFailure => {
    const cut = path.lastIndexOf('/');
    const name = path
      .slice(cut + 1)
      .replace(/~1/g, '/')
      .replace(/~0/g, '~');
    return { ...at(keyword, { [param]: name }), instancePath: path.slice(0, cut) };
  };
  const limit = (keyword: string) => at(keyword, { limit: schema[keyword] });
  const T = ValueErrorType;
  switch (error.type) {
    case T.Union: {
      const own = `${schemaPath}/anyOf`;
      const branches = error.errors.flatMap((branch, i) => {
        const first = branch.First();
        return first ? failuresOf(first, `${own}/${i}`) : [];
      });
      return [...branches, { ...at('anyOf'), schemaPath: own, schema: schema.anyOf }];
    }
    case T.ObjectRequiredProperty:
      return [member('required', 'missingProperty')];
    case T.ObjectAdditionalProperties:
      return [member('additionalProperties', 'additionalProperty')];
    case T.Literal:
      return [at('const', { allowedValue: schema.const })];
    case T.String:
      return [at('type', { type: 'string' })];
    case T.RegExp:
      return [
        typeof value === 'string'
          ? at('pattern', { pattern: schema.source })
          : at('type', { type: 'string' }),
      ];
    case T.StringPattern:
      return [at('pattern', { pattern: schema.pattern })];
    case T.StringFormat:
    case T.StringFormatUnknown:
      return [at('format', { format: schema.format })];
    case T.Number:
      return [at('type', { type: 'number' })];
    case T.Integer:
      return [at('type', { type: 'integer' })];
    case T.Boolean:
      return [at('type', { type: 'boolean' })];
    case T.Null:
      return [at('type', { type: 'null' })];
    case T.Object:
      return [at('type', { type: 'object' })];
    case T.Array:
    case T.Tuple:
      return [at('type', { type: 'array' })];
    case T.TupleLength:
      return [
        Array.isArray(value) && value.length < (schema.minItems ?? 0)
          ? limit('minItems')
          : limit('maxItems'),
      ];
    case T.StringMinLength:
      return [limit('minLength')];
    case T.StringMaxLength:
      return [limit('maxLength')];
    case T.ArrayMinItems:
      return [limit('minItems')];
    case T.ArrayMaxItems:
      return [limit('maxItems')];
    case T.ObjectMinProperties:
      return [limit('minProperties')];
    case T.ObjectMaxProperties:
      return [limit('maxProperties')];
    case T.ArrayUniqueItems:
      return [at('uniqueItems', sameItems(value))];
    case T.NumberMinimum:
    case T.IntegerMinimum:
      return [limit('minimum')];
    case T.NumberMaximum:
    case T.IntegerMaximum:
      return [limit('maximum')];
    case T.NumberExclusiveMinimum:
    case T.IntegerExclusiveMinimum:
      return [limit('exclusiveMinimum')];
    case T.NumberExclusiveMaximum:
    case T.IntegerExclusiveMaximum:
      return [limit('exclusiveMaximum')];
    case T.NumberMultipleOf:
    case T.IntegerMultipleOf:
      return [at('multipleOf', { multipleOf: schema.multipleOf })];
    default:
      return [{ ...at('not'), message: 'is not valid' }];
  }
}

/** The first two equal items of a list, as AJV's `uniqueItems` names them (`j` before `i`). */
function sameItems(value: unknown): { i: number; j: number } | Record<string, never> {
  if (!Array.isArray(value)) return {};
  const seen = new Map<string, number>();
  for (const [i, item] of value.entries()) {
    const key = JSON.stringify(item);
    const j = seen.get(key);
    if (j !== undefined) return { i, j };
    seen.set(key, i);
  }
  return {};
}
