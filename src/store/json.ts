/**
 * JSON columns. The database keeps a document as the text `JSON.stringify` gives, in a TEXT column
 * on both backends, so neither driver parses it (Kysely's `JSONColumnType` would type a select as
 * already parsed, which here it is not). The schema types each such column `Json<T>`, the text of a
 * T: a query can write only what `toJson` made, and a T comes out only through `fromJson`. These
 * two are the store's one serialiser and one parser; the store parses a row's documents as it reads
 * the row, and hands out objects.
 */

declare const holds: unique symbol;

/** The stored JSON text of a `T`. */
export type Json<T> = string & { readonly [holds]: T };

/** A table's row with each JSON column as the value it holds. */
export type Parsed<Row> = { [K in keyof Row]: Value<Row[K]> };

type Value<Column> = Column extends Json<infer T> ? T : Column;

/** The text stored for `value`: exactly what `JSON.stringify` gives, as the store always held. */
export function toJson<T>(value: T): Json<T> {
  return JSON.stringify(value) as Json<T>;
}

export function fromJson<T>(text: Json<T>): T {
  return JSON.parse(text) as T;
}
