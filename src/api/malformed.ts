/**
 * A schema check's failure as a sentence for people: `request body/to is not a list`, `request
 * body has no "desk"`, `request body/decision is not one of: accepted, declined`. The listeners'
 * AJV runs with `verbose: true`, so each error carries the schema it broke (`parentSchema`, whose
 * `description` words a pattern), the keyword's value (`schema`) and the value it judged (`data`).
 */

/** One AJV error object, as Fastify hands them over in `error.validation`. */
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
 * The sentence for a request whose `context` (body, querystring, params, headers) broke its
 * schema. With `allErrors` off the validator stops at the first failure, so the errors are that
 * one failure and, when it sits in an `anyOf`, the failures of each of its branches before it.
 */
export function malformedSentence(
  context: string | undefined,
  errors: readonly SchemaFailure[],
): string {
  const last = errors.at(-1);
  if (!last) return 'the request is not valid';
  // A repeated query parameter arrives as a list of its values.
  if (context === 'querystring' && last.instancePath !== '' && Array.isArray(last.data))
    return `request ${context}${last.instancePath} is given more than once; give it once`;
  const error = isAlternatives(last) ? alternativeOf(last, errors) : last;
  if (context === 'body' && error.instancePath === '' && error.data == null)
    return 'the request has no body; this route takes a JSON object';
  return `request ${context ?? ''}${error.instancePath} ${predicate(error)}`;
}

const isAlternatives = (e: SchemaFailure) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * The error that says most about a failed `anyOf`. A list of values says they are not among them;
 * a tagged union (objects told apart by one member of fixed value, as `kind`) the error of the
 * branch its tag names. Otherwise the branches' errors that got furthest into the value (the
 * deepest path) speak for the branch that was meant: the first past the type and value checks,
 * else all of them together (`is not one of: …` when each wanted one value, `needs one of …` when
 * each wanted another member); else the `anyOf` itself, said as the forms its branches take.
 */
function alternativeOf(failed: SchemaFailure, errors: readonly SchemaFailure[]): SchemaFailure {
  if (fixedValues(failed.schema)) return failed;
  const tagged = taggedBranch(failed);
  if (typeof tagged === 'object') return tagged;
  if (typeof tagged === 'number') {
    const own = errors.filter((e) => e.schemaPath.startsWith(`${failed.schemaPath}/${tagged}/`));
    const last = own.at(-1);
    if (last) return isAlternatives(last) ? alternativeOf(last, own) : last;
  }
  const inside = errors.filter(
    (e) => !isAlternatives(e) && e.schemaPath.startsWith(`${failed.schemaPath}/`),
  );
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
 * of the branch the value's tag names, or the error of a tag that is missing or names none.
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
function predicate(error: SchemaFailure): string {
  const { params, parentSchema = {} } = error;
  const limit = Number(params.limit);
  switch (error.keyword) {
    case 'required': {
      const missing = [params.missingProperty].flat().map((name) => `"${String(name)}"`);
      return missing.length === 1 ? `has no ${missing[0]}` : `needs one of ${missing.join(', ')}`;
    }
    case 'dependentRequired':
    case 'dependencies':
      return `has "${String(params.property)}" but no "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `has "${String(params.additionalProperty)}", which this route does not take`;
    case 'propertyNames':
      return `has a member named "${String(params.propertyName)}", which is not a name it takes`;
    case 'type':
      if (typeof parentSchema.description === 'string') return `is not ${parentSchema.description}`;
      return `is not ${typeWords(params.type)}`;
    case 'anyOf':
    case 'oneOf': {
      const values = fixedValues(error.schema);
      if (values) return `is not one of: ${listed(values)}`;
      const forms = Array.isArray(error.schema) ? error.schema.map(formOf) : [];
      if (forms.length && forms.every((f) => f !== undefined))
        return `is not ${forms.join(' or ')}`;
      return 'is none of the forms this route takes';
    }
    case 'enum':
      return `is not one of: ${listed((params.allowedValues as unknown[]) ?? [])}`;
    case 'const':
      return `is not ${listed([params.allowedValue])}`;
    case 'pattern':
    case 'format': {
      const said = parentSchema.description;
      return typeof said === 'string' ? `is not ${said}` : 'is not in the expected form';
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
      return outOfRange(error.keyword, limit, parentSchema);
    default:
      return error.message ?? 'is not valid';
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
