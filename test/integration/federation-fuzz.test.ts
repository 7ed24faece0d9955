/**
 * Fuzzing the federation listener with fast-check: thousands of generated requests — arbitrary
 * JSON, valid envelopes and heartbeats (and signed recovery requests) with one member changed,
 * replays, mis-addressed and oversized ones — each answered with a stable code, none stored, and
 * the node still serving a good envelope afterwards. HOTLINE_SOAK=1 runs ten times as many.
 *
 * The requests reach Washington's running listener as a peer's would on protocol 2: over pinned
 * mutual TLS with Beijing's certificate, so every one passes the TLS gate and reaches the routes
 * (one that claims another sender is refused there, `E_TLS_PEER`). Plain HTTP, with every peer
 * pinning TLS, is refused before any request and changes nothing.
 */
import fc from 'fast-check';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { signRecoveryRequest } from '../../src/crypto/statements.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import { ERROR_CODES } from '../../src/protocol/errors.ts';
import type { BatchResult } from '../../src/protocol/federation.ts';
import type { SignedHeartbeat } from '../../src/protocol/heartbeat.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { tlsOf } from '../support/tls.ts';

const SCALE = process.env.HOTLINE_SOAK ? 10 : 1;
const CODES = new Set<string>(ERROR_CODES);

let pair: Pair;
let us: RunningNode;
let cn: RunningNode;
/**
 * Beijing's side of pinned mutual TLS: its certificate on one connection, opened again when the
 * listener closes it (after a body past the bounds). A Client, not an Agent: undici 7.30's Agent
 * drops its pool after two resets in a row and then opens a connection per request.
 */
let asBeijing: Client;
/** An envelope from Beijing that Washington has stored: replays of it change nothing. */
let stored: Envelope;
let heartbeat: SignedHeartbeat;
let requests = 0;

beforeAll(async () => {
  pair = await createPair({ heartbeatMs: 60_000 });
  us = await pair.start(pair.us);
  cn = await pair.start(pair.cn);
  const { id } = await cn.node.release(['us'], draft());
  await eventually(async () => ((await us.store.countInbox()) === 1 ? true : undefined));
  stored = (await cn.store.getOutbox('us', id))?.envelope as Envelope;
  heartbeat = await cn.heartbeats.make('us', 'direct');
  const { key, cert } = tlsOf(pair.cn.dir);
  asBeijing = new Client(`https://${pair.us.listen}`, {
    connect: { key, cert, rejectUnauthorized: false },
  });
}, 60_000);

afterAll(async () => {
  await asBeijing?.close();
  await pair?.close();
});

/** POSTs `payload` to Washington's federation listener: as Beijing over TLS, or plain HTTP. */
async function post(path: string, payload: string, scheme: 'https' | 'http' = 'https') {
  requests++;
  const response = await request(`${scheme}://${pair.us.listen}${path}`, {
    method: 'POST',
    ...(scheme === 'https' ? { dispatcher: asBeijing } : {}),
    headers: { 'content-type': 'application/json' },
    body: payload,
  });
  return { status: response.statusCode, body: (await response.body.json()) as unknown };
}

/** A copy of `value` with the member at a generated path replaced by a generated value. */
const mutation = (value: unknown) =>
  fc
    .tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
    .map(([path, replacement]) => {
      const copy = structuredClone(value) as Record<string, unknown>;
      let at: Record<string, unknown> = copy;
      for (const [depth, choice] of path.entries()) {
        const keys = Object.keys(at);
        if (!keys.length) break;
        const key = keys[choice % keys.length] as string;
        const child = at[key];
        if (depth === path.length - 1 || child === null || typeof child !== 'object') {
          at[key] =
            typeof child === 'string' && typeof replacement === 'number'
              ? flip(child, replacement)
              : replacement;
          break;
        }
        at = child as Record<string, unknown>;
      }
      return copy;
    });

/** The string with one character changed: the subtle corruption signatures must catch. */
function flip(text: string, at: number): string {
  if (!text.length) return 'x';
  const i = Math.abs(Math.trunc(at)) % text.length;
  const c = text[i] === 'A' ? 'B' : 'A';
  return text.slice(0, i) + c + text.slice(i + 1);
}

const different = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

describe('fuzzing the federation listener', () => {
  test('envelope batches: arbitrary JSON, altered envelopes and replays are refused or answered with the original receipt', async () => {
    const before = await us.store.countInbox();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => ({ kind: 'any', payload: JSON.stringify(v) })),
          fc
            .array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 4 })
            .map((envelopes) => ({ kind: 'junk', payload: JSON.stringify({ envelopes }) })),
          mutation(stored)
            .filter((e) => different(e, stored))
            .map((e) => ({ kind: 'altered', payload: JSON.stringify({ envelopes: [e] }) })),
          fc.constant({ kind: 'replay', payload: JSON.stringify({ envelopes: [stored] }) }),
        ),
        async ({ kind, payload }) => {
          const { status, body } = await post('/federation/v1/envelopes', payload);
          if (status !== 200) {
            const { code } = (body as { error: { code: string } }).error;
            expect([400, 403, 413]).toContain(status);
            // Forbidden only for claiming a sender other than Beijing, whose certificate it is.
            if (status === 403) expect(code).toBe('E_TLS_PEER');
            expect(CODES.has(code)).toBe(true);
            return;
          }
          const result = body as BatchResult;
          for (const r of result.rejected) expect(CODES.has(r.code)).toBe(true);
          if (kind === 'replay') {
            expect(result.receipts).toHaveLength(1);
            expect(result.receipts[0]?.receipt.entries.map((e) => e.id)).toEqual([
              stored.header.id,
            ]);
          } else if (kind === 'altered') {
            // An altered copy of a stored envelope is refused, or — when the change left every
            // signed byte alone (e.g. an ext the schema refuses anyway) — still the original.
            for (const r of result.receipts)
              expect(r.receipt.entries.map((e) => e.id)).toEqual([stored.header.id]);
          } else expect(result.receipts).toEqual([]);
        },
      ),
      { numRuns: 6000 * SCALE },
    );
    expect(await us.store.countInbox()).toBe(before);
  }, 600_000);

  test('heartbeats: altered, mis-addressed, replayed or oversized ones are refused with their code', async () => {
    const before = await us.store.countInbox();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutation(heartbeat)
            .filter((h) => different(h, heartbeat))
            .map((h) => JSON.stringify(h)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constant(
            JSON.stringify({ ...heartbeat, heartbeat: { ...heartbeat.heartbeat, to: 'fr' } }),
          ),
          fc.constant(JSON.stringify({ ...heartbeat, pad: 'x'.repeat(70 * 1024) })),
        ),
        async (payload) => {
          const { status, body } = await post('/federation/v1/heartbeat', payload);
          if (status === 200) {
            // Only an unchanged signed heartbeat is answered, with our own, and only once: a
            // replay of it is refused with E_REPLAY.
            expect((body as SignedHeartbeat).heartbeat.echo).toBe(heartbeat.heartbeat.nonce);
            return;
          }
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(CODES.has((body as { error: { code: string } }).error.code)).toBe(true);
        },
      ),
      { numRuns: 4000 * SCALE },
    );
    expect(await us.store.countInbox()).toBe(before);
  }, 600_000);

  test('recovery requests: arbitrary, altered or unproven ones are refused and change nothing', async () => {
    const witnessed = await us.store.witnessed('cn');
    const signer = cn.keys.signer('signing');
    const note = (await cn.store.latestCheckpoint())?.note as string;
    // Signed by Beijing, but its statement is not a discontinuity its log holds.
    const request = signRecoveryRequest(
      {
        v: 1,
        from: 'cn',
        to: 'us',
        kid: signer.kid,
        sent: new Date().toISOString(),
        nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
        leaf: JSON.stringify({
          at: new Date().toISOString(),
          detail: {},
          leaf: 'event',
          type: 'x',
        }),
        index: 0,
        checkpoint: note,
        inclusion: [],
        consistency: [],
        received: { contiguous: 0, ranges: [] },
      },
      signer.key,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutation(request).map((r) => JSON.stringify(r)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constant(JSON.stringify(request)),
        ),
        async (payload) => {
          const { status, body } = await post('/federation/v1/recovery', payload);
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(CODES.has((body as { error: { code: string } }).error.code)).toBe(true);
        },
      ),
      { numRuns: 1000 * SCALE },
    );
    // Beijing's log is still the one witnessed: no new origin was taken.
    expect(await us.store.witnessed('cn')).toEqual(witnessed);
  }, 600_000);

  test('plain HTTP is refused before any request and changes nothing', async () => {
    const refused = async () =>
      (await us.metrics.tlsRefused.get()).values
        .filter((v) => v.labels.reason === 'plain HTTP')
        .reduce((sum, v) => sum + v.value, 0);
    const before = await refused();
    // A fresh heartbeat from Beijing, good once: taken over plain HTTP, it would be a replay after.
    const fresh = await cn.heartbeats.make('us', 'direct');
    await expect(post('/federation/v1/heartbeat', JSON.stringify(fresh), 'http')).rejects.toThrow();
    expect(await refused()).toBe(before + 1);
    const { status, body } = await post('/federation/v1/heartbeat', JSON.stringify(fresh));
    expect(status).toBe(200);
    expect((body as SignedHeartbeat).heartbeat.echo).toBe(fresh.heartbeat.nonce);
  });

  test('after all that, the node still takes a good message', async () => {
    expect(requests).toBeGreaterThanOrEqual(10_000 * SCALE);
    const { id } = await cn.node.release(['us'], draft());
    await eventually(async () =>
      (await us.store.listInbox(10)).some((r) => r.id === id) ? true : undefined,
    );
  }, 60_000);
});
