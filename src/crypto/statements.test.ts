/**
 * Receipts and heartbeats between Washington and Beijing: signed by the sender's signing key,
 * checked by the peer against the card it pinned, refused with a code for each broken rule.
 */
import { describe, expect, it } from 'vitest';
import { fixedParty } from '../../test/vectors/generate.ts';
import { fromBase64url, toBase64url } from '../protocol/encoding.ts';
import { type ErrorCode, ProtocolError } from '../protocol/errors.ts';
import type { Heartbeat } from '../protocol/heartbeat.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { onlyKey } from './card.ts';
import { SIGNATURE_CONTEXTS, type SignatureKind, signedBytes } from './context.ts';
import { ed25519Sign, ed25519Verify } from './ed25519.ts';
import {
  signHeartbeat,
  signReceipt,
  verifyHeartbeat,
  verifyReceiptSignature,
} from './statements.ts';

const [us, cn] = await Promise.all([fixedParty('us'), fixedParty('cn')]);
const beijingSigns = cn.node.signer('signing').key;

const receipt: Receipt = {
  v: 1,
  from: 'cn',
  to: 'us',
  kid: onlyKey(cn.card, 'signing').kid,
  issued: '2025-03-01T12:00:01.250Z',
  entries: [
    {
      id: '01954f7a-3c00-7a00-8000-000000000001',
      headerHash: 'ab'.repeat(32),
      receivedAt: '2025-03-01T12:00:01.250Z',
      index: 0,
      proof: ['cd'.repeat(32)],
    },
  ],
  checkpoint:
    'hotline/cn/log\n2\nsqwkLIv6/md/iAqKaxkKBom7EsJEEFDvV315xofRW8Y=\n\n— hotline/cn/log AAAA\n',
};

const heartbeat: Heartbeat = {
  v: 1,
  from: 'cn',
  to: 'us',
  path: 'direct',
  kid: onlyKey(cn.card, 'signing').kid,
  sent: '2025-03-01T12:00:02.000Z',
  nonce: toBase64url(new Uint8Array(16).fill(1)),
  echo: toBase64url(new Uint8Array(16).fill(2)),
  received: { contiguous: 3, ranges: [[5, 6]] },
  checkpoint: receipt.checkpoint,
  card: 1,
};

function codeOf(action: () => unknown): ErrorCode | 'none' | 'other' {
  try {
    action();
    return 'none';
  } catch (e) {
    return e instanceof ProtocolError ? e.code : 'other';
  }
}

type Statement = Receipt | Heartbeat;
const kinds = [
  {
    kind: 'receipt',
    statement: receipt as Statement,
    sign: (s: Statement) => signReceipt(s as Receipt, beijingSigns),
    verify: (input: unknown, me = 'us') => verifyReceiptSignature(input, cn.card, me),
    body: (signed: object) => (signed as { receipt: Statement }).receipt,
    wrap: (s: Statement, sig: string) => ({ receipt: s, sig }),
  },
  {
    kind: 'heartbeat',
    statement: heartbeat as Statement,
    sign: (s: Statement) => signHeartbeat(s as Heartbeat, beijingSigns),
    verify: (input: unknown, me = 'us') => verifyHeartbeat(input, cn.card, me),
    body: (signed: object) => (signed as { heartbeat: Statement }).heartbeat,
    wrap: (s: Statement, sig: string) => ({ heartbeat: s, sig }),
  },
] as const;

describe.each(kinds)('a $kind from Beijing', (t) => {
  it('is accepted by Washington as signed, and after a trip through JSON text', () => {
    const signed = t.sign(t.statement);
    expect(t.body(t.verify(signed))).toEqual(t.statement);
    expect(t.body(t.verify(JSON.parse(JSON.stringify(signed))))).toEqual(t.statement);
  });

  it.each([
    ['E_MALFORMED', 'an unknown member', (s: Statement) => ({ ...s, extra: 1 })],
    ['E_MALFORMED', 'a missing member', (s: Statement) => ({ ...s, kid: undefined })],
    ['E_UNSUPPORTED_VERSION', 'version 2', (s: Statement) => ({ ...s, v: 2 })],
    [
      'E_UNKNOWN_PARTY',
      'a sender other than the pinned card',
      (s: Statement) => ({ ...s, from: 'eu' }),
    ],
    ['E_NOT_FOR_ME', 'another addressee', (s: Statement) => ({ ...s, to: 'eu' })],
    [
      'E_UNKNOWN_KEY',
      'the identity key as signer',
      (s: Statement) => ({ ...s, kid: onlyKey(cn.card, 'identity').kid }),
    ],
    ['E_UNKNOWN_KEY', 'a key not in the card', (s: Statement) => ({ ...s, kid: 'f'.repeat(32) })],
  ] as const)('is refused with %s for %s, even when signed', (code, _what, change) => {
    const forged = JSON.parse(JSON.stringify(change(t.statement)));
    expect(codeOf(() => t.verify(t.sign(forged)))).toBe(code);
  });

  it('is refused with E_BAD_SIGNATURE when any member changes after signing', () => {
    const signed = t.sign(t.statement);
    const changes: Partial<Record<string, unknown>> = {
      issued: '2025-03-01T12:00:01.251Z',
      entries: [],
      sent: '2025-03-01T12:00:02.001Z',
      path: 'relay-geneva',
      nonce: toBase64url(new Uint8Array(16).fill(9)),
      echo: toBase64url(new Uint8Array(16).fill(9)),
      received: { contiguous: 4, ranges: [] },
      checkpoint: `${t.statement.checkpoint} `,
      card: 2,
    };
    let tried = 0;
    for (const member of Object.keys(t.statement)) {
      if (['v', 'from', 'to', 'kid'].includes(member)) continue; // each has its own code above
      const change = member === 'entries' ? [{ ...receipt.entries[0], index: 1 }] : changes[member];
      const forged = t.wrap(
        { ...t.statement, [member]: change } as Statement,
        (signed as { sig: string }).sig,
      );
      expect(
        codeOf(() => t.verify(forged)),
        member,
      ).toBe('E_BAD_SIGNATURE');
      tried++;
    }
    expect(tried).toBe(Object.keys(t.statement).length - 4);
  });

  it('is refused when signed by another key of Beijing, or by Washington', () => {
    for (const key of [cn.node.signer('identity').key, us.node.signer('signing').key]) {
      const sig = ed25519Sign(key, signedBytes(t.kind, jcsBytes(t.statement)));
      expect(codeOf(() => t.verify(t.wrap(t.statement, toBase64url(sig))))).toBe('E_BAD_SIGNATURE');
    }
  });
});

describe('signature contexts', () => {
  it('keep a signature of one kind from verifying as any other', () => {
    const payload = jcsBytes(heartbeat);
    const pub = fromBase64url(onlyKey(cn.card, 'signing').pub);
    const all = Object.keys(SIGNATURE_CONTEXTS) as SignatureKind[];
    for (const signedAs of all) {
      const sig = ed25519Sign(beijingSigns, signedBytes(signedAs, payload));
      for (const checkedAs of all)
        expect(
          ed25519Verify(pub, signedBytes(checkedAs, payload), sig),
          `${signedAs}→${checkedAs}`,
        ).toBe(signedAs === checkedAs);
    }
  });

  it('are the strings of docs/protocol.md, each ending in a newline', () => {
    expect(SIGNATURE_CONTEXTS).toEqual({
      card: 'hotline/v1/card\n',
      envelope: 'hotline/v1/envelope\n',
      receipt: 'hotline/v1/receipt\n',
      heartbeat: 'hotline/v1/heartbeat\n',
      relay: 'hotline/v1/relay-request\n',
      recovery: 'hotline/v1/recovery-request\n',
      recoveryAnswer: 'hotline/v1/recovery-answer\n',
    });
  });
});
