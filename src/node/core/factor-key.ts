/**
 * The node's factor key: 32 random bytes that seal the TOTP secrets of accounts in the store
 * (src/node/people/totp-secrets.ts), so that reading the database — a dump, a replica, a backup,
 * an insider's query — gives no secret that makes codes. Kept like the node's other keys
 * (./keyfiles.ts): `<data>/keys/factors.key`, mode 0600, sealed with the key passphrase when the
 * other keys are; made at the first start that needs it. Never in the store, never logged. Key
 * rotation does not change it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';
import { KeyFileError, keyPassphrase, keysSealed, type Sealed, seal, unseal } from './keyseal.ts';
import { writeOutFileSync } from './out-file.ts';

interface FactorKeyFile {
  purpose: 'factors';
  alg: 'aes-256-gcm';
  secret?: string;
  sealed?: Sealed;
}

const FILE = 'factors.key';
const AAD = JSON.stringify(['factors', 'aes-256-gcm']);

/**
 * The factor key from the keys folder `dir`, made there first if it has none. Checked as the
 * other key files are: a file its group or others may read is refused, a sealed one needs the
 * passphrase.
 */
export function readFactorKey(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
): Uint8Array {
  const path = join(dir, FILE);
  if (!existsSync(path)) {
    const phrase = keysSealed(dir) ? passphrase() : undefined;
    if (keysSealed(dir) && phrase === undefined)
      throw new KeyFileError(
        'E_KEY_PASSPHRASE',
        `the keys in ${dir} are sealed: give the passphrase (HOTLINE_KEY_PASSPHRASE_FILE) to seal the new factor key`,
      );
    const secret = new Uint8Array(randomBytes(32));
    const file: FactorKeyFile = phrase
      ? { purpose: 'factors', alg: 'aes-256-gcm', sealed: seal(secret, phrase, AAD) }
      : { purpose: 'factors', alg: 'aes-256-gcm', secret: toBase64url(secret) };
    writeOutFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
    return secret;
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new KeyFileError(
      'E_KEY_FILE_EXPOSED',
      `${path} may be read by its group or others (mode ${mode.toString(8)}): run chmod 600 ${path} and consider the key exposed`,
    );
  const file = JSON.parse(readFileSync(path, 'utf8')) as FactorKeyFile;
  if (file.secret !== undefined) return fromBase64url(file.secret);
  if (!file.sealed) throw new KeyFileError('E_KEY_PASSPHRASE', `${path} holds no secret`);
  const phrase = passphrase();
  if (phrase === undefined)
    throw new KeyFileError('E_KEY_PASSPHRASE', `${path} is sealed with a passphrase`);
  return unseal(file.sealed, phrase, AAD, path);
}
