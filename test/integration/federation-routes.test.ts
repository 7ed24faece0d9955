import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  makeHeader,
  newSalt,
  sealFor,
  sealMessageFor,
  signHeader,
} from '../../src/crypto/envelope.ts';
import type { NodeKeys } from '../../src/crypto/keys.ts';
import { openSenderEpoch } from '../../src/crypto/seal.ts';
import { parseCheckpoint } from '../../src/ledger/checkpoint.ts';
import { checkTree } from '../../src/ledger/merkle.ts';
import { parseNote } from '../../src/ledger/note.ts';
import { readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import type { Body } from '../../src/protocol/body.ts';
import type { Card } from '../../src/protocol/card.ts';
import { fromBase64url, fromHex, toBase64url, utf8 } from '../../src/protocol/encoding.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import type { BatchResult } from '../../src/protocol/federation.ts';
import { jcsBytes } from '../../src/protocol/jcs.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { peerFetch } from '../support/tls.ts';

/**
 * Bad input over HTTP: for every rejection code, Washington's federation endpoint answers with
 * that code, stores nothing, and still accepts the next good message.
 */
let pair: Pair;
let url: string;
let usCard: Card;
let cnKeys: NodeKeys;
let nextSeq = 1;

beforeAll(async () => {
  pair = await createPair();
  await pair.start(pair.us);
  url = `http://${pair.us.listen}/federation/v1/envelopes`;
  usCard = readOwnCard(pair.us.dir).card;
  cnKeys = readNodeKeys(pair.cn.dir);
});
afterAll(async () => {
  await pair.close();
});

/** A sealing epoch from Beijing toward Washington's X25519 key, labelled for channel cn → `to`. */
async function epochFromCn(to = 'us') {
  const sealing = usCard.keys.find((k) => k.purpose === 'sealing' && k.alg === 'x25519');
  if (!sealing) throw new Error('no x25519 key');
  return openSenderEpoch('x25519', fromBase64url(sealing.pub), 'cn', to, randomBytes(16));
}

/** An envelope from Beijing to Washington, made by hand as Beijing's node would. */
async function envelopeFromCn(
  options: { seq?: number; id?: string; body?: Partial<Body>; kind?: 'message' | 'rotation' } = {},
): Promise<Envelope> {
  const epoch = await epochFromCn();
  const signer = cnKeys.signer('signing');
  const body = { salt: newSalt(), ...draft(), ...options.body } as Body;
  const sealed = sealMessageFor(
    {
      kind: options.kind ?? 'message',
      id: options.id ?? uuidv7(),
      from: 'cn',
      seq: { us: options.seq ?? nextSeq++ },
      sent: new Date(),
      kid: signer.kid,
    },
    body,
    signer.key,
    { us: epoch },
  );
  return sealed.envelopes.us as Envelope;
}

async function post(
  envelopes: unknown[],
  query = '',
): Promise<{ status: number; body: BatchResult & { error?: { code: string } } }> {
  const response = await peerFetch(pair.cn.dir, `${url}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ envelopes }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function inboxCount() {
  return pair.us.running?.store.countInbox() ?? -1;
}

const clone = <T>(v: T): T => structuredClone(v);

describe('Washington refuses bad envelopes with a stable code and stores nothing', () => {
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['E_MALFORMED', async () => ({ header: { v: 1 }, sig: 'x' })],
    [
      'E_TOO_LARGE',
      async () => {
        const e = await envelopeFromCn();
        return { ...e, sealed: { ...e.sealed, ct: 'A'.repeat(5 * 1024 * 1024) } };
      },
    ],
    [
      'E_UNSUPPORTED_VERSION',
      async () => {
        const e = clone(await envelopeFromCn());
        e.header.v = 2;
        return e;
      },
    ],
    [
      'E_UNKNOWN_KEY',
      async () => {
        const e = clone(await envelopeFromCn());
        e.header.kid = '0'.repeat(32);
        return e;
      },
    ],
    [
      'E_BAD_SIGNATURE',
      async () => {
        const e = clone(await envelopeFromCn());
        e.header.sent = new Date(0).toISOString();
        return e;
      },
    ],
    [
      'E_BAD_SEAL',
      async () => {
        const e = clone(await envelopeFromCn());
        const ct = fromBase64url(e.sealed.ct);
        ct[0] = (ct[0] ?? 0) ^ 1;
        e.sealed.ct = toBase64url(ct);
        return e;
      },
    ],
    [
      'E_BAD_SEAL',
      async () => {
        // The same ciphertext relabelled as X-Wing: the epoch cannot be opened.
        const e = clone(await envelopeFromCn());
        e.sealed.suite = 'x-wing';
        return e;
      },
    ],
    [
      'E_BAD_BODY_HASH',
      async () => {
        const epoch = await epochFromCn();
        const signer = cnKeys.signer('signing');
        const claimed = jcsBytes({ salt: newSalt(), ...draft() });
        const header = makeHeader(
          {
            kind: 'message',
            id: uuidv7(),
            from: 'cn',
            seq: { us: nextSeq++ },
            sent: new Date(),
            kid: signer.kid,
          },
          claimed,
        );
        const actual = jcsBytes({
          salt: newSalt(),
          ...draft({ text: { lang: 'en', body: 'not what was signed' } }),
        });
        return {
          header,
          sig: signHeader(header, signer.key),
          sealed: sealFor(epoch, jcsBytes(header), actual),
        };
      },
    ],
    [
      'E_BAD_ROTATION',
      async () =>
        envelopeFromCn({
          body: {
            type: 'rotation',
            rotation: { reason: 'routine', card: readOwnCard(pair.cn.dir) },
          },
        }),
    ],
  ];

  for (const [code, make] of cases) {
    test(`${code}`, async () => {
      const before = await inboxCount();
      const size = pair.us.running?.ledger.size;
      const { status, body } = await post([await make()]);
      expect(status).toBe(200);
      expect(body.rejected.map((r) => r.code)).toEqual([code]);
      expect(body.receipts).toEqual([]);
      expect(await inboxCount()).toBe(before);
      expect(pair.us.running?.ledger.size).toBe(size);
      // The next good message is delivered.
      const good = await post([await envelopeFromCn()]);
      expect(good.body.rejected).toEqual([]);
      expect(good.body.receipts).toHaveLength(1);
      expect(await inboxCount()).toBe(before + 1);
    });
  }

  // Over pinned TLS an envelope naming another sender than the connection's certificate never
  // reaches the receiver's checks (where it would be E_UNKNOWN_PARTY): the request is refused whole.
  test('an envelope from an unknown party, on the connection of Beijing: E_TLS_PEER, nothing stored', async () => {
    const before = await inboxCount();
    const size = pair.us.running?.ledger.size;
    const e = clone(await envelopeFromCn());
    e.header.from = 'eu';
    const { status, body } = await post([e]);
    expect(status).toBe(403);
    expect(body.error?.code).toBe('E_TLS_PEER');
    expect(await inboxCount()).toBe(before);
    expect(pair.us.running?.ledger.size).toBe(size);
    const good = await post([await envelopeFromCn()]);
    expect(good.body.receipts).toHaveLength(1);
  });

  test('E_NOT_FOR_ME: a message Beijing addressed to another party', async () => {
    const epoch = await epochFromCn('eu');
    const signer = cnKeys.signer('signing');
    const sealed = sealMessageFor(
      {
        kind: 'message',
        id: uuidv7(),
        from: 'cn',
        seq: { eu: 1 },
        sent: new Date(),
        kid: signer.kid,
      },
      { salt: newSalt(), ...draft() } as Body,
      signer.key,
      { eu: epoch },
    );
    const { body } = await post([sealed.envelopes.eu]);
    expect(body.rejected.map((r) => r.code)).toEqual(['E_NOT_FOR_ME']);
  });

  test('a rotation envelope signed with the routine signing key names an unknown key', async () => {
    const { body } = await post([await envelopeFromCn({ kind: 'rotation' })]);
    expect(body.rejected.map((r) => r.code)).toEqual(['E_UNKNOWN_KEY']);
  });

  test('a duplicate is answered with the original receipt; a different header under the same id is equivocation and alarms', async () => {
    const first = await envelopeFromCn();
    const a = await post([first]);
    const again = await post([first]);
    expect(again.body.receipts).toEqual(a.body.receipts);
    const count = await inboxCount();
    const forged = await envelopeFromCn({ id: first.header.id });
    const b = await post([forged]);
    expect(b.body.rejected.map((r) => r.code)).toEqual(['E_EQUIVOCATION']);
    const reusedSeq = await envelopeFromCn({ seq: first.header.seq.us });
    const c = await post([reusedSeq]);
    expect(c.body.rejected.map((r) => r.code)).toEqual(['E_EQUIVOCATION']);
    expect(await inboxCount()).toBe(count);
    // Both are one alarm about Beijing, counted twice, naming the first evidence.
    const alarm = await eventually(async () => {
      const open = await pair.us.running?.store.openAlarms();
      return open?.find((x) => x.type === 'equivocation' && x.count === 2);
    });
    expect(alarm.message).toContain(first.header.id);
  });

  test('a sender naming the size it witnessed gets the consistency proofs with the answer', async () => {
    const checkpointOf = (answer: BatchResult) =>
      parseCheckpoint(parseNote(utf8(answer.receipts[0]?.receipt.checkpoint ?? '')).text);
    const first = await post([await envelopeFromCn()]);
    expect(first.body).not.toHaveProperty('proofs');
    const old = checkpointOf(first.body);
    const second = await post([await envelopeFromCn()], `?witnessed=${old.size}`);
    const next = checkpointOf(second.body);
    const proof = second.body.proofs?.find((p) => p.from === old.size && p.to === next.size);
    // The proof shows Beijing that the new checkpoint extends the one it witnessed.
    expect(proof).toBeDefined();
    const hashes = (proof?.proof ?? []).map(fromHex);
    expect(checkTree(hashes, next.size, next.root, old.size, old.root)).toBe(true);
    // A malformed size refuses the request as a whole, like any malformed batch.
    const bad = await post([{}], '?witnessed=01');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('E_MALFORMED');
  });

  test('a request that is not JSON, or too large, gets one error shape', async () => {
    const notJson = await peerFetch(pair.cn.dir, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"envelopes": [',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('E_MALFORMED');
    const empty = await post([]);
    expect(empty.status).toBe(400);
    expect(empty.body.error?.code).toBe('E_MALFORMED');
  });
});
