/**
 * A request that broke its route's schema, as a sentence for people: `request body/to is not a
 * list`, `request body has no "desk"`, `request body/decision is not one of: accepted, declined`,
 * `request params/party "US" is not a party id …`.
 * The words for what is wrong are `src/protocol/schema-words.ts`, shared with every other
 * document a user writes (cards, regimes, vocabularies, evaluations).
 */
import { type SchemaFailure, schemaProblem } from '../protocol/schema-words.ts';

export type { SchemaFailure };

/**
 * The sentence for a request whose `context` (body, querystring, params, headers) broke its
 * schema; `errors` are the validator's, as Fastify hands them over in `error.validation`.
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
  if (context === 'body' && last.instancePath === '' && last.data == null)
    return 'the request has no body; this route takes a JSON object';
  const { path, problem } = schemaProblem(errors, 'this route');
  return `request ${context ?? ''}${path}${typedValue(context, path, errors)} ${problem}`;
}

/**
 * The value refused, quoted, where it is a segment of the URL's path (the party, an id: what the
 * CLI's arguments fill), so the sentence shows what was given: ` "US"`. Body values are not
 * repeated (they may be long, or a password).
 */
function typedValue(
  context: string | undefined,
  path: string,
  errors: readonly SchemaFailure[],
): string {
  if (context !== 'params') return '';
  const value = errors.find((e) => e.instancePath === path)?.data;
  if (path === '' || typeof value !== 'string') return '';
  // A segment may be up to a kilobyte long: its start is enough to recognise it.
  const shown = value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value;
  return ` ${JSON.stringify(shown)}`;
}

/** Characters of a refused path segment quoted at most. */
const QUOTED = 40;
