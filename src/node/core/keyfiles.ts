/**
 * Key files in a node's data folder (docs/protocol.md § Keys): each private key in
 * `<data>/keys/<purpose>.key` (JSON, mode 0600). The recovery key's private half is written once,
 * to `recovery-OFFLINE.key`, for the operator to move offline; the node never reads it.
 */
import { createPrivateKey } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ed25519Key, type PrivateKey } from '../../crypto/keys.ts';
import { spkiPin, type TlsIdentity } from '../../crypto/tls.ts';
import type { KeyAlg, KeyEntry, KeyPurpose } from '../../protocol/card.ts';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';
import { KeyFileError, keyPassphrase, newSalt, type Sealed, seal, unseal } from './keyseal.ts';
import { writeOutFileSync } from './out-file.ts';

interface KeyFile {
  purpose: KeyPurpose;
  alg: KeyAlg;
  kid: string;
  pub: string;
  name?: string;
  /** The secret in the clear, base64url; or, with a passphrase, `sealed` (./keyseal.ts). */
  secret?: string;
  sealed?: Sealed;
}

/** What a sealed secret is bound to: the public fields of its file. */
const aadOf = (e: { purpose: string; alg: string; kid: string; pub: string }) =>
  JSON.stringify([e.purpose, e.alg, e.kid, e.pub]);

function keyFileName(entry: KeyEntry): string {
  if (entry.purpose === 'recovery') return 'recovery-OFFLINE.key';
  return entry.purpose === 'sealing' ? `sealing-${entry.alg}.key` : `${entry.purpose}.key`;
}

/** A key file's text: the secret in the clear, or sealed with the passphrase. */
function keyFileText(key: PrivateKey, passphrase: string | undefined, salt: Uint8Array): string {
  const file: KeyFile = passphrase
    ? { ...key.entry, sealed: seal(key.secret, passphrase, aadOf(key.entry), salt) }
    : { ...key.entry, secret: toBase64url(key.secret) };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** The secret of a key file read back: in the clear, or unsealed with the passphrase. */
function secretOf(file: KeyFile, path: string, passphrase: () => string | undefined): Uint8Array {
  const { secret, sealed, ...entry } = file;
  if (secret !== undefined) return fromBase64url(secret);
  if (!sealed) throw new KeyFileError('E_KEY_PASSPHRASE', `${path} holds no secret`);
  const phrase = passphrase();
  if (phrase === undefined)
    throw new KeyFileError(
      'E_KEY_PASSPHRASE',
      `${path} is sealed with a passphrase: set HOTLINE_KEY_PASSPHRASE_FILE (or HOTLINE_KEY_PASSPHRASE, or the systemd credential hotline-key-passphrase)`,
    );
  return unseal(sealed, phrase, aadOf(entry), path);
}

/**
 * Writes each key to its own file, readable by the owner only; with a passphrase, each secret is
 * sealed (scrypt + AES-256-GCM). Refuses to overwrite.
 */
export function writeKeyFiles(dir: string, keys: readonly PrivateKey[], passphrase?: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const salt = newSalt();
  for (const key of keys) {
    const path = join(dir, keyFileName(key.entry));
    if (existsSync(path)) throw new Error(`key file ${path} already exists`);
    writeOutFileSync(path, keyFileText(key, passphrase, salt));
  }
}

const ONLINE_KEYS = [
  'identity.key',
  'signing.key',
  'log.key',
  'witness.key',
  'sealing-x-wing.key',
  'sealing-x25519.key',
];

/**
 * Reads the online keys (all but recovery, whose public entry comes from the card, and those of
 * the purposes `onToken`, which a PKCS#11 token holds: ./pkcs11.ts). A key file
 * in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=, named `hotline-<file>`) is taken before
 * the data folder's. A file that its group or others may read is refused (E_KEY_FILE_EXPOSED);
 * a sealed one needs the passphrase (E_KEY_PASSPHRASE).
 */
export function readKeyFiles(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
  env: NodeJS.ProcessEnv = process.env,
  onToken: readonly KeyPurpose[] = [],
): PrivateKey[] {
  const names = ONLINE_KEYS.filter((name) => !onToken.some((p) => name === `${p}.key`));
  return names.map((name) => readKeyFile(keyPath(dir, name, env), passphrase));
}

function readKeyFile(path: string, passphrase: () => string | undefined): PrivateKey {
  const file = JSON.parse(readFileSync(ownerOnly(path), 'utf8')) as KeyFile;
  const { secret: _secret, sealed: _sealed, ...entry } = file;
  return { entry, secret: secretOf(file, path, passphrase) };
}

/** A key file's path: in $CREDENTIALS_DIRECTORY (as `hotline-<name>`) when there, else `dir`. */
function keyPath(dir: string, name: string, env: NodeJS.ProcessEnv): string {
  const credential = env.CREDENTIALS_DIRECTORY
    ? join(env.CREDENTIALS_DIRECTORY, `hotline-${name}`)
    : undefined;
  return credential && existsSync(credential) ? credential : join(dir, name);
}

/** `path`, unless its group or others may read it (E_KEY_FILE_EXPOSED). */
function ownerOnly(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new KeyFileError(
      'E_KEY_FILE_EXPOSED',
      `${path} may be read by its group or others (mode ${mode.toString(8)}): run chmod 600 ${path} and consider the key exposed`,
    );
  return path;
}

/** A sealing key a rotation replaced, kept until nothing sealed to it can still arrive. */
const RETIRED_SEALING = /^retired-sealing-(x-wing|x25519)-[0-9a-f]{32}\.key$/;

function retiredFileName(entry: KeyEntry): string {
  return `retired-sealing-${entry.alg}-${entry.kid}.key`;
}

/** The retired sealing keys of the key folder, read with the same checks as the online keys. */
export function readRetiredSealingKeys(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
): PrivateKey[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => RETIRED_SEALING.test(name))
    .sort()
    .map((name) => readKeyFile(join(dir, name), passphrase));
}

/**
 * Erases a retired sealing key: its file overwritten with zeros, flushed, then removed, so the
 * secret is gone from the folder (and, on a file system that writes in place, from the disk).
 * Returns false when there was no such file.
 */
export function destroyRetiredSealingKey(dir: string, entry: KeyEntry): boolean {
  const path = join(dir, retiredFileName(entry));
  if (!existsSync(path)) return false;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(fstatSync(fd).size));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  return true;
}

/** The node's TLS key and certificate (docs/protocol.md § Transport). */
const TLS_KEY = 'tls.key';
const TLS_CERT = 'tls.crt';

/**
 * Writes the node's TLS key (PKCS#8 PEM, mode 0600; with a passphrase, encrypted with it by
 * Node's crypto as PKCS#8 PBES2 with AES-256-CBC) and its certificate.
 * Refuses to overwrite.
 */
export function writeTlsFiles(dir: string, tls: TlsIdentity, passphrase?: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = passphrase
    ? (createPrivateKey(tls.key).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase,
      }) as string)
    : tls.key;
  writeOutFileSync(join(dir, TLS_KEY), key);
  writeOutFileSync(join(dir, TLS_CERT), tls.cert, { mode: 0o644 });
}

/**
 * The node's TLS key and certificate, or undefined in a folder made before pinned TLS (until
 * `hotline rotate` makes them). The key file obeys the rules of the other key files: owner only,
 * and an encrypted one needs the key passphrase.
 */
export function readTlsFiles(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
  env: NodeJS.ProcessEnv = process.env,
): TlsIdentity | undefined {
  const keyFile = keyPath(dir, TLS_KEY, env);
  if (!existsSync(keyFile)) return undefined;
  const text = readFileSync(ownerOnly(keyFile), 'utf8');
  let key = text;
  if (text.includes('ENCRYPTED')) {
    const phrase = passphrase();
    if (phrase === undefined)
      throw new KeyFileError(
        'E_KEY_PASSPHRASE',
        `${keyFile} is sealed with a passphrase: set HOTLINE_KEY_PASSPHRASE_FILE (or HOTLINE_KEY_PASSPHRASE, or the systemd credential hotline-key-passphrase)`,
      );
    try {
      key = createPrivateKey({ key: text, passphrase: phrase }).export({
        type: 'pkcs8',
        format: 'pem',
      }) as string;
    } catch {
      throw new KeyFileError('E_KEY_PASSPHRASE', `${keyFile}: the passphrase does not open it`);
    }
  }
  const cert = readFileSync(keyPath(dir, TLS_CERT, env), 'utf8');
  return { key, cert, pin: spkiPin(cert) };
}

/**
 * The passphrase new key files of a folder are sealed with: the folder's own when its keys are
 * sealed (E_KEY_PASSPHRASE when it is not given), none when they are not.
 */
export function successorPassphrase(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
): string | undefined {
  const sealed = ONLINE_KEYS.some((name) => {
    const path = join(dir, name);
    return existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as KeyFile).sealed;
  });
  const phrase = sealed ? passphrase() : undefined;
  if (sealed && phrase === undefined)
    throw new KeyFileError(
      'E_KEY_PASSPHRASE',
      `the keys in ${dir} are sealed: give the passphrase (HOTLINE_KEY_PASSPHRASE_FILE) to seal their successors`,
    );
  return phrase;
}

/**
 * Replaces online key files by a rotation's new keys: each written beside its file as
 * `<name>.next` first, then renamed over it (an atomic swap per file). A folder whose keys are
 * sealed keeps them sealed, with the same passphrase.
 */
export function replaceKeyFiles(
  dir: string,
  keys: readonly PrivateKey[],
  passphrase: () => string | undefined = () => keyPassphrase(),
): void {
  const phrase = successorPassphrase(dir, passphrase);
  const salt = newSalt();
  for (const key of keys) {
    if (key.entry.purpose === 'recovery') throw new Error('the recovery key never rotates');
    const path = join(dir, keyFileName(key.entry));
    writeOutFileSync(`${path}.next`, keyFileText(key, phrase, salt), { replace: true });
  }
  for (const key of keys) {
    const path = join(dir, keyFileName(key.entry));
    // The sealing key replaced is kept aside: peers may have sealed to it what is still queued.
    if (key.entry.purpose === 'sealing' && existsSync(path)) {
      const {
        secret: _secret,
        sealed: _sealed,
        ...entry
      } = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
      if (entry.kid !== key.entry.kid) renameSync(path, join(dir, retiredFileName(entry)));
    }
    renameSync(`${path}.next`, path);
  }
}

/** Reads a recovery key file (`recovery-OFFLINE.key`, brought back for a compromise rotation). */
export function readRecoveryKeyFile(
  path: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
): PrivateKey {
  const text = readFileSync(path, 'utf8');
  const wanted = 'give recovery-OFFLINE.key as hotline init wrote it (JSON)';
  if (!text.trim()) throw new Error(`the file is empty, not a recovery key: ${wanted}`);
  let file: KeyFile | null = null;
  try {
    file = JSON.parse(text) as KeyFile | null;
  } catch {
    throw new Error(`the file is not JSON, so not a recovery key: ${wanted}`);
  }
  if (file?.purpose !== 'recovery') throw new Error(`the file is not the recovery key: ${wanted}`);
  // The public half is derived again from the secret, never taken from the file.
  return ed25519Key('recovery', secretOf(file, path, passphrase));
}
