/**
 * Primitive wire types shared by every document (docs/protocol.md § Primitives).
 */
import { type TLiteral, type TString, type TUnion, Type } from '@sinclair/typebox';
import { LIMITS } from './limits.ts';

/** A party id: `us`, `cn`, `eu-1`. */
export const PartyId = Type.String({
  pattern: '^[a-z0-9-]{2,32}$',
  maxLength: 32,
  description: 'a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
});

/**
 * Where a listener opens: a host name or address (IPv6 in brackets) and a port from 1 to 65535.
 * Port 0 (any free port) is refused: a card, a relay URL or a peer could not name the port.
 */
export const HostPort = Type.String({
  pattern:
    '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
  description: 'a host:port, the port from 1 to 65535 (e.g. 127.0.0.1:7100 or [::1]:7100)',
});

/** A lowercase UUIDv7 (RFC 9562 §5.7): message, incident and epoch ids. */
export const Uuid7 = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
  maxLength: 36,
  description: 'a message or incident id (a lowercase UUIDv7)',
});

/** UTC time, RFC 3339 with exactly three fractional digits, as `Date.toISOString()` writes. */
export const Timestamp = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
  maxLength: 24,
  description: 'a UTC time to the millisecond (e.g. 2026-12-07T09:30:00.000Z)',
});

const CALENDAR = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?Z)?$/;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * What is wrong with a day (`2027-02-30`) or a UTC time of the Timestamp's form
 * (`2027-02-30T25:61:61.000Z`) that names no real day or instant — `what` it is not, a date or a
 * date/time, and `why` ("February 2027 has no day 30") — or undefined when it names one. The
 * Timestamp pattern alone lets both through, and `Date` silently moves them (30 February to
 * 2 March). No leap second: `Date` cannot hold one, and the node's clock never writes one. A
 * string of another form is left to its pattern.
 *
 * The wire keeps the pattern alone (docs/protocol.md § Primitives): a peer's impossible time is
 * taken in as written. What this node's own people enter is held to this check: the operator
 * API's schemas (the `calendar` keyword, src/api/server.ts) and every release (Node.check).
 */
export function calendarFault(value: string): { what: string; why: string } | undefined {
  const m = CALENDAR.exec(value);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const what = m[4] === undefined ? 'date' : 'date/time';
  const no = (why: string) => ({ what, why });
  if (month < 1 || month > 12) return no(`there is no month ${m[2]}`);
  if (day < 1 || day > daysIn(year, month))
    return no(`${MONTHS[month - 1]} ${m[1]} has no day ${m[3]}`);
  if (m[4] !== undefined && Number(m[4]) > 23) return no(`hours run 00 to 23, not ${m[4]}`);
  if (m[5] !== undefined && Number(m[5]) > 59) return no(`minutes run 00 to 59, not ${m[5]}`);
  if (m[6] !== undefined && Number(m[6]) > 59) return no(`seconds run 00 to 59, not ${m[6]}`);
  return undefined;
}

/** `calendarFault` as a sentence: "2027-02-30 is not a calendar date (February 2027 has no day 30)". */
export function calendarProblem(value: string): string | undefined {
  const fault = calendarFault(value);
  return fault && `${value} is not a calendar ${fault.what} (${fault.why})`;
}

/** A time as a person gave it (`given`, named `name`: `--until`, `querystring/to`) and the instant it means. */
export interface GivenTime {
  name: string;
  given: string;
  /** The instant, as `Date.parse` reads it (a wire Timestamp, or a day read as its UTC start or end). */
  at: string;
}

/**
 * Why `from`–`until` is no range, or undefined: it ends before it starts, so a listing would answer
 * nothing and a record would hold what cannot be. With `exclusive` (`until` not part of the range,
 * as a shift's end) a range that ends where it starts is empty and refused too. The one check of
 * every pair a person gives, on the CLI and the operator API; the sentence names both as given.
 */
export function rangeProblem(
  from: GivenTime,
  until: GivenTime,
  { exclusive = false }: { exclusive?: boolean } = {},
): string | undefined {
  const start = Date.parse(from.at);
  const end = Date.parse(until.at);
  if (end > start || (end === start && !exclusive)) return undefined;
  if (end === start)
    return `${until.name} ${until.given} is the same time as ${from.name} ${from.given}: the range is empty; give a later ${until.name}`;
  return `${until.name} ${until.given} is before ${from.name} ${from.given}: the range ends before it starts; give the earlier time as ${from.name}`;
}

/**
 * Why `at` is on the wrong side of `now` for what it names, or undefined: a time `must` be
 * `'past'` (something done: a review, a theft of keys, an entry recorded; now itself is allowed)
 * or `'future'` (still to come: a conference, an expiry). `why` says what to give instead.
 */
export function whenProblem(
  time: Omit<GivenTime, 'name'> & { name?: string },
  now: Date,
  must: 'past' | 'future',
  why: string,
): string | undefined {
  const at = Date.parse(time.at);
  if (must === 'past' ? at <= now.getTime() : at >= now.getTime()) return undefined;
  const said = time.name ? `${time.name} ${time.given}` : time.given;
  return `${said} is in the ${must === 'past' ? 'future' : 'past'} (it is ${now.toISOString()}): ${why}`;
}

/**
 * Why a web address a person typed cannot be called, or undefined: it must parse as a URL, be
 * http or https, and name a host (`https://` alone parses in no caller and fails each call).
 */
export function webAddressProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a web address';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'is not http or https';
  if (!url.hostname) return 'has no host';
  return undefined;
}

/**
 * A web address a person enters for the node to call (a webhook): http(s) with a host. The
 * `address` keyword is checked by the operator listener's validator (src/api/server.ts) with
 * `webAddressProblem`; the pattern is what TypeBox, which does not know it, checks.
 */
export const WebAddress = Type.String({
  pattern: '^https?://',
  maxLength: 2000,
  description: 'an https address such as https://pager.example/hook',
  address: true,
});

/**
 * A time a person enters (operator API, console, CLI): a Timestamp that names a real instant. The
 * `calendar` keyword is checked by the operator listener's validator (src/api/server.ts) with
 * `calendarFault`; TypeBox, which checks the wire, does not know it and so checks the pattern
 * alone, as for a Timestamp.
 */
export const Instant = Type.String({
  pattern: Timestamp.pattern,
  maxLength: 24,
  description: Timestamp.description,
  calendar: true,
});

/**
 * Characters that show nothing (format characters: zero-width spaces and joiners, bidi marks,
 * the byte-order mark; and control characters) as a regular-expression class without the `u`
 * flag, which TypeBox's wire checks compile patterns without. `Cf` characters beyond U+FFFF are
 * left to `inputProblem`, which reads `\p{Cf}`.
 */
const UNSEEN =
  '\\s\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb';

/** Nothing but white space, format characters and control characters: "blank" to a reader. */
const BLANK = /^[\s\p{Cf}\p{Cc}]*$/u;
/** Control characters other than tab, line feed and carriage return (C0, DEL, C1). */
const CONTROL_IN_TEXT = /(?![\t\n\r])\p{Cc}/u;
/** Any control character: a name is one line. */
const CONTROL_IN_NAME = /\p{Cc}/u;
/** Bidi embeddings, overrides and isolates: they reorder what follows (the Trojan Source class). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

const CHARACTER_NAMES: Record<number, string> = {
  0: 'NULL',
  9: 'CHARACTER TABULATION',
  10: 'LINE FEED',
  13: 'CARRIAGE RETURN',
  27: 'ESCAPE',
  127: 'DELETE',
  8234: 'LEFT-TO-RIGHT EMBEDDING',
  8235: 'RIGHT-TO-LEFT EMBEDDING',
  8236: 'POP DIRECTIONAL FORMATTING',
  8237: 'LEFT-TO-RIGHT OVERRIDE',
  8238: 'RIGHT-TO-LEFT OVERRIDE',
  8294: 'LEFT-TO-RIGHT ISOLATE',
  8295: 'RIGHT-TO-LEFT ISOLATE',
  8296: 'FIRST STRONG ISOLATE',
  8297: 'POP DIRECTIONAL ISOLATE',
};

/** A character as a sentence names it: "U+202E RIGHT-TO-LEFT OVERRIDE", "U+0001". */
export function characterName(character: string): string {
  const point = character.codePointAt(0) ?? 0;
  const name = CHARACTER_NAMES[point];
  return `U+${point.toString(16).toUpperCase().padStart(4, '0')}${name ? ` ${name}` : ''}`;
}

/** Whether a text shows nothing: only white space, format and control characters, or none. */
export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/**
 * Why a text a person typed cannot be taken, or undefined: it is blank (white space, zero-width
 * and other invisible characters alone), or it has a control character (a NUL, an escape: in a
 * `'text'` only tab and line breaks are taken; a `'name'` is one line), or, in a `'name'`, a bidi
 * override, embedding or isolate, which can make a list of names show what is not there. The
 * sentence follows the field's name: "has U+202E RIGHT-TO-LEFT OVERRIDE, …". A sender's and an
 * operator's check; what a peer sent is taken as it came.
 */
export function inputProblem(text: string, kind: 'text' | 'name'): string | undefined {
  if (isBlank(text)) return 'is blank: write something besides spaces and invisible characters';
  return unseenProblem(text, kind);
}

/** `inputProblem` for a text known not to be blank (a message's, whose blankness is E_EMPTY_MESSAGE). */
export function unseenProblem(text: string, kind: 'text' | 'name'): string | undefined {
  const control = (kind === 'name' ? CONTROL_IN_NAME : CONTROL_IN_TEXT).exec(text)?.[0];
  if (control)
    return `has ${characterName(control)}, a control character: ${kind === 'name' ? 'a name is one line of characters that show' : 'only tabs and line breaks are taken'}; write it without`;
  const bidi = kind === 'name' ? BIDI_CONTROL.exec(text)?.[0] : undefined;
  if (bidi)
    return `has ${characterName(bidi)}, which reorders the characters after it, so a list could show a name that is not there; write the name without it`;
  return undefined;
}

/**
 * Text a person writes (a name, a label, a reason, a note): at most `maxLength` characters, of
 * which at least `minChars` show (are not white space, invisible or control characters), so "   "
 * or a zero-width space says nothing and "a  " is not a reason of three. The `written` keyword
 * (checked by the operator listener's validator with `inputProblem`, src/api/server.ts) refuses
 * control characters, and in a `'name'` bidi controls, naming the character. For what the operator
 * API takes in; the wire's `Label` and `Text` keep their lengths alone (docs/protocol.md), and a
 * message's text is checked at release (E_EMPTY_MESSAGE, E_MALFORMED).
 */
export function Written(maxLength: number, minChars = 1, kind: 'text' | 'name' = 'text'): TString {
  const shown = `[^${UNSEEN}]`;
  return Type.String({
    minLength: minChars,
    maxLength,
    pattern: minChars === 1 ? shown : `^(?:[${UNSEEN}]*${shown}){${minChars}}`,
    description:
      minChars === 1
        ? 'a text with at least one character besides spaces and invisible characters'
        : `a text with at least ${minChars} characters besides spaces and invisible characters`,
    written: kind,
  });
}

/** A SHA-256 digest, lowercase hex. */
export const Hex32 = Type.String({
  pattern: '^[0-9a-f]{64}$',
  maxLength: 64,
  description: 'a SHA-256 digest (64 lowercase hex digits)',
});

/**
 * Base64url without padding, of exactly `bytes` bytes, canonical: the unused low bits of the last
 * character are zero (RFC 4648 §3.5), so each byte string has exactly one accepted spelling.
 */
export function B64(bytes: number): TString {
  const full = Math.floor(bytes / 3) * 4;
  const tail = ['', '[A-Za-z0-9_-][AQgw]', '[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048]'][bytes % 3];
  const chars = Math.ceil((bytes * 4) / 3);
  return Type.String({
    pattern: `^[A-Za-z0-9_-]{${full}}${tail}$`,
    maxLength: chars,
    description: `${bytes} bytes in base64url (${chars} of A-Z, a-z, 0-9, _ and -, no padding)`,
  });
}

/** Base64url without padding, of at most `maxChars` characters. */
export function B64Max(maxChars: number): TString {
  return Type.String({
    pattern: '^[A-Za-z0-9_-]*$',
    maxLength: maxChars,
    description: 'base64url text (A-Z, a-z, 0-9, _ and -, no padding)',
  });
}

/** A BCP 47 language tag in the simple form used here: `en`, `zh`, `zh-Hans`. */
export const Lang = Type.String({
  pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$',
  maxLength: 35,
  description: 'a language tag (e.g. en, zh, zh-Hans)',
});

/**
 * The language of `languages` to show a reader who asked for `lang`: itself, or its base
 * (`zh-Hans` → `zh`); undefined when neither is offered.
 */
export function offeredLang(lang: string, languages: readonly string[]): string | undefined {
  return [lang, lang.split('-')[0] as string].find((l) => languages.includes(l));
}

/** A vocabulary code: `category.autonomous-unpredictable`, `action.confirm-receipt`. */
export const Code = Type.String({
  pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
  maxLength: 64,
  description: 'a vocabulary code (e.g. phrase.investigating)',
});

/** A short identifier: desks, endpoints, event types. */
export const Slug = Type.String({
  pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
  maxLength: 64,
  description: 'a short name (a-z and 0-9, joined by . or -, e.g. ops)',
});

/** The version of an agreed document (vocabulary, regimes), as a card pins it. */
export const Version = Type.String({
  pattern: '^[0-9A-Za-z.+-]{1,32}$',
  description: 'a version (1 to 32 of A-Z, a-z, 0-9, ., + and -, e.g. 2026.1)',
});

/** A short human label. */
export const Label = Type.String({ minLength: 1, maxLength: LIMITS.labelChars });

/** Free text. */
export const Text = Type.String({ minLength: 1, maxLength: LIMITS.textChars });

/** Extension members: room for later capabilities without a version bump; bounded in size. */
export const Ext = Type.Record(
  Type.String({
    pattern: '^[a-z][a-zA-Z0-9]{0,31}$',
    description: 'a member name (a lowercase letter, then up to 31 letters and digits)',
  }),
  Type.Unknown(),
  {
    maxProperties: LIMITS.extMembers,
    additionalProperties: false,
  },
);

export const Uint = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** One of a fixed list of strings, typed as that union. */
export function OneOf<const T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

const utf8 = new TextEncoder();

/**
 * Whether extension members fit their byte limit (canonical JSON size). UTF-8 by TextEncoder, not
 * Buffer, so the console can type-check the schemas that use this module.
 */
export function extTooLarge(ext: Record<string, unknown> | undefined): boolean {
  return ext !== undefined && utf8.encode(JSON.stringify(ext)).length > LIMITS.extBytes;
}
