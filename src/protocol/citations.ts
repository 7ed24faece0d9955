/**
 * Citing an attachment of an earlier message (docs/protocol.md § Citations): the body's
 * `ext.cites` lists `{ from, message, sha256 }` — the earlier message's author party and id (the
 * reference `inReplyTo` already makes) and the SHA-256 of the attachment meant. An `ext` member, so
 * the wire format is unchanged and a node that does not know it ignores it; the digest pins the
 * exact bytes cited, so both sides know which evaluation a query or a request is about.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Hex32, PartyId, Uuid7 } from './common.ts';
import { valueErrorProblem } from './schema-words.ts';

export const MAX_CITES = 16;

export const Cite = Type.Object(
  { from: PartyId, message: Uuid7, sha256: Hex32 },
  { additionalProperties: false },
);
export type Cite = Static<typeof Cite>;

const Cites = Type.Array(Cite, { minItems: 1, maxItems: MAX_CITES });

/** The citations of a body's `ext`, or a sentence saying why `ext.cites` is not valid. */
export function citesOf(
  ext: Record<string, unknown> | undefined,
): { cites: Cite[] } | { problem: string } {
  const value = ext?.cites;
  if (value === undefined) return { cites: [] };
  const first = Value.Errors(Cites, value).First();
  if (first) {
    const { path, problem } = valueErrorProblem(first);
    return {
      problem: `ext.cites${path} ${problem} (each citation is { from, message, sha256 }, at most ${MAX_CITES})`,
    };
  }
  return { cites: value as Cite[] };
}

/** The sentence a sender is refused with when `ext.cites` is malformed, or undefined. */
export function citesProblem(ext: Record<string, unknown> | undefined): string | undefined {
  const result = citesOf(ext);
  return 'problem' in result ? result.problem : undefined;
}

/** A citation written `party/message-id/sha256` (the CLI's `--cite`), or undefined. */
export function parseCite(text: string): Cite | undefined {
  const [from, message, sha256, ...rest] = text.split('/');
  const cite = { from, message, sha256 };
  return rest.length === 0 && Value.Check(Cite, cite) ? cite : undefined;
}

/** Every `party/message-id/sha256`, or the first that is not one (for a CLI's error). */
export function parseCites(texts: readonly string[]): { cites: Cite[] } | { bad: string } {
  const cites: Cite[] = [];
  for (const text of texts) {
    const cite = parseCite(text);
    if (!cite) return { bad: text };
    cites.push(cite);
  }
  return { cites };
}
