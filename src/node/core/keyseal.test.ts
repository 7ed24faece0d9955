/**
 * Keys at rest: sealed with a passphrase, refused when others may read them, taken from systemd
 * credentials when the service is given them.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateNodeKeys, type PrivateKey } from '../../crypto/keys.ts';
import { toBase64url } from '../../protocol/encoding.ts';
import { readKeyFiles, writeKeyFiles } from './keyfiles.ts';
import { keyPassphrase } from './keyseal.ts';

const PHRASE = 'correct horse battery staple';
let root = '';
let keys: PrivateKey[];
const online = () => keys.filter((k) => k.entry.purpose !== 'recovery');
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'hotline-keyseal-'));
  keys = await generateNodeKeys('us');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('key files sealed with a passphrase', () => {
  it('hold no secret in the clear, and open only with the passphrase', () => {
    const dir = join(root, 'keys');
    writeKeyFiles(dir, keys, PHRASE);
    for (const key of keys) {
      const name = key.entry.purpose === 'recovery' ? 'recovery-OFFLINE.key' : undefined;
      const text = name ? readFileSync(join(dir, name), 'utf8') : '';
      if (name) expect(text).not.toContain(toBase64url(key.secret));
    }
    const identity = readFileSync(join(dir, 'identity.key'), 'utf8');
    expect(JSON.parse(identity)).toMatchObject({
      sealed: { kdf: 'scrypt', n: 131072, r: 8, p: 1 },
    });
    expect(identity).not.toContain(toBase64url(online()[0]?.secret as Uint8Array));
    expect(readKeyFiles(dir, () => PHRASE, {})).toEqual(online());
    expect(failure(() => readKeyFiles(dir, () => 'wrong horse battery staple', {}))).toMatch(
      /^E_KEY_PASSPHRASE: .*identity\.key: the passphrase is wrong/,
    );
    expect(failure(() => readKeyFiles(dir, () => undefined, {}))).toMatch(
      /^E_KEY_PASSPHRASE: .*is sealed with a passphrase: set HOTLINE_KEY_PASSPHRASE_FILE/,
    );
  });

  it('a sealed secret moved into another key file does not open', () => {
    const dir = join(root, 'keys');
    writeKeyFiles(dir, keys, PHRASE);
    const signing = JSON.parse(readFileSync(join(dir, 'signing.key'), 'utf8'));
    const log = JSON.parse(readFileSync(join(dir, 'log.key'), 'utf8'));
    writeFileSync(join(dir, 'log.key'), JSON.stringify({ ...log, sealed: signing.sealed }), {
      mode: 0o600,
    });
    expect(failure(() => readKeyFiles(dir, () => PHRASE, {}))).toMatch(/log\.key: the passphrase/);
  });
});

describe('key file permissions and systemd credentials', () => {
  it('refuses a key file its group or others may read', () => {
    const dir = join(root, 'keys');
    writeKeyFiles(dir, keys);
    chmodSync(join(dir, 'signing.key'), 0o640);
    expect(failure(() => readKeyFiles(dir, () => undefined, {}))).toMatch(
      /^E_KEY_FILE_EXPOSED: .*signing\.key may be read by its group or others \(mode 640\): run chmod 600/,
    );
  });

  it('takes a key and the passphrase from $CREDENTIALS_DIRECTORY before the data folder', () => {
    const dir = join(root, 'keys');
    writeKeyFiles(dir, keys, PHRASE);
    const credentials = join(root, 'credentials');
    mkdirSync(credentials, { mode: 0o700 });
    copyFileSync(join(dir, 'identity.key'), join(credentials, 'hotline-identity.key'));
    chmodSync(join(credentials, 'hotline-identity.key'), 0o400);
    unlinkSync(join(dir, 'identity.key'));
    writeFileSync(join(credentials, 'hotline-key-passphrase'), `${PHRASE}\n`, { mode: 0o400 });
    const env = { CREDENTIALS_DIRECTORY: credentials };
    expect(keyPassphrase(env)).toBe(PHRASE);
    expect(readKeyFiles(dir, () => keyPassphrase(env), env)).toEqual(online());
  });
});
