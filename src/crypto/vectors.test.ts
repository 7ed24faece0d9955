/**
 * The golden vectors of test/vectors/*.json (written by test/vectors/generate.ts), checked twice:
 *
 *   1. the reference code still produces every byte, hash, signature and key id from the fixed
 *      inputs, and accepts what it produced;
 *   2. a second code path agrees without the reference code: Ed25519 and X25519 from
 *      @noble/curves, SHA-256 and HKDF from @noble/hashes, AES-256-GCM from WebCrypto, canonical
 *      JSON from a few lines below, and HPKE's DHKEM(X25519) key schedule (RFC 9180) spelled out.
 *
 * A silent change to any format fails here.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import cardsVector from '../../test/vectors/cards.json' with { type: 'json' };
import envelopesVector from '../../test/vectors/envelopes.json' with { type: 'json' };
import keysVector from '../../test/vectors/keys.json' with { type: 'json' };
import leavesVector from '../../test/vectors/leaves.json' with { type: 'json' };
import statementsVector from '../../test/vectors/statements.json' with { type: 'json' };
import { Body } from '../protocol/body.ts';
import type { Card, KeyAlg, KeyPurpose, SignedCard } from '../protocol/card.ts';
import {
  concatBytes,
  fromBase64url,
  fromHex,
  sha256,
  toBase64url,
  toHex,
  utf8,
} from '../protocol/encoding.ts';
import type { Envelope, Header } from '../protocol/envelope.ts';
import type { Heartbeat } from '../protocol/heartbeat.ts';
import { jcs } from '../protocol/jcs.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { parseWire } from '../protocol/validate.ts';
import { fingerprint, signCard, verifyCard } from './card.ts';
import { LABELS, SIGNATURE_CONTEXTS } from './context.ts';
import { privateKeyObject } from './ed25519.ts';
import { sealMessageFor } from './envelope.ts';
import { EpochCache } from './epochs.ts';
import { ed25519Key, keyId, sealingKey } from './keys.ts';
import { receiveEnvelope } from './receive.ts';
import {
  deriveSealingKey,
  epochInfo,
  messageKey,
  openRecipientEpoch,
  openSenderEpoch,
  type SenderEpoch,
  type SuiteName,
} from './seal.ts';
import {
  signHeartbeat,
  signReceipt,
  verifyHeartbeat,
  verifyReceiptSignature,
} from './statements.ts';

interface KeyVector {
  kid: string;
  purpose: string;
  alg: string;
  pub: string;
  name?: string;
  seed?: string;
  ikm?: string;
  secret?: string;
}
const parties = keysVector.parties as Record<string, KeyVector[]>;
const cards = cardsVector.cards as Record<
  string,
  { card: Card; jcs: string; signed: SignedCard; fingerprintDigest: string; fingerprint: string }
>;

function keyOf(party: string, purpose: string, alg?: string): KeyVector {
  const key = parties[party]?.find((k) => k.purpose === purpose && (!alg || k.alg === alg));
  if (!key) throw new Error(`no ${purpose} key for ${party}`);
  return key;
}
const seedOf = (party: string, purpose: string) => fromHex(keyOf(party, purpose).seed ?? '');
const pubOf = (party: string, purpose: string, alg?: string) =>
  fromBase64url(keyOf(party, purpose, alg).pub);

/** A second canonical JSON, enough for these documents: strings, integers, booleans, null. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error('not an integer');
  return JSON.stringify(value);
}

const noble = {
  sha256: (...parts: Uint8Array[]) => nobleSha256(concatBytes(...parts)),
  verify: (sig: Uint8Array, message: Uint8Array, pub: Uint8Array) =>
    ed25519.verify(sig, message, pub, { zip215: false }),
  signed: (kind: keyof typeof SIGNATURE_CONTEXTS, text: string) =>
    utf8(`${SIGNATURE_CONTEXTS[kind]}${text}`),
};

// RFC 9180 §4 and §7.1: LabeledExtract, LabeledExpand, DHKEM(X25519, HKDF-SHA256) = 0x0020.
const KEM_SUITE = concatBytes(utf8('KEM'), Uint8Array.of(0x00, 0x20));
const HPKE_SUITE = concatBytes(utf8('HPKE'), Uint8Array.of(0x00, 0x20, 0x00, 0x01, 0x00, 0x02));
const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
  extract(nobleSha256, concatBytes(utf8('HPKE-v1'), suite, utf8(label), ikm), salt);
const labeledExpand = (
  suite: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
) =>
  expand(
    nobleSha256,
    prk,
    concatBytes(Uint8Array.of(0, length), utf8('HPKE-v1'), suite, utf8(label), info),
    length,
  );
const none = new Uint8Array(0);
/** DeriveKeyPair(ikm) of DHKEM(X25519): the private key. */
const deriveX25519 = (ikm: Uint8Array) =>
  labeledExpand(KEM_SUITE, labeledExtract(KEM_SUITE, none, 'dkp_prk', ikm), 'sk', none, 32);
/** SetupBaseS with a fixed ephemeral key, then Export(context, 32). */
function hpkeExport(skE: Uint8Array, pkR: Uint8Array, info: Uint8Array, context: Uint8Array) {
  const enc = x25519.getPublicKey(skE);
  const dh = x25519.getSharedSecret(skE, pkR);
  const eaePrk = labeledExtract(KEM_SUITE, none, 'eae_prk', dh);
  const shared = labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', concatBytes(enc, pkR), 32);
  const keyScheduleContext = concatBytes(
    Uint8Array.of(0x00),
    labeledExtract(HPKE_SUITE, none, 'psk_id_hash', none),
    labeledExtract(HPKE_SUITE, none, 'info_hash', info),
  );
  const secret = labeledExtract(HPKE_SUITE, shared, 'secret', none);
  const exporter = labeledExpand(HPKE_SUITE, secret, 'exp', keyScheduleContext, 32);
  return { enc, secret: labeledExpand(HPKE_SUITE, exporter, 'sec', context, 32) };
}

async function aesGcmOpen(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array) {
  const cryptoKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: new Uint8Array(12), additionalData: aad, tagLength: 128 },
    cryptoKey,
    sealed,
  );
  return new Uint8Array(plain);
}

const messages = envelopesVector.messages;

describe('golden vectors: keys', () => {
  const all = Object.entries(parties).flatMap(([party, keys]) =>
    keys.map((k) => ({ party, ...k })),
  );

  it.each(all)('$party $purpose $alg: the code derives the same key and id', async (k) => {
    if (k.alg === 'ed25519') {
      const { entry } = ed25519Key(k.purpose as KeyPurpose, fromHex(k.seed ?? ''), k.name);
      expect(entry).toEqual({
        kid: k.kid,
        purpose: k.purpose,
        alg: k.alg,
        pub: k.pub,
        ...(k.name ? { name: k.name } : {}),
      });
    } else {
      const pair = await deriveSealingKey(k.alg as SuiteName, fromHex(k.ikm ?? ''));
      expect(toHex(pair.secret)).toBe(k.secret);
      expect((await sealingKey(k.alg as SuiteName, pair)).entry).toEqual({
        kid: k.kid,
        purpose: 'sealing',
        alg: k.alg,
        pub: k.pub,
      });
    }
    expect(keyId(k.alg as KeyAlg, fromBase64url(k.pub))).toBe(k.kid);
  });

  it.each(all)('$party $purpose $alg: noble agrees on the public key and the kid', (k) => {
    const pub = fromBase64url(k.pub);
    if (k.alg === 'ed25519') expect(ed25519.getPublicKey(fromHex(k.seed ?? ''))).toEqual(pub);
    if (k.alg === 'x25519') {
      const secret = deriveX25519(fromHex(k.ikm ?? ''));
      expect(toHex(secret)).toBe(k.secret);
      expect(x25519.getPublicKey(secret)).toEqual(pub);
    }
    const digest = noble.sha256(utf8(`hotline/v1/kid\n${k.alg}\n`), pub);
    expect(toHex(digest.subarray(0, 16))).toBe(k.kid);
  });

  it('lists the labels and contexts of docs/protocol.md', () => {
    expect(keysVector.labels).toEqual({ ...SIGNATURE_CONTEXTS, ...LABELS });
  });
});

describe('golden vectors: cards', () => {
  it.each(Object.entries(cards))(
    '%s: the code signs, verifies and fingerprints it the same',
    (party, v) => {
      expect(jcs(v.card)).toBe(v.jcs);
      expect(signCard(v.card, privateKeyObject(seedOf(party, 'identity')))).toEqual(v.signed);
      expect(verifyCard(v.signed)).toEqual(v.signed);
      expect(fingerprint(v.card)).toBe(v.fingerprint);
    },
  );

  it.each(Object.entries(cards))(
    '%s: noble agrees on the signature and the fingerprint',
    (party, v) => {
      expect(canonical(v.card)).toBe(v.jcs);
      expect(
        noble.verify(
          fromBase64url(v.signed.sig),
          noble.signed('card', v.jcs),
          pubOf(party, 'identity'),
        ),
      ).toBe(true);
      const digest = noble.sha256(
        utf8(`hotline/v1/fingerprint\n${party}\n`),
        pubOf(party, 'identity'),
        pubOf(party, 'recovery'),
      );
      expect(toHex(digest)).toBe(v.fingerprintDigest);
      const digits = (BigInt(`0x${toHex(digest)}`) % 10n ** 40n).toString().padStart(40, '0');
      expect(v.fingerprint).toBe(digits.replace(/(\d{5})(?=\d)/g, '$1 '));
    },
  );
});

describe.each(messages)('golden vectors: $name', (m) => {
  const body = parseWire(Body, m.body, 'vector body');
  const header = m.header as Header;

  it('the code seals it to the same bytes', async () => {
    expect(jcs(body)).toBe(m.bodyJcs);
    expect(toHex(sha256(utf8(m.bodyJcs)))).toBe(m.bodyHash);
    const epochs: Record<string, SenderEpoch> = {};
    for (const r of m.recipients) {
      const epochId = fromHex(r.epoch.id);
      expect(toHex(epochInfo(header.from, r.to, epochId))).toBe(r.epoch.info);
      const epoch = await openSenderEpoch(
        r.suite as SuiteName,
        pubOf(r.to, 'sealing', r.suite),
        header.from,
        r.to,
        epochId,
        fromHex(r.epoch.ekm),
      );
      expect(toHex(epoch.enc)).toBe(r.epoch.enc);
      expect(toHex(epoch.secret)).toBe(r.epoch.secret);
      expect(toHex(messageKey(epoch.secret, fromHex(m.headerHash)))).toBe(r.messageKey);
      epochs[r.to] = epoch;
    }
    const sealed = sealMessageFor(
      {
        kind: header.kind,
        id: header.id,
        from: header.from,
        seq: header.seq,
        sent: new Date(header.sent),
        kid: header.kid,
      },
      body,
      privateKeyObject(fromHex(m.signer.seed)),
      epochs,
    );
    expect(sealed.header).toEqual(header);
    expect(jcs(sealed.header)).toBe(m.headerJcs);
    expect(sealed.headerHash).toBe(m.headerHash);
    expect(sealed.sig).toBe(m.sig);
    for (const r of m.recipients) {
      expect(sealed.envelopes[r.to]).toEqual(r.envelope);
      expect(jcs(r.sealed)).toBe(r.sealedJcs);
      expect(toHex(sha256(utf8(r.sealedJcs)))).toBe(r.sealedHash);
    }
  });

  it('each recipient opens its own envelope to the same body', async () => {
    for (const r of m.recipients) {
      const secret = (
        await deriveSealingKey(
          r.suite as SuiteName,
          fromHex(keyOf(r.to, 'sealing', r.suite).ikm ?? ''),
        )
      ).secret;
      const opened = await openRecipientEpoch(
        r.suite as SuiteName,
        secret,
        header.from,
        r.to,
        fromHex(r.epoch.id),
        fromHex(r.epoch.enc),
      );
      expect(toHex(opened)).toBe(r.epoch.secret);
      const result = await receiveEnvelope(r.envelope, {
        me: r.to,
        peer: (p) =>
          p === header.from ? { card: cards[p]?.card as Card, retired: [] } : undefined,
        sealingSecrets: (suite) => (suite === r.suite ? [secret] : []),
        epochs: new EpochCache(),
        seenId: () => undefined,
        seqOwner: () => undefined,
      });
      expect(result).toMatchObject({ status: 'accepted', headerHash: m.headerHash, body });
    }
  });

  it('noble, WebCrypto and the second JSON agree on every hash, signature and ciphertext', async () => {
    expect(canonical(m.body)).toBe(m.bodyJcs);
    expect(canonical(m.header)).toBe(m.headerJcs);
    expect(toHex(noble.sha256(utf8(m.bodyJcs)))).toBe(m.bodyHash);
    expect(toHex(noble.sha256(utf8(m.headerJcs)))).toBe(m.headerHash);
    expect(
      noble.verify(
        fromBase64url(m.sig),
        noble.signed('envelope', m.headerJcs),
        pubOf(header.from, 'signing'),
      ),
    ).toBe(true);
    expect(ed25519.getPublicKey(fromHex(m.signer.seed))).toEqual(pubOf(header.from, 'signing'));
    for (const r of m.recipients) {
      const envelope = r.envelope as Envelope;
      expect(envelope.header).toEqual(m.header);
      expect(envelope.sig).toBe(m.sig);
      expect(envelope.sealed).toEqual(r.sealed);
      expect(r.sealed.epoch).toEqual({
        id: toBase64url(fromHex(r.epoch.id)),
        enc: toBase64url(fromHex(r.epoch.enc)),
      });
      expect(canonical(r.sealed)).toBe(r.sealedJcs);
      expect(toHex(noble.sha256(utf8(r.sealedJcs)))).toBe(r.sealedHash);
      expect(r.epoch.info).toBe(
        toHex(utf8(`hotline/v1/epoch\n${header.from}\n${r.to}\n`)) + r.epoch.id,
      );
      const key = expand(
        nobleSha256,
        fromHex(r.epoch.secret),
        concatBytes(utf8('hotline/v1/msg\n'), fromHex(m.headerHash)),
        32,
      );
      expect(toHex(key)).toBe(r.messageKey);
      const plain = await aesGcmOpen(key, utf8(m.headerJcs), fromBase64url(r.sealed.ct));
      expect(new TextDecoder().decode(plain)).toBe(m.bodyJcs);
      if (r.suite === 'x25519') {
        const hpke = hpkeExport(
          deriveX25519(fromHex(r.epoch.ekm)),
          pubOf(r.to, 'sealing', 'x25519'),
          fromHex(r.epoch.info),
          utf8('hotline/v1/epoch-secret\n'),
        );
        expect(toHex(hpke.enc)).toBe(r.epoch.enc);
        expect(toHex(hpke.secret)).toBe(r.epoch.secret);
      } else {
        // X-Wing's enc ends in the X25519 ephemeral public key, from the second half of ekm.
        expect(toHex(x25519.getPublicKey(fromHex(r.epoch.ekm).subarray(32)))).toBe(
          r.epoch.enc.slice(-64),
        );
      }
    }
  });
});

describe('golden vectors: receipt and heartbeat', () => {
  const signer = privateKeyObject(fromHex(statementsVector.signer.seed));
  const { receipt, heartbeat } = statementsVector;
  const beijing = cards.cn?.card as Card;

  it('the code signs them the same and Washington accepts them', () => {
    expect(jcs(receipt.signed.receipt)).toBe(receipt.jcs);
    expect(signReceipt(receipt.signed.receipt as Receipt, signer)).toEqual(receipt.signed);
    expect(verifyReceiptSignature(receipt.signed, beijing, 'us')).toEqual(receipt.signed);
    expect(jcs(heartbeat.signed.heartbeat)).toBe(heartbeat.jcs);
    expect(signHeartbeat(heartbeat.signed.heartbeat as Heartbeat, signer)).toEqual(
      heartbeat.signed,
    );
    expect(verifyHeartbeat(heartbeat.signed, beijing, 'us')).toEqual(heartbeat.signed);
  });

  it('noble agrees on both signatures', () => {
    const pub = pubOf('cn', 'signing');
    expect(ed25519.getPublicKey(fromHex(statementsVector.signer.seed))).toEqual(pub);
    expect(canonical(receipt.signed.receipt)).toBe(receipt.jcs);
    expect(canonical(heartbeat.signed.heartbeat)).toBe(heartbeat.jcs);
    expect(
      noble.verify(fromBase64url(receipt.signed.sig), noble.signed('receipt', receipt.jcs), pub),
    ).toBe(true);
    expect(
      noble.verify(
        fromBase64url(heartbeat.signed.sig),
        noble.signed('heartbeat', heartbeat.jcs),
        pub,
      ),
    ).toBe(true);
  });

  it("cover the two envelopes Beijing logged, with its log key's checkpoint of them", () => {
    const entries = receipt.signed.receipt.entries;
    expect(entries.map((e) => [e.id, e.headerHash])).toEqual(
      messages.slice(0, 2).map((m) => [m.header.id, m.headerHash]),
    );
    // The checkpoint, read by hand (C2SP tlog-checkpoint and signed-note).
    const note = receipt.signed.receipt.checkpoint;
    const [text, signatures] = note.split('\n\n') as [string, string];
    const [origin, size, root] = text.split('\n');
    expect([origin, size]).toEqual(['hotline/cn/log', '2']);
    expect(Buffer.from(root ?? '', 'base64').toString('hex')).toBe(leavesVector.tree.root);
    const line = /^— (\S+) (\S+)\n$/.exec(signatures);
    expect(line?.[1]).toBe(keyOf('cn', 'log').name);
    const raw = new Uint8Array(Buffer.from(line?.[2] ?? '', 'base64'));
    const logPub = pubOf('cn', 'log');
    const noteKeyId = noble.sha256(utf8(`${origin}\n`), Uint8Array.of(0x01), logPub).subarray(0, 4);
    expect(raw.subarray(0, 4)).toEqual(noteKeyId);
    expect(noble.verify(raw.subarray(4), utf8(`${text}\n`), logPub)).toBe(true);
    expect(heartbeat.signed.heartbeat.checkpoint).toBe(note);
    // Each entry's proof is the other leaf: root = SHA-256(0x01 ‖ left ‖ right).
    for (const entry of entries) {
      const mine = fromHex(leavesVector.leaves[entry.index]?.hash ?? '');
      const [sibling] = entry.proof.map(fromHex) as [Uint8Array];
      const pair = entry.index === 0 ? [mine, sibling] : [sibling, mine];
      expect(toHex(noble.sha256(Uint8Array.of(1), ...pair))).toBe(leavesVector.tree.root);
    }
  });
});

describe('golden vectors: ledger leaves', () => {
  it.each(leavesVector.leaves)('$name: JCS and leaf hash', (v) => {
    expect(jcs(v.leaf)).toBe(v.jcs);
    expect(canonical(v.leaf)).toBe(v.jcs);
    expect(toHex(sha256(Uint8Array.of(0), utf8(v.jcs)))).toBe(v.hash);
    expect(toHex(noble.sha256(Uint8Array.of(0), utf8(v.jcs)))).toBe(v.hash);
  });

  it('log envelopes by header, signature and the hash of the sealed part only', () => {
    const [received, , released] = leavesVector.leaves;
    const [report] = messages;
    const toBeijing = report?.recipients[0];
    expect(received?.leaf).toEqual({
      leaf: 'envelope',
      dir: 'in',
      at: receipt().receivedAt,
      header: report?.header,
      sig: report?.sig,
      sealedHash: toBeijing?.sealedHash,
    });
    expect(released?.leaf).toMatchObject({
      dir: 'out',
      at: report?.header.sent,
      sealedHash: toBeijing?.sealedHash,
    });
    expect(JSON.stringify(leavesVector.leaves)).not.toContain(report?.bodyJcs.slice(20, 60));
  });

  function receipt() {
    const [entry] = statementsVector.receipt.signed.receipt.entries;
    if (!entry) throw new Error('no entry');
    return entry;
  }
});
