/**
 * Checking untrusted JSON against the wire schemas, with one compiled checker per schema and a
 * rejection that names the first offending field.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { ProtocolError } from './errors.ts';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  return checker as TypeCheck<T>;
}

/** The first schema error as a sentence, or undefined when `value` is valid. */
export function schemaError(schema: TSchema, value: unknown): string | undefined {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return undefined;
  const first = checker.Errors(value).First();
  if (!first) return 'is not valid';
  return `${first.path || '/'}: ${first.message}`;
}

/** Returns `value` typed by `schema`, or throws E_MALFORMED naming `what` and the field. */
export function parseWire<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const error = schemaError(schema, value);
  if (error !== undefined) throw new ProtocolError('E_MALFORMED', `${what} ${error}`);
  return value as Static<T>;
}
