/**
 * A bounded, structure-aware fuzz run against a node's federation listener and a relay, in
 * process (Fastify `inject()`): generated requests that no pinned peer signed — arbitrary JSON,
 * a real envelope or heartbeat of Beijing's with one member changed, bodies nested or wide past
 * the listener's bounds, bytes that are not JSON — each timed. It counts crashes (a 5xx, a thrown
 * inject, an error code that is not in docs/errors.md), hangs (a request over 1 s of CPU), and
 * compares the node's state (inbox, ledger, alarms, outbox) and the relay's before and after.
 * The attack suite runs a few thousand; `npm run bench -- attacks` runs 100,000.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { newSalt, sealMessageFor } from '../../src/crypto/envelope.ts';
import { RELAY_AUTH_HEADER, relayAuthHeaders } from '../../src/crypto/relay-auth.ts';
import { openSenderEpoch } from '../../src/crypto/seal.ts';
import { signHeartbeat } from '../../src/crypto/statements.ts';
import { readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import type { Body } from '../../src/protocol/body.ts';
import { fromBase64url } from '../../src/protocol/encoding.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import { ERROR_CODES } from '../../src/protocol/errors.ts';
import { FORMAT_VERSION } from '../../src/protocol/version.ts';
import { relayServer } from '../../src/relay/server.ts';
import { openNode } from './node.ts';
import { draft } from './pair.ts';

export interface FuzzFigures {
  requests: number;
  federation: number;
  relay: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  crashes: number;
  /**
   * Requests that kept the process busy over 1 s (CPU time, user + system: on a shared machine
   * wall time also counts other work's turns; the slowest wall time is given beside it).
   */
  hangs: number;
  slowestMs: number;
  slowestCpuMs: number;
  slowest: string;
  /** Node state changed (inbox, ledger leaves, open alarms, outbox). */
  nodeStateChanged: boolean;
  /**
   * Items the relay stored, and deposits it answered 2xx: none may be, since no request is signed
   * by a pinned party over what it carries (relay access is signed).
   */
  relayStored: number;
  relayAccepted: number;
  seconds: number;
  examples: string[];
}

const CODES = new Set<string>([...ERROR_CODES, 'E_BAD_HOST']);

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
          at[key] = replacement;
          break;
        }
        at = child as Record<string, unknown>;
      }
      return copy;
    })
    .filter((m) => JSON.stringify(m) !== JSON.stringify(value));

/** Bodies past the listener's bounds, cheap to make: deep, wide, or not JSON at all. */
const hostileText = fc.oneof(
  fc.integer({ min: 65, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 65, max: 5_000 }).map((n) => `{"a":${'{"a":'.repeat(n)}1${'}'.repeat(n + 1)}`),
  fc.integer({ min: 10_001, max: 40_000 }).map((n) => `[${'0,'.repeat(n)}0]`),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

export async function runAttackFuzz(count: number, seed = 14): Promise<FuzzFigures> {
  const node = await openNode();
  const relayDir = mkdtempSync(join(tmpdir(), 'hotline-fuzz-relay-'));
  const { app: relay, boxes } = await relayServer({
    data: relayDir,
    limits: { maxBytes: 64 << 20, maxItemsPerBox: 1_000_000 },
    cards: [readOwnCard(node.dir).card, readOwnCard(join(dirname(node.dir), 'cn')).card],
    logger: pino({ level: 'silent' }),
  });
  try {
    // Beijing's real keys (pinned by Washington): templates that are right in every member.
    const cnKeys = readNodeKeys(join(dirname(node.dir), 'cn'));
    const usCard = readOwnCard(node.dir).card;
    const sealing = usCard.keys.find((k) => k.purpose === 'sealing' && k.alg === 'x25519');
    if (!sealing) throw new Error('no x25519 key');
    const epoch = await openSenderEpoch(
      'x25519',
      fromBase64url(sealing.pub),
      'cn',
      'us',
      randomBytes(16),
    );
    const signer = cnKeys.signer('signing');
    const envelope = sealMessageFor(
      {
        kind: 'message',
        id: uuidv7(),
        from: 'cn',
        seq: { us: 1 },
        sent: new Date(),
        kid: signer.kid,
      },
      { salt: newSalt(), ...draft() } as Body,
      signer.key,
      { us: epoch },
    ).envelopes.us as Envelope;
    const heartbeat = signHeartbeat(
      {
        v: FORMAT_VERSION,
        from: 'cn',
        to: 'us',
        path: 'direct',
        kid: signer.kid,
        sent: new Date().toISOString(),
        nonce: randomBytes(16).toString('base64url'),
        received: { contiguous: 0, ranges: [] },
        checkpoint: 'a checkpoint',
        card: 1,
      },
      signer.key,
    );
    const json = (v: unknown) => JSON.stringify(v);
    // Relay access is signed: requests signed by Beijing's real key over another body (a
    // captured signature on a changed deposit), by a stranger's key under Beijing's name and kid,
    // or with a header changed.
    const deposit = `http://relay${'/relay/v1/boxes/us/envelopes'}`;
    const stranger = { kid: signer.kid, key: generateKeyPairSync('ed25519').privateKey };
    const original = json({ envelopes: [envelope] });
    const signed = fc.oneof(
      mutation({ envelopes: [envelope] }).map(
        (d) => [json(d), relayAuthHeaders('cn', signer, 'POST', deposit, original)] as const,
      ),
      mutation({ envelopes: [envelope] }).map(
        (d) => [json(d), relayAuthHeaders('cn', stranger, 'POST', deposit, json(d))] as const,
      ),
      fc.string({ maxLength: 200 }).map((h) => [original, { [RELAY_AUTH_HEADER]: h }] as const),
    );
    const request = fc.oneof(
      fc.jsonValue().map((v) => ['federation', '/federation/v1/envelopes', json(v)] as const),
      fc
        .array(fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutation(envelope)), {
          minLength: 1,
          maxLength: 4,
        })
        .map((e) => ['federation', '/federation/v1/envelopes', json({ envelopes: e })] as const),
      mutation(heartbeat).map((h) => ['federation', '/federation/v1/heartbeat', json(h)] as const),
      fc.jsonValue().map((v) => ['federation', '/federation/v1/heartbeat', json(v)] as const),
      hostileText.map((t) => ['federation', '/federation/v1/envelopes', t] as const),
      mutation({ envelopes: [envelope] }).map(
        (d) => ['relay', '/relay/v1/boxes/us/envelopes', json(d)] as const,
      ),
      fc
        .record({ from: fc.string({ maxLength: 40 }), result: fc.jsonValue({ maxDepth: 2 }) })
        .map((d) => ['relay', '/relay/v1/boxes/cn/answers', json(d)] as const),
      hostileText.map((t) => ['relay', '/relay/v1/boxes/us/envelopes', t] as const),
      signed.map(([d, h]) => ['relay', '/relay/v1/boxes/us/envelopes', d, h] as const),
    );

    const state = async () =>
      json([
        await node.store.countInbox(),
        node.ledger.size,
        (await node.store.openAlarms()).length,
        await node.store.outboxStats('cn'),
      ]);
    const nodeBefore = await state();
    const relayStored = () => boxes.stored.envelope + boxes.stored.answer;
    const relayBefore = relayStored();
    const figures: FuzzFigures = {
      requests: 0,
      federation: 0,
      relay: 0,
      statuses: {},
      crashes: 0,
      hangs: 0,
      slowestMs: 0,
      slowestCpuMs: 0,
      slowest: '',
      nodeStateChanged: false,
      relayStored: 0,
      relayAccepted: 0,
      seconds: 0,
      examples: [],
    };
    const started = performance.now();
    const CHUNK = 500;
    for (let done = 0; done < count; done += CHUNK) {
      const batch = fc.sample(request, {
        numRuns: Math.min(CHUNK, count - done),
        seed: seed + done,
      });
      for (const [listener, url, payload, auth] of batch) {
        const app = listener === 'relay' ? relay : node.federation;
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        let status = 0;
        let code: string | undefined;
        try {
          const response = await app.inject({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json', ...auth },
            payload,
          });
          status = response.statusCode;
          if (status >= 400) code = (response.json() as { error?: { code?: string } }).error?.code;
        } catch (e) {
          status = -1;
          code = (e as Error).message;
        }
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        figures.requests++;
        figures[listener]++;
        figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
        if (ms > figures.slowestMs) {
          figures.slowestMs = ms;
          figures.slowest = `${url} ${payload.length} bytes: ${payload.slice(0, 60)}`;
        }
        figures.slowestCpuMs = Math.max(figures.slowestCpuMs, cpuMs);
        if (cpuMs > 1000) figures.hangs++;
        if (listener === 'relay' && status >= 200 && status < 300) figures.relayAccepted++;
        if (status < 0 || status >= 500 || (status >= 400 && !CODES.has(code ?? ''))) {
          figures.crashes++;
          if (figures.examples.length < 5)
            figures.examples.push(`${status} ${code} ${url} ${payload.slice(0, 120)}`);
        }
      }
    }
    figures.seconds = (performance.now() - started) / 1000;
    figures.nodeStateChanged = (await state()) !== nodeBefore;
    figures.relayStored = relayStored() - relayBefore;
    return figures;
  } finally {
    await relay.close();
    await node.close();
    rmSync(relayDir, { recursive: true, force: true });
  }
}

export function printFuzz(f: FuzzFigures): void {
  console.log(
    `attack fuzz: ${f.requests} requests (${f.federation} federation, ${f.relay} relay) in ` +
      `${f.seconds.toFixed(1)} s; statuses ${JSON.stringify(f.statuses)}; crashes ${f.crashes}; ` +
      `hangs over 1 s of CPU ${f.hangs} (slowest ${f.slowestCpuMs.toFixed(1)} ms CPU; ` +
      `${f.slowestMs.toFixed(1)} ms wall, ${f.slowest}); node state changed: ` +
      `${f.nodeStateChanged}; relay deposits accepted ${f.relayAccepted}, items stored ` +
      `${f.relayStored}${f.examples.length ? `; e.g. ${f.examples.join(' | ')}` : ''}`,
  );
}
