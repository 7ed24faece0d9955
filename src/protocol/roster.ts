/**
 * What the duty roster stores and the operator API takes (docs/people.md): how a person at a desk
 * is reached, and what a handover carries. Schemas with no Node imports, so the console reads the
 * same types (src/protocol/views.ts).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Uint, Uuid7, WebAddress, Written } from './common.ts';
import { LIMITS } from './limits.ts';

/** A handover note: something besides spaces. */
const Note = Written(LIMITS.textChars);

/** How to reach a person at a desk: the console, an e-mail address, or a webhook. */
export const ContactRoute = Type.Union([
  Type.Object({ kind: Type.Literal('console') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('email'),
      address: Type.String({
        pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
        maxLength: 254,
        description: 'an e-mail address (name@example.org)',
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('webhook'), url: WebAddress }, { additionalProperties: false }),
]);
export type ContactRoute = Static<typeof ContactRoute>;

/** One open item handed over: a message, an alarm, or a note. */
export const HandoverItem = Type.Union([
  Type.Object(
    { kind: Type.Literal('message'), id: Uuid7, note: Type.Optional(Note) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('alarm'), id: Uint, note: Type.Optional(Note) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('note'), note: Note }, { additionalProperties: false }),
]);
export type HandoverItem = Static<typeof HandoverItem>;
