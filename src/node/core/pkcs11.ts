/**
 * Keys on a PKCS#11 token (OASIS PKCS#11 3.0, through pkcs11js): Ed25519 keys of type
 * CKK_EC_EDWARDS, made on the token by CKM_EC_EDWARDS_KEY_PAIR_GEN as sensitive, non-extractable
 * private objects, and used with CKM_EDDSA. The node holds a logged-in session and the handles;
 * the private keys never leave the token. Which purposes live there is `keys.pkcs11` in the
 * configuration (./config.ts); each key is found by its CKA_LABEL and by CKA_ID = its kid.
 *
 * pkcs11js loads only when a token is configured, so a node with key files needs no native addon.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ed25519Verify } from '../../crypto/ed25519.ts';
import { type ExternalKey, keyId } from '../../crypto/keys.ts';
import type { KeyEntry, KeyPurpose } from '../../protocol/card.ts';
import { fromBase64url, toBase64url, utf8 } from '../../protocol/encoding.ts';
import type { Pkcs11Config } from './config.ts';
import { secretFile, secretFromEnvironment } from './keyseal.ts';

type Pkcs11 = typeof import('pkcs11js');
type Handle = Buffer;
type Library = InstanceType<Pkcs11['PKCS11']>;

// PKCS#11 3.0 §6.3 (Edwards-curve keys) — pkcs11js names only the 2.40 constants.
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** CKA_EC_PARAMS of Ed25519: the DER of its object identifier, id-Ed25519 (1.3.101.112). */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
/** The message signed when a key is opened, to check it is the card's. */
const PROBE = utf8('hotline/v1/pkcs11-probe\n');

/** The token could not be used as configured, or refused the PIN. */
export class TokenError extends Error {
  constructor(
    readonly code: 'E_PKCS11' | 'E_PKCS11_PIN',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TokenError';
  }
}

/**
 * The token's user PIN: `keys.pkcs11.pinFile`, else HOTLINE_PKCS11_PIN_FILE, HOTLINE_PKCS11_PIN,
 * or the systemd credential `hotline-pkcs11-pin`. A PIN file others may read is refused.
 */
export function tokenPin(config: Pick<Pkcs11Config, 'pinFile'>, env = process.env): string {
  if (config.pinFile) {
    const mode = statSync(config.pinFile).mode & 0o777;
    if (mode & 0o077)
      throw new TokenError(
        'E_PKCS11_PIN',
        `${config.pinFile} may be read by its group or others (mode ${mode.toString(8)}): run chmod 600 ${config.pinFile}`,
      );
    return secretFile(config.pinFile);
  }
  const pin = secretFromEnvironment('HOTLINE_PKCS11_PIN', 'hotline-pkcs11-pin', env);
  if (pin === undefined)
    throw new TokenError(
      'E_PKCS11_PIN',
      'no PIN for the PKCS#11 token: set keys.pkcs11.pinFile, HOTLINE_PKCS11_PIN_FILE, HOTLINE_PKCS11_PIN or the systemd credential hotline-pkcs11-pin',
    );
  return pin;
}

/**
 * A library is initialised once per process (a second C_Initialize fails), and every session of
 * the process shares it: it is never finalised, the process's exit ends it.
 */
const libraries = new Map<string, { pkcs11: Pkcs11; lib: Library }>();

function library(path: string) {
  let loaded = libraries.get(path);
  if (!loaded) {
    const pkcs11 = createRequire(import.meta.url)('pkcs11js') as Pkcs11;
    const lib = new pkcs11.PKCS11();
    try {
      lib.load(path);
      lib.C_Initialize();
    } catch (e) {
      throw new TokenError('E_PKCS11', `cannot load the PKCS#11 library ${path}: ${reason(e)}`);
    }
    loaded = { pkcs11, lib };
    libraries.set(path, loaded);
  }
  return loaded;
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A logged-in session on one token: it finds or makes the node's keys there. */
export class TokenSession {
  readonly #pkcs11: Pkcs11;
  readonly #lib: Library;
  readonly #session: Handle;
  readonly #name: string;
  #open = true;

  private constructor(pkcs11: Pkcs11, lib: Library, session: Handle, name: string) {
    this.#pkcs11 = pkcs11;
    this.#lib = lib;
    this.#session = session;
    this.#name = name;
  }

  /** Opens a session on the configured token and logs in as its user with `pin`. */
  static open(config: Omit<Pkcs11Config, 'labels'>, pin: string): TokenSession {
    const { pkcs11, lib } = library(config.module);
    try {
      return TokenSession.#login(pkcs11, lib, config, pin);
    } catch (e) {
      if (e instanceof TokenError) throw e;
      throw new TokenError('E_PKCS11', `cannot open a session on the token: ${reason(e)}`);
    }
  }

  static #login(
    pkcs11: Pkcs11,
    lib: Library,
    config: Omit<Pkcs11Config, 'labels'>,
    pin: string,
  ): TokenSession {
    const slots = lib.C_GetSlotList(true);
    const label = (slot: Handle) => lib.C_GetTokenInfo(slot).label.trim();
    const slot =
      config.token !== undefined
        ? slots.find((s) => label(s) === config.token)
        : slots.find((s) => slotId(s) === BigInt(config.slot ?? -1));
    const name = config.token !== undefined ? `"${config.token}"` : `in slot ${config.slot}`;
    if (!slot)
      throw new TokenError(
        'E_PKCS11',
        `no token ${name} in ${config.module} (tokens present: ${
          slots
            .filter((s) => label(s) !== '')
            .map((s) => `"${label(s)}" in slot ${slotId(s)}`)
            .join(', ') || 'none'
        })`,
      );
    if (!lib.C_GetMechanismList(slot).some((m) => m === CKM_EDDSA))
      throw new TokenError(
        'E_PKCS11',
        `the token ${name} does not sign with Ed25519 (CKM_EDDSA, PKCS#11 3.0): use another token or key files`,
      );
    const session = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11.CKU_USER, pin);
    } catch (e) {
      const code = (e as { code?: number }).code;
      // Login is per process and token: another session of this process logged in already.
      if (code !== pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
        lib.C_CloseSession(session);
        throw new TokenError(
          code === pkcs11.CKR_PIN_INCORRECT ||
            code === pkcs11.CKR_PIN_INVALID ||
            code === pkcs11.CKR_PIN_LEN_RANGE ||
            code === pkcs11.CKR_PIN_LOCKED
            ? 'E_PKCS11_PIN'
            : 'E_PKCS11',
          `the token ${name} refused the login (${reason(e)}): check the PIN`,
        );
      }
    }
    return new TokenSession(pkcs11, lib, session, name);
  }

  /**
   * Makes an Ed25519 key pair on the token, private half sensitive and never extractable, with
   * CKA_LABEL `label` and CKA_ID the kid of its public half.
   */
  generate(purpose: KeyPurpose, label: string, name?: string): ExternalKey {
    const p = this.#pkcs11;
    const common = [
      { type: p.CKA_TOKEN, value: true },
      { type: p.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      { type: p.CKA_LABEL, value: label },
    ];
    const pair = this.#call('generate a key pair', () =>
      this.#lib.C_GenerateKeyPair(
        this.#session,
        { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        [
          ...common,
          { type: p.CKA_VERIFY, value: true },
          { type: p.CKA_EC_PARAMS, value: ED25519_PARAMS },
        ],
        [
          ...common,
          { type: p.CKA_PRIVATE, value: true },
          { type: p.CKA_SIGN, value: true },
          { type: p.CKA_SENSITIVE, value: true },
          { type: p.CKA_EXTRACTABLE, value: false },
        ],
      ),
    );
    const point = this.#attribute(pair.publicKey, p.CKA_EC_POINT);
    const publicKey = ecPoint(point);
    const entry: KeyEntry = {
      kid: keyId('ed25519', publicKey),
      purpose,
      alg: 'ed25519',
      pub: toBase64url(publicKey),
      ...(name === undefined ? {} : { name }),
    };
    const id = [{ type: p.CKA_ID, value: Buffer.from(entry.kid, 'hex') }];
    this.#call('label the key pair', () => {
      this.#lib.C_SetAttributeValue(this.#session, pair.publicKey, id);
      this.#lib.C_SetAttributeValue(this.#session, pair.privateKey, id);
    });
    return { entry, key: this.#signer(pair.privateKey) };
  }

  /**
   * The private key of the card's `entry` on the token (CKA_LABEL `label`, CKA_ID its kid). It
   * must be sensitive and not extractable, and sign what the card's public key verifies.
   */
  find(entry: KeyEntry, label: string): ExternalKey {
    const p = this.#pkcs11;
    const handles = this.#call('find keys', () => {
      this.#lib.C_FindObjectsInit(this.#session, [
        { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
        { type: p.CKA_LABEL, value: label },
        { type: p.CKA_ID, value: Buffer.from(entry.kid, 'hex') },
      ]);
      try {
        return this.#lib.C_FindObjects(this.#session, 2);
      } finally {
        this.#lib.C_FindObjectsFinal(this.#session);
      }
    });
    const [handle] = handles;
    if (!handle || handles.length > 1)
      throw new TokenError(
        'E_PKCS11',
        `${handle ? 'more than one' : 'no'} private key labelled "${label}" with id ${entry.kid} (the card's ${entry.purpose} key) on the token ${this.#name}`,
      );
    const [sensitive, extractable] = this.#call('read the key attributes', () =>
      this.#lib.C_GetAttributeValue(this.#session, handle, [
        { type: p.CKA_SENSITIVE },
        { type: p.CKA_EXTRACTABLE },
      ]),
    ).map((a) => (a.value as Buffer)[0] === 1);
    if (!sensitive || extractable)
      throw new TokenError(
        'E_PKCS11',
        `the ${entry.purpose} key "${label}" on the token ${this.#name} can be extracted: make it on the token with "hotline init --pkcs11-module"`,
      );
    const key = this.#signer(handle);
    if (!ed25519Verify(fromBase64url(entry.pub), PROBE, key.sign(PROBE)))
      throw new TokenError(
        'E_PKCS11',
        `the key "${label}" on the token ${this.#name} is not the card's ${entry.purpose} key`,
      );
    return { entry, key };
  }

  /** Closes the session (the login ends with the process's last session on the token). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#lib.C_CloseSession(this.#session);
  }

  #signer(handle: Handle): ExternalKey['key'] {
    return {
      sign: (message) =>
        this.#call('sign', () => {
          this.#lib.C_SignInit(this.#session, { mechanism: CKM_EDDSA }, handle);
          return new Uint8Array(
            this.#lib.C_Sign(this.#session, Buffer.from(message), Buffer.alloc(64)),
          );
        }),
    };
  }

  #attribute(handle: Handle, type: number): Buffer {
    const [attribute] = this.#call('read an attribute', () =>
      this.#lib.C_GetAttributeValue(this.#session, handle, [{ type }]),
    );
    return attribute?.value as Buffer;
  }

  #call<T>(what: string, call: () => T): T {
    if (!this.#open)
      throw new TokenError('E_PKCS11', `cannot ${what}: the token session is closed`);
    try {
      return call();
    } catch (e) {
      if (e instanceof TokenError) throw e;
      throw new TokenError('E_PKCS11', `the token ${this.#name} could not ${what}: ${reason(e)}`);
    }
  }
}

/** A slot handle (a CK_ULONG in the platform's byte order) as a number. */
function slotId(slot: Handle): bigint {
  return slot.length === 8 ? slot.readBigUInt64LE() : BigInt(slot.readUInt32LE());
}

/** CKA_EC_POINT of an Edwards key: the DER OCTET STRING of the 32-byte key, or the bare key. */
function ecPoint(point: Buffer): Uint8Array {
  if (point.length === 34 && point[0] === 0x04 && point[1] === 32)
    return new Uint8Array(point.subarray(2));
  if (point.length === 32) return new Uint8Array(point);
  throw new TokenError('E_PKCS11', `the token gave an Ed25519 public key of ${point.length} bytes`);
}
