/**
 * docs/security.md § Key files: a third party holding a node's key files (and their passphrase)
 * opens the sealed bodies addressed to that node with the recipe written there, using nothing of
 * Hotline's code — node:crypto for scrypt, AES-GCM and HMAC, @hpke/core and
 * @hpke/hybridkem-x-wing for HPKE, `canonicalize` for RFC 8785 JCS.
 */
import { createDecipheriv, createHash, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { afterEach, describe, expect, it } from 'vitest';
import { body as makeBody } from '../../../test/support/world.ts';
import { privateKeyObject } from '../../crypto/ed25519.ts';
import { sealMessageFor } from '../../crypto/envelope.ts';
import { generateNodeKeys, type PrivateKey } from '../../crypto/keys.ts';
import { openSenderEpoch } from '../../crypto/seal.ts';
import type { Envelope } from '../../protocol/envelope.ts';
import { writeKeyFiles } from './keyfiles.ts';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;
const PASSPHRASE = 'correct horse battery staple, twice';
const b64url = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/** Step 1: the secret of a key file, in the clear or sealed with the passphrase. */
function secretOfKeyFile(text: string, passphrase: string): Uint8Array {
  const file = JSON.parse(text);
  if (file.secret) return b64url(file.secret);
  const { n, r, p, salt, iv, ct } = file.sealed;
  const key = scryptSync(passphrase.normalize('NFKC'), b64url(salt), 32, {
    N: n,
    r,
    p,
    maxmem: 256 * n * r + 16 * 1024 * 1024,
  });
  const data = b64url(ct);
  const decipher = createDecipheriv('aes-256-gcm', key, b64url(iv));
  decipher.setAAD(Buffer.from(JSON.stringify([file.purpose, file.alg, file.kid, file.pub])));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return new Uint8Array(Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]));
}

/** Steps 2–4: the body of an envelope addressed to `to`, opened with its sealing key's secret. */
async function openSealedBody(envelope: Envelope, to: string, secret: Uint8Array) {
  const { header, sealed } = envelope;
  const suite = new CipherSuite({
    kem: sealed.suite === 'x-wing' ? new XWing() : new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  const info = Buffer.concat([
    Buffer.from(`hotline/v1/epoch\n${header.from}\n${to}\n`),
    b64url(sealed.epoch.id),
  ]);
  const context = await suite.createRecipientContext({
    recipientKey: await suite.kem.deserializePrivateKey(secret),
    enc: b64url(sealed.epoch.enc),
    info,
  });
  const epochSecret = new Uint8Array(
    await context.export(new TextEncoder().encode('hotline/v1/epoch-secret\n'), 32),
  );
  const headerBytes = Buffer.from(canonicalize(header));
  const headerHash = createHash('sha256').update(headerBytes).digest();
  const key = createHmac('sha256', epochSecret)
    .update(Buffer.concat([Buffer.from('hotline/v1/msg\n'), headerHash, Buffer.of(1)]))
    .digest();
  const data = b64url(sealed.ct);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.alloc(12));
  decipher.setAAD(headerBytes);
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plaintext = Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]);
  // The header's bodyHash is SHA-256 of exactly these bytes.
  expect(createHash('sha256').update(plaintext).digest('hex')).toBe(header.bodyHash);
  return JSON.parse(plaintext.toString('utf8'));
}

describe('a third party holding a node’s keys opens its sealed bodies', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each(['x-wing', 'x25519'] as const)(
    'sealed to the %s key, from key files sealed with a passphrase',
    async (suite) => {
      root = mkdtempSync(join(tmpdir(), 'hotline-open-'));
      const cn = await generateNodeKeys('cn');
      writeKeyFiles(join(root, 'keys'), cn, PASSPHRASE);
      const us = await generateNodeKeys('us');
      const signing = us.find((k) => k.entry.purpose === 'signing') as PrivateKey;
      const sealingOf = (k: PrivateKey) => k.entry.purpose === 'sealing' && k.entry.alg === suite;
      const cnSealing = cn.find(sealingOf) as PrivateKey;
      const epoch = await openSenderEpoch(
        suite,
        b64url(cnSealing.entry.pub),
        'us',
        'cn',
        new Uint8Array(randomBytes(16)),
      );
      const body = makeBody({ text: { lang: 'en', body: 'Sealed for Beijing.' } });
      const message = sealMessageFor(
        {
          kind: 'message',
          id: '01937a8e-4f00-7000-8000-0000000000ab',
          from: 'us',
          seq: { cn: 1 },
          sent: new Date('2026-12-06T03:00:00Z'),
          kid: signing.entry.kid,
        },
        body,
        privateKeyObject(signing.secret),
        { cn: epoch },
      );
      const file = readFileSync(join(root, 'keys', `sealing-${suite}.key`), 'utf8');
      expect(JSON.parse(file)).not.toHaveProperty('secret');
      const secret = secretOfKeyFile(file, PASSPHRASE);
      const opened = await openSealedBody(message.envelopes.cn as Envelope, 'cn', secret);
      expect(opened).toEqual(body);
      expect(() => secretOfKeyFile(file, 'a wrong passphrase of some length')).toThrow();
    },
  );
});
