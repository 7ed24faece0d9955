/**
 * Key files at rest: a private key's secret sealed with a passphrase — scrypt (RFC 7914) derives a
 * 256-bit key, AES-256-GCM (NIST SP 800-38D) encrypts the secret with the file's public fields
 * (purpose, alg, kid, pub) as associated data, so a sealed secret cannot be moved to another file.
 *
 * The passphrase comes from `HOTLINE_KEY_PASSPHRASE_FILE` (a file), `HOTLINE_KEY_PASSPHRASE`, or a
 * systemd credential named `hotline-key-passphrase` ($CREDENTIALS_DIRECTORY, LoadCredential=).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';

/** scrypt's cost: N = 2^17, r = 8, p = 1 (OWASP's choice; 128 MiB, about 0.3 s on one core). */
export const SCRYPT = { n: 2 ** 17, r: 8, p: 1 } as const;

export interface Sealed {
  kdf: 'scrypt';
  n: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  /** Ciphertext and the 16-byte GCM tag, base64url. */
  ct: string;
}

/** A key file could not be opened: missing, wrong passphrase, or not the owner's alone. */
export class KeyFileError extends Error {
  constructor(
    readonly code: 'E_KEY_FILE_EXPOSED' | 'E_KEY_PASSPHRASE',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'KeyFileError';
  }
}

/** One derivation per salt and passphrase per process: every file of one `init` shares a salt. */
const derived = new Map<string, Buffer>();

function derive(passphrase: string, salt: Uint8Array, params: { n: number; r: number; p: number }) {
  const id = `${toBase64url(salt)}:${params.n}:${params.r}:${params.p}:${passphrase}`;
  let key = derived.get(id);
  if (!key) {
    key = scryptSync(passphrase.normalize('NFKC'), salt, 32, {
      N: params.n,
      r: params.r,
      p: params.p,
      maxmem: 256 * params.n * params.r + 16 * 1024 * 1024,
    });
    derived.set(id, key);
  }
  return key;
}

/** Whether the node's keys in the keys folder `dir` are sealed (a key made later is sealed too). */
export function keysSealed(dir: string): boolean {
  const identity = join(dir, 'identity.key');
  return existsSync(identity) && 'sealed' in JSON.parse(readFileSync(identity, 'utf8'));
}

/** A fresh salt for one set of key files. */
export const newSalt = () => new Uint8Array(randomBytes(16));

export function seal(
  secret: Uint8Array,
  passphrase: string,
  aad: string,
  salt: Uint8Array = newSalt(),
): Sealed {
  const key = derive(passphrase, salt, SCRYPT);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  return {
    kdf: 'scrypt',
    ...SCRYPT,
    salt: toBase64url(salt),
    iv: toBase64url(iv),
    ct: toBase64url(ct),
  };
}

export function unseal(sealed: Sealed, passphrase: string, aad: string, file: string): Uint8Array {
  if (sealed.kdf !== 'scrypt' || sealed.n > 2 ** 20 || sealed.r > 32 || sealed.p > 16)
    throw new KeyFileError('E_KEY_PASSPHRASE', `${file}: an unknown or too costly key derivation`);
  const key = derive(passphrase, fromBase64url(sealed.salt), sealed);
  const data = Buffer.from(fromBase64url(sealed.ct));
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, fromBase64url(sealed.iv));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return new Uint8Array(
      Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]),
    );
  } catch {
    throw new KeyFileError(
      'E_KEY_PASSPHRASE',
      `${file}: the passphrase is wrong (or the file was altered)`,
    );
  }
}

/** The key passphrase from the environment or a systemd credential; undefined if none is set. */
export function keyPassphrase(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return secretFromEnvironment('HOTLINE_KEY_PASSPHRASE', 'hotline-key-passphrase', env);
}

/**
 * A secret given to the node from outside: the file named by `<variable>_FILE`, the variable
 * itself, or the systemd credential `credential` ($CREDENTIALS_DIRECTORY, LoadCredential=).
 */
export function secretFromEnvironment(
  variable: string,
  credential: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const file = env[`${variable}_FILE`];
  if (file) return secretFile(file);
  const value = env[variable];
  if (value) return value;
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials && existsSync(join(credentials, credential)))
    return secretFile(join(credentials, credential));
  return undefined;
}

/** A one-line secret file's content, without its final newline. */
export const secretFile = (path: string) => readFileSync(path, 'utf8').replace(/\r?\n$/, '');
