/**
 * A node's TLS identity for pinned mutual TLS between nodes (docs/protocol.md § Transport): an
 * ECDSA P-256 key made by Node's crypto, a self-signed certificate around it (@peculiar/x509),
 * and the pin the party card carries — SHA-256 of the certificate's SubjectPublicKeyInfo. No CA
 * is involved: a certificate is trusted exactly when its SPKI hashes to a pinned card's pin.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { sha256, toHex } from '../protocol/encoding.ts';

/** The key and certificate a node serves and presents, PEM, and the pin of the certificate. */
export interface TlsIdentity {
  key: string;
  cert: string;
  pin: string;
}

/** What a card says about its node's TLS: the pin, lower-case hex. */
export interface TlsPin {
  spki: string;
}

/** The card's `ext` member that carries the pin. */
export const TLS_EXT = 'tls';

/** Validity of the self-signed certificate: the pin, not the dates, is what peers check. */
const CERT_YEARS = 20;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Makes a TLS key and a self-signed certificate naming the party. */
export async function makeTlsIdentity(party: string, now = new Date()): Promise<TlsIdentity> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: toHex(webcrypto.getRandomValues(new Uint8Array(16))).replace(/^[89a-f]/, '1'),
    name: `CN=hotline ${party}`,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + CERT_YEARS * 365 * 24 * 3600_000),
    signingAlgorithm: ALG,
    keys,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  const pem = cert.toString('pem');
  return { key, cert: `${pem.trimEnd()}\n`, pin: spkiPin(pem) };
}

/** The pin of a certificate (PEM or DER): hex(SHA-256(DER SubjectPublicKeyInfo)). */
export function spkiPin(cert: string | Uint8Array): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return toHex(sha256(spki));
}

/** The pin a card carries, when it carries a well-formed one. */
export function cardPin(ext: Record<string, unknown> | undefined): string | undefined {
  const value = ext?.[TLS_EXT] as Partial<TlsPin> | undefined;
  return typeof value?.spki === 'string' && /^[0-9a-f]{64}$/.test(value.spki)
    ? value.spki
    : undefined;
}
