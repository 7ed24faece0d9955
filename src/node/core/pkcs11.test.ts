/**
 * The PKCS#11 token session against SoftHSM2 (Debian's softhsm2): keys made there sign what their
 * card entry verifies, and every way a token can be wrong is refused with E_PKCS11 or
 * E_PKCS11_PIN and a sentence naming it. Without softhsm2 this file fails and says what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ed25519Verify } from '../../crypto/ed25519.ts';
import { keyId } from '../../crypto/keys.ts';
import { fromBase64url, toBase64url, utf8 } from '../../protocol/encoding.ts';
import { TokenSession, tokenPin } from './pkcs11.ts';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '112233';
const token = { module: MODULE, token: 'unit' };

function failure(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no failure';
}

describe('a PKCS#11 token session (SoftHSM2)', () => {
  let root: string;

  beforeAll(() => {
    if (!existsSync(MODULE))
      throw new Error(
        `softhsm2 is not installed (no ${MODULE}): apt-get install softhsm2 — .ci/run installs it`,
      );
    root = mkdtempSync(join(tmpdir(), 'hotline-pkcs11-unit-'));
    mkdirSync(join(root, 'tokens'));
    writeFileSync(
      join(root, 'softhsm2.conf'),
      `directories.tokendir = ${join(root, 'tokens')}\nobjectstore.backend = file\n`,
    );
    process.env.SOFTHSM2_CONF = join(root, 'softhsm2.conf');
    for (const label of ['unit', 'locked'])
      execFileSync('softhsm2-util', [
        '--init-token',
        '--free',
        '--label',
        label,
        '--so-pin',
        '99887766',
        '--pin',
        PIN,
      ]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('a wrong PIN is refused with E_PKCS11_PIN; an unknown token names those present', () => {
    expect(failure(() => TokenSession.open({ module: MODULE, token: 'locked' }, '000000'))).toBe(
      'E_PKCS11_PIN: the token "locked" refused the login (CKR_PIN_INCORRECT): check the PIN',
    );
    expect(failure(() => TokenSession.open({ module: MODULE, token: 'nope' }, PIN))).toMatch(
      /^E_PKCS11: no token "nope" in \/usr\/lib\/softhsm\/libsofthsm2\.so \(tokens present: "(unit|locked)" in slot \d+, "(unit|locked)" in slot \d+\)$/,
    );
    expect(
      failure(() => TokenSession.open({ module: '/nowhere/lib.so', token: 'unit' }, PIN)),
    ).toMatch(/^E_PKCS11: cannot load the PKCS#11 library \/nowhere\/lib\.so/);
  });

  test('a key made on the token signs for its card entry and is found again by label and kid', () => {
    const session = TokenSession.open(token, PIN);
    try {
      const made = session.generate('log', 'unit-log', 'hotline/us/log');
      expect(made.entry).toMatchObject({ purpose: 'log', alg: 'ed25519', name: 'hotline/us/log' });
      expect(made.entry.kid).toBe(keyId('ed25519', fromBase64url(made.entry.pub)));
      const message = utf8('a checkpoint');
      const found = session.find(made.entry, 'unit-log');
      expect(ed25519Verify(fromBase64url(made.entry.pub), message, found.key.sign(message))).toBe(
        true,
      );
      const other = session.generate('log', 'unit-other');
      expect(failure(() => session.find(other.entry, 'unit-log'))).toMatch(
        /^E_PKCS11: no private key labelled "unit-log" with id [0-9a-f]{32} \(the card's log key\)/,
      );
      // The right label and kid, but another public key in the card: not the card's key.
      const forged = { ...made.entry, pub: other.entry.pub };
      expect(failure(() => session.find(forged, 'unit-log'))).toBe(
        'E_PKCS11: the key "unit-log" on the token "unit" is not the card\'s log key',
      );
    } finally {
      session.close();
    }
  });

  test('an extractable key on the token is refused', () => {
    const pkcs11 = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');
    const session = TokenSession.open(token, PIN);
    const lib = new pkcs11.PKCS11();
    lib.load(MODULE);
    try {
      lib.C_Initialize();
    } catch {} // already initialised in this process by the session
    const slot = lib
      .C_GetSlotList(true)
      .find((s) => lib.C_GetTokenInfo(s).label.trim() === 'unit') as Buffer;
    const raw = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    try {
      const pair = lib.C_GenerateKeyPair(
        raw,
        { mechanism: 0x1055 },
        [
          { type: pkcs11.CKA_TOKEN, value: true },
          { type: pkcs11.CKA_EC_PARAMS, value: Buffer.from('06032b6570', 'hex') },
        ],
        [
          { type: pkcs11.CKA_TOKEN, value: true },
          { type: pkcs11.CKA_PRIVATE, value: true },
          { type: pkcs11.CKA_SIGN, value: true },
          { type: pkcs11.CKA_SENSITIVE, value: false },
          { type: pkcs11.CKA_EXTRACTABLE, value: true },
          { type: pkcs11.CKA_LABEL, value: 'unit-loose' },
        ],
      );
      const [point] = lib.C_GetAttributeValue(raw, pair.publicKey, [{ type: pkcs11.CKA_EC_POINT }]);
      const pub = new Uint8Array((point as { value: Buffer }).value.subarray(2));
      const entry = {
        kid: keyId('ed25519', pub),
        purpose: 'signing' as const,
        alg: 'ed25519' as const,
        pub: toBase64url(pub),
      };
      lib.C_SetAttributeValue(raw, pair.privateKey, [
        { type: pkcs11.CKA_ID, value: Buffer.from(entry.kid, 'hex') },
      ]);
      expect(failure(() => session.find(entry, 'unit-loose'))).toBe(
        'E_PKCS11: the signing key "unit-loose" on the token "unit" can be extracted: make it on the token with "hotline init --pkcs11-module"',
      );
    } finally {
      lib.C_CloseSession(raw);
      session.close();
    }
  });

  test('the PIN comes from a 0600 file, the environment or a credential; never a file others read', () => {
    const file = join(root, 'pin');
    writeFileSync(file, `${PIN}\n`, { mode: 0o600 });
    expect(tokenPin({ pinFile: file }, {})).toBe(PIN);
    expect(tokenPin({}, { HOTLINE_PKCS11_PIN_FILE: file })).toBe(PIN);
    expect(tokenPin({}, { HOTLINE_PKCS11_PIN: '445566' })).toBe('445566');
    writeFileSync(join(root, 'hotline-pkcs11-pin'), '778899\n', { mode: 0o600 });
    expect(tokenPin({}, { CREDENTIALS_DIRECTORY: root })).toBe('778899');
    expect(failure(() => tokenPin({}, {}))).toMatch(/^E_PKCS11_PIN: no PIN for the PKCS#11 token/);
    const loose = join(root, 'loose-pin');
    writeFileSync(loose, PIN, { mode: 0o644 });
    expect(failure(() => tokenPin({ pinFile: loose }, {}))).toMatch(
      /^E_PKCS11_PIN: .*loose-pin may be read by its group or others \(mode 644\)/,
    );
  });
});
