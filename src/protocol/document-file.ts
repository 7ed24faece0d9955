/**
 * Agreed documents kept as JSON files beside the node (the vocabulary, the notification regimes):
 * each read, validated and indexed once per path.
 */
import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';
import { schemaFault } from './validate.ts';

/** A document that failed its checks: every problem, as sentences; the message names the first. */
export class DocumentError extends Error {
  override name = 'DocumentError';
  readonly problems: readonly string[];
  constructor(where: string, problems: readonly string[]) {
    super(`${where}: ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`);
    this.problems = problems;
  }
}

/**
 * The problem of a document that breaks its schema, as a sentence starting with the field's path
 * (`/types/0/desk is not a short name …`), or naming the document when the whole of it is wrong;
 * empty when it fits.
 */
export function documentSchemaProblems(schema: TSchema, raw: unknown, document: string): string[] {
  const fault = schemaFault(schema, raw);
  if (!fault) return [];
  return [`${fault.path || `the ${document}`} ${fault.problem}`];
}

/**
 * A loader of one kind of document: `parse` validates and indexes it (throwing every problem it
 * finds); `refuse` makes the error for a file that is not JSON at all.
 */
export function documentLoader<T>(
  parse: (raw: unknown, where: string) => T,
  refuse: (file: string, problem: string) => Error,
): (file: string) => T {
  const cache = new Map<string, T>();
  return (file) => {
    const cached = cache.get(file);
    if (cached) return cached;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw refuse(file, `cannot be read as JSON (${(e as Error).message})`);
    }
    const document = parse(raw, file);
    cache.set(file, document);
    return document;
  };
}
