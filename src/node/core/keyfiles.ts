/**
 * Key files in a node's data folder (docs/protocol.md § Keys): each private key in
 * `<data>/keys/<purpose>.key` (JSON, mode 0600). The recovery key's private half is written once,
 * to `recovery-OFFLINE.key`, for the operator to move offline; the node never reads it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519Key, type PrivateKey } from '../../crypto/keys.ts';
import type { KeyAlg, KeyEntry, KeyPurpose } from '../../protocol/card.ts';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';

interface KeyFile {
  purpose: KeyPurpose;
  alg: KeyAlg;
  kid: string;
  pub: string;
  name?: string;
  secret: string;
}

function keyFileName(entry: KeyEntry): string {
  if (entry.purpose === 'recovery') return 'recovery-OFFLINE.key';
  return entry.purpose === 'sealing' ? `sealing-${entry.alg}.key` : `${entry.purpose}.key`;
}

/** Writes each key to its own file, readable by the owner only. Refuses to overwrite. */
export function writeKeyFiles(dir: string, keys: readonly PrivateKey[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const key of keys) {
    const path = join(dir, keyFileName(key.entry));
    if (existsSync(path)) throw new Error(`key file ${path} already exists`);
    const file: KeyFile = { ...key.entry, secret: toBase64url(key.secret) };
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
}

/** Reads the online keys (all but recovery, whose public entry comes from the card). */
export function readKeyFiles(dir: string): PrivateKey[] {
  const names = [
    'identity.key',
    'signing.key',
    'log.key',
    'witness.key',
    'sealing-x-wing.key',
    'sealing-x25519.key',
  ];
  return names.map((name) => {
    const file = JSON.parse(readFileSync(join(dir, name), 'utf8')) as KeyFile;
    const { secret, ...entry } = file;
    return { entry, secret: fromBase64url(secret) };
  });
}

/**
 * Replaces online key files by a rotation's new keys: each written beside its file as
 * `<name>.next` first, then renamed over it (an atomic swap per file).
 */
export function replaceKeyFiles(dir: string, keys: readonly PrivateKey[]): void {
  for (const key of keys) {
    if (key.entry.purpose === 'recovery') throw new Error('the recovery key never rotates');
    const path = join(dir, keyFileName(key.entry));
    const file: KeyFile = { ...key.entry, secret: toBase64url(key.secret) };
    writeFileSync(`${path}.next`, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${path}.next`, 0o600);
  }
  for (const key of keys) {
    const path = join(dir, keyFileName(key.entry));
    renameSync(`${path}.next`, path);
  }
}

/** Reads a recovery key file (`recovery-OFFLINE.key`, brought back for a compromise rotation). */
export function readRecoveryKeyFile(path: string): PrivateKey {
  const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  if (file.purpose !== 'recovery') throw new Error(`${path} is not a recovery key file`);
  // The public half is derived again from the secret, never taken from the file.
  return ed25519Key('recovery', fromBase64url(file.secret));
}
