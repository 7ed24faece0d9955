/**
 * The node's VAPID key (RFC 8292, Voluntary Application Server Identification for Web Push): an
 * ECDSA P-256 key whose public half a browser is given when it subscribes, and whose private half
 * signs the JWT on every push, so a push service accepts pushes to that subscription from this
 * node only. Kept like the node's other keys (./keyfiles.ts): `<data>/keys/vapid.key`, mode
 * 0600, sealed with the key passphrase when the other keys are; made by `hotline init`, or at the
 * first start of a node initialised before Web Push existed. Never logged, never in the card.
 */
import { createECDH } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';
import { KeyFileError, keyPassphrase, keysSealed, type Sealed, seal, unseal } from './keyseal.ts';
import { writeOutFileSync } from './out-file.ts';

/** The VAPID key pair as RFC 8292 and the `web-push` package use it: base64url, uncompressed. */
export interface VapidKey {
  /** The 65-byte uncompressed P-256 point: the console's `applicationServerKey`. */
  publicKey: string;
  /** The 32-byte private scalar. */
  privateKey: string;
}

interface VapidFile {
  purpose: 'vapid';
  alg: 'p256';
  pub: string;
  secret?: string;
  sealed?: Sealed;
}

const FILE = 'vapid.key';
const aadOf = (pub: string) => JSON.stringify(['vapid', 'p256', pub]);

/** A new P-256 key pair. */
export function generateVapidKey(): VapidKey {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    publicKey: toBase64url(ecdh.getPublicKey()),
    privateKey: toBase64url(ecdh.getPrivateKey()),
  };
}

/** Writes a new VAPID key in the keys folder `dir`; refuses to overwrite. */
export function writeVapidKey(dir: string, passphrase?: string): VapidKey {
  const key = generateVapidKey();
  const secret = fromBase64url(key.privateKey);
  const file: VapidFile = passphrase
    ? {
        purpose: 'vapid',
        alg: 'p256',
        pub: key.publicKey,
        sealed: seal(secret, passphrase, aadOf(key.publicKey)),
      }
    : { purpose: 'vapid', alg: 'p256', pub: key.publicKey, secret: key.privateKey };
  const path = join(dir, FILE);
  writeOutFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return key;
}

/**
 * The node's VAPID key from the keys folder `dir`, made there first if it has none. Checked as
 * the other key files are: a file its group or others may read is refused, a sealed one needs
 * the passphrase, and the public half is derived again from the private one.
 */
export function readVapidKey(
  dir: string,
  passphrase: () => string | undefined = () => keyPassphrase(),
): VapidKey {
  const path = join(dir, FILE);
  if (!existsSync(path)) {
    const sealed = keysSealed(dir);
    const phrase = sealed ? passphrase() : undefined;
    if (sealed && phrase === undefined)
      throw new KeyFileError(
        'E_KEY_PASSPHRASE',
        `the keys in ${dir} are sealed: give the passphrase (HOTLINE_KEY_PASSPHRASE_FILE) to seal the new Web Push key`,
      );
    return writeVapidKey(dir, phrase);
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new KeyFileError(
      'E_KEY_FILE_EXPOSED',
      `${path} may be read by its group or others (mode ${mode.toString(8)}): run chmod 600 ${path} and consider the key exposed`,
    );
  const file = JSON.parse(readFileSync(path, 'utf8')) as VapidFile;
  let secret: Uint8Array;
  if (file.secret !== undefined) secret = fromBase64url(file.secret);
  else if (file.sealed) {
    const phrase = passphrase();
    if (phrase === undefined)
      throw new KeyFileError('E_KEY_PASSPHRASE', `${path} is sealed with a passphrase`);
    secret = unseal(file.sealed, phrase, aadOf(file.pub), path);
  } else throw new KeyFileError('E_KEY_PASSPHRASE', `${path} holds no secret`);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(secret);
  return { publicKey: toBase64url(ecdh.getPublicKey()), privateKey: toBase64url(secret) };
}
