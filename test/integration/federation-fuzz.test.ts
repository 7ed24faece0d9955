/**
 * Fuzzing the federation listener with fast-check: thousands of generated requests — arbitrary
 * JSON, valid envelopes and heartbeats (and signed recovery requests) with one member changed, replays, mis-addressed and
 * oversized ones — each answered with a stable code, none stored, and the node still serving a
 * good envelope afterwards. HOTLINE_SOAK=1 runs ten times as many.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { federationServer } from '../../src/api/server.ts';
import type { RunningNode } from '../../src/app/start.ts';
import { signRecoveryRequest } from '../../src/crypto/statements.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import { ERROR_CODES } from '../../src/protocol/errors.ts';
import type { BatchResult } from '../../src/protocol/federation.ts';
import type { SignedHeartbeat } from '../../src/protocol/heartbeat.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';

const SCALE = process.env.HOTLINE_SOAK ? 10 : 1;
const CODES = new Set<string>(ERROR_CODES);

let pair: Pair;
let us: RunningNode;
let cn: RunningNode;
let app: FastifyInstance;
/** An envelope from Beijing that Washington has stored: replays of it change nothing. */
let stored: Envelope;
let heartbeat: SignedHeartbeat;
let requests = 0;

beforeAll(async () => {
  // Both on protocol 1 (plain HTTP): `inject` has no TLS connection, and what is fuzzed here is
  // what the listener does with a request's bytes once the connection is let in (the pinned-TLS
  // gate in front of it has its own tests in pinned-tls.test.ts).
  pair = await createPair({ heartbeatMs: 60_000 }, undefined, { version1: ['us', 'cn'] });
  us = await pair.start(pair.us);
  cn = await pair.start(pair.cn);
  const { id } = await cn.node.release(['us'], draft());
  await eventually(async () => ((await us.store.countInbox()) === 1 ? true : undefined));
  stored = (await cn.store.getOutbox('us', id))?.envelope as Envelope;
  heartbeat = await cn.heartbeats.make('us', 'direct');
  app = await federationServer(us);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pair?.close();
});

async function inject(url: string, payload: string) {
  requests++;
  const response = await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload,
  });
  return { status: response.statusCode, body: response.json() as unknown };
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
          const { status, body } = await inject('/federation/v1/envelopes', payload);
          if (status !== 200) {
            expect([400, 413]).toContain(status);
            expect(CODES.has((body as { error: { code: string } }).error.code)).toBe(true);
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
          const { status, body } = await inject('/federation/v1/heartbeat', payload);
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
          const { status, body } = await inject('/federation/v1/recovery', payload);
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

  test('after all that, the node still takes a good message', async () => {
    expect(requests).toBeGreaterThanOrEqual(10_000 * SCALE);
    const { id } = await cn.node.release(['us'], draft());
    await eventually(async () =>
      (await us.store.listInbox(10)).some((r) => r.id === id) ? true : undefined,
    );
  }, 60_000);
});
