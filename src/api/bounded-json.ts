/**
 * JSON bodies bounded before they are parsed. V8's `JSON.parse` holds the event loop for tens of
 * seconds on a 16 MiB body of nested brackets, so every listener reads a JSON body through a
 * scanner that follows its structure chunk by chunk as the bytes arrive — nesting depth, members
 * of each array or object, values in the whole document — and refuses the body at the first byte
 * past a limit. Only a body within every limit reaches `JSON.parse`, which then costs what its
 * size and value count allow.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/errors.ts';

export interface JsonBounds {
  /** Arrays and objects open at once. */
  maxDepth: number;
  /** Members of one array or object. */
  maxMembers: number;
  /** Arrays, objects and members in the whole document. */
  maxValues: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * Follows a JSON text's structure across chunks. It checks bounds only: a text it passes may
 * still be invalid JSON, which `JSON.parse` then refuses (cheaply, within the same bounds).
 */
export class JsonScanner {
  readonly #bounds: JsonBounds;
  /** Commas seen in each open container, by depth. */
  readonly #commas: Uint32Array;
  #depth = 0;
  #values = 0;
  #inString = false;
  #escaped = false;

  constructor(bounds: JsonBounds) {
    this.#bounds = bounds;
    this.#commas = new Uint32Array(bounds.maxDepth + 1);
  }

  /** Takes the next bytes; returns why the text is refused, or undefined while it is within. */
  feed(chunk: Uint8Array): string | undefined {
    const { maxDepth, maxMembers, maxValues } = this.#bounds;
    const commas = this.#commas;
    const n = chunk.length;
    // Hot loop: state in locals, written back on every exit.
    let depth = this.#depth;
    let values = this.#values;
    let inString = this.#inString;
    let escaped = this.#escaped;
    // Where the next quote and backslash are (long strings are skipped natively, and each
    // search is done once per chunk position, so the scan stays linear).
    let nextQuote = -2;
    let nextBackslash = -2;
    let refused: string | undefined;
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        if (nextBackslash !== -1 && (nextQuote === -1 || nextBackslash < nextQuote)) {
          escaped = true;
          i = nextBackslash + 1;
        } else if (nextQuote !== -1) {
          inString = false;
          i = nextQuote + 1;
        } else i = n;
        continue;
      }
      const byte = chunk[i++];
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
        if (depth >= maxDepth) {
          refused = `nested deeper than ${maxDepth} levels`;
          break;
        }
        commas[++depth] = 0;
        if (++values > maxValues) {
          refused = `more than ${maxValues} values`;
          break;
        }
      } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
        // Unbalanced brackets are JSON.parse's to refuse; the count only must not go below 0.
        if (depth > 0) depth--;
      } else if (byte === COMMA) {
        const seen = (commas[depth] as number) + 1;
        commas[depth] = seen;
        if (seen >= maxMembers) {
          refused = `more than ${maxMembers} members in one array or object`;
          break;
        }
        if (++values > maxValues) {
          refused = `more than ${maxValues} values`;
          break;
        }
      }
    }
    this.#depth = depth;
    this.#values = values;
    this.#inString = inString;
    this.#escaped = escaped;
    return refused;
  }
}

/** Keys that would reach an object's prototype if a parsed document were merged into another. */
const POISON = /"(?:__proto__|constructor|prototype)"\s*:/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A byte-order mark, which RFC 8259 §8.1 forbids a sender to add. */
const startsWithBom = (body: Uint8Array) =>
  body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;

/**
 * The text of a body: bytes that are not UTF-8 are refused rather than read as U+FFFD, which would
 * store (or check a signature over) a different text than was sent (docs/protocol.md § Encodings).
 */
function textOf(body: Buffer): string {
  if (startsWithBom(body))
    throw new ProtocolError(
      'E_MALFORMED',
      'the body starts with a byte-order mark (EF BB BF); send the JSON without it',
    );
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new ProtocolError('E_MALFORMED', 'the body is not UTF-8 text');
  }
}

/** An escape for half of a UTF-16 pair (U+D800 to U+DFFF), alone it is no character. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Cs}/u;

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  return Object.entries(value).some(
    ([key, member]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(member),
  );
}

/**
 * Parses a JSON text already scanned within bounds; refuses prototype keys as Fastify does, and a
 * string escaping half a UTF-16 pair (`"\ud800"`), which is not text.
 */
export function parseBounded(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // V8's sentence, one wording on every Node (Node 22+ adds where, which the position says).
    const why = (e as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
    throw new ProtocolError('E_MALFORMED', `the body is not valid JSON: ${why}`);
  }
  if (POISON.test(text) && hasPoisonKey(value))
    throw new ProtocolError('E_MALFORMED', 'the body has a __proto__ or constructor key');
  if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value))
    throw new ProtocolError(
      'E_MALFORMED',
      'the body has a lone surrogate (a \\ud800 to \\udfff escape without its pair), which is not text',
    );
  return value;
}

function hasPoisonKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasPoisonKey);
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || key === 'constructor') return true;
    if (hasPoisonKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** The SHA-256 (hex) of each body read for a route whose config asks for it (`hashBody`). */
const bodyHashes = new WeakMap<FastifyRequest, string>();

/**
 * The SHA-256 (hex) of the request's body as it came over the wire, when its route's config has
 * `hashBody: true` (a federation batch's key); undefined otherwise.
 */
export function bodyHashOf(request: FastifyRequest): string | undefined {
  return bodyHashes.get(request);
}

/**
 * Replaces the listener's JSON body parser with the bounded one: the body is scanned chunk by
 * chunk as it arrives (refused at the first byte past a bound, or past the route's body limit),
 * and parsed once complete; a body that is not UTF-8 text is refused.
 */
export function installBoundedJson(app: FastifyInstance, bounds: JsonBounds): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    readBounded(request, payload, bounds).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });
}

class BodyTooLarge extends Error {
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
  readonly statusCode = 413;
}

function readBounded(
  request: FastifyRequest,
  payload: NodeJS.ReadableStream,
  bounds: JsonBounds,
): Promise<unknown> {
  const limit = request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY;
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyTooLarge('the request body is too large'));
  return new Promise((resolve, reject) => {
    const scanner = new JsonScanner(bounds);
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: Error | undefined, value?: unknown) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      received += chunk.length;
      if (received > limit) return finish(new BodyTooLarge('the request body is too large'));
      const refused = scanner.feed(chunk);
      if (refused) return finish(new ProtocolError('E_MALFORMED', `the body is ${refused}`));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (!Number.isNaN(declared) && declared !== received)
        return finish(
          new ProtocolError('E_MALFORMED', 'the body length differs from its Content-Length'),
        );
      if (received === 0) return finish(new ProtocolError('E_MALFORMED', 'the body is empty'));
      const body = Buffer.concat(chunks, received);
      if ((request.routeOptions.config as { hashBody?: boolean } | undefined)?.hashBody)
        bodyHashes.set(request, createHash('sha256').update(body).digest('hex'));
      try {
        finish(undefined, parseBounded(textOf(body)));
      } catch (e) {
        finish(e as Error);
      }
    };
    const onError = (error: Error) => finish(Object.assign(error, { statusCode: 400 }));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
