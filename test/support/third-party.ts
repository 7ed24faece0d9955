/**
 * A third party's opener of sealed bodies, written from docs/security.md § Key files alone: no
 * Hotline code, only node:crypto, @hpke/core, @hpke/hybridkem-x-wing and `canonicalize` (RFC 8785).
 */
import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;
const b64url = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/** What a third party needs of an envelope: the signed header and the sealed part. */
export interface SealedEnvelope {
  header: { from: string; bodyHash: string } & Record<string, unknown>;
  sealed: { suite: string; epoch: { id: string; enc: string }; ct: string };
}

/** Step 2: the secret of a key file, in the clear or sealed with the passphrase. */
export function secretOfKeyFile(text: string, passphrase?: string): Uint8Array {
  const file = JSON.parse(text);
  if (file.secret) return b64url(file.secret);
  if (passphrase === undefined) throw new Error('the key file is sealed: a passphrase is needed');
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

/**
 * Steps 3–4: `JCS(body)` of an envelope addressed to party `to`, opened with the secret of its
 * sealing key; throws when it does not open or its hash is not the header's `bodyHash`.
 */
export async function openSealedBody(
  envelope: SealedEnvelope,
  to: string,
  secret: Uint8Array,
): Promise<unknown> {
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
  if (createHash('sha256').update(plaintext).digest('hex') !== header.bodyHash)
    throw new Error('the opened body does not match the header’s bodyHash');
  return JSON.parse(plaintext.toString('utf8'));
}

/** `hex(SHA-256(JCS(sealed)))`, as a ledger leaf's `sealedHash`. */
export function sealedHashOf(sealed: unknown): string {
  return createHash('sha256').update(canonicalize(sealed)).digest('hex');
}
