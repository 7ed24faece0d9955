/**
 * Checking untrusted JSON against the wire schemas, with one compiled checker per schema and a
 * rejection that names the first offending field and says what is wrong with it in words
 * (`src/protocol/schema-words.ts`).
 */
import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Hash } from '@sinclair/typebox/value';
import { ProtocolError } from './errors.ts';
import { type SchemaProblem, valueErrorProblem } from './schema-words.ts';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = compile(schema);
    compiled.set(schema, checker);
  }
  return checker as TypeCheck<T>;
}

/**
 * TypeBox's compiled check, with a faster key for `uniqueItems`. TypeBox compares items by its
 * `Hash`, FNV-1a over BigInts: ≈1.5 µs for a two-letter party id here, a quarter of the cost of
 * checking a ledger leaf (an envelope header's `to` is unique). A string item is its own key; any
 * other keeps TypeBox's hash, a BigInt, which no string key equals. A schema with custom kinds
 * (they need TypeBox's registry of instances), or without `uniqueItems`, is compiled by TypeBox.
 */
function compile<T extends TSchema>(schema: T): TypeCheck<T> {
  const code = TypeCompiler.Code(schema, [], { language: 'javascript' });
  if (!code.includes('hash(') || code.includes('kind(')) return TypeCompiler.Compile(schema);
  const format = (name: string, value: unknown) =>
    FormatRegistry.Get(name)?.(value as string) ?? false;
  const itemKey = (value: unknown) => (typeof value === 'string' ? `s${value}` : Hash(value));
  const check = new Function('kind', 'format', 'hash', code)(() => false, format, itemKey);
  return new TypeCheck(schema, [], check, code);
}

/**
 * The first schema error as a phrase: the field's path (a JSON pointer) and what is wrong with it
 * (`/keys/0/pub is not text`, `/timing has no "kind"`), or only what is wrong when the whole value
 * is (`is not an object`); undefined when `value` is valid. The caller names the document in front
 * of it. Only a failure pays for the words: a valid value costs the compiled check alone.
 */
export function schemaError(schema: TSchema, value: unknown): string | undefined {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return undefined;
  const { path, problem } = faultOf(checker, value);
  return path ? `${path} ${problem}` : problem;
}

/**
 * The first schema error as where it is and what is wrong, or undefined when `value` is valid.
 * `whole` names what takes the document, in "which it does not take".
 */
export function schemaFault(
  schema: TSchema,
  value: unknown,
  whole?: string,
): SchemaProblem | undefined {
  const checker = checkerFor(schema);
  return checker.Check(value) ? undefined : faultOf(checker, value, whole);
}

/** The words for a value its checker refused: the failure path only. */
function faultOf(checker: TypeCheck<TSchema>, value: unknown, whole?: string): SchemaProblem {
  const first = checker.Errors(value).First();
  return first ? valueErrorProblem(first, whole) : { path: '', problem: 'is not valid' };
}

/** Returns `value` typed by `schema`, or throws E_MALFORMED naming `what` and the field. */
export function parseWire<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const error = schemaError(schema, value);
  if (error !== undefined) throw new ProtocolError('E_MALFORMED', `${what} ${error}`);
  return value as Static<T>;
}
