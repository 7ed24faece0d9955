/**
 * A request that broke its route's schema, as a sentence for people: `request body/to is not a
 * list`, `request body has no "desk"`, `request body/decision is not one of: accepted, declined`.
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
  return `request ${context ?? ''}${path} ${problem}`;
}
