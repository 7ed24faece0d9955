/**
 * A node's keys, one per purpose (docs/protocol.md § Keys): generation, key ids, and the online
 * keys a node signs and opens with. Where they are kept is src/node/core/keyfiles.ts.
 */

import type { KeyObject } from 'node:crypto';
import type { KeyAlg, KeyEntry, KeyPurpose } from '../protocol/card.ts';
import { sha256, toBase64url, toHex, utf8 } from '../protocol/encoding.ts';
import { LABELS } from './context.ts';
import {
  type Ed25519SigningKey,
  type ExternalEd25519Key,
  ed25519FromSeed,
  generateEd25519,
  privateKeyObject,
} from './ed25519.ts';
import { generateSealingKey, type SealingKeyPair, type SuiteName } from './seal.ts';

/** kid = hex(SHA-256("hotline/v1/kid\n" ‖ alg ‖ "\n" ‖ pub)[0..16]). */
export function keyId(alg: KeyAlg, publicKey: Uint8Array): string {
  return toHex(sha256(utf8(`${LABELS.kid}${alg}\n`), publicKey).subarray(0, 16));
}

/** A private key with its public entry as it appears in the card. */
export interface PrivateKey {
  readonly entry: KeyEntry;
  /** The Ed25519 seed or the HPKE private key bytes. */
  readonly secret: Uint8Array;
}

export function ed25519Key(purpose: KeyPurpose, seed?: Uint8Array, name?: string): PrivateKey {
  const pair = seed ? ed25519FromSeed(seed) : generateEd25519();
  const entry: KeyEntry = {
    kid: keyId('ed25519', pair.publicKey),
    purpose,
    alg: 'ed25519',
    pub: toBase64url(pair.publicKey),
    ...(name === undefined ? {} : { name }),
  };
  return { entry, secret: pair.seed };
}

export async function sealingKey(suite: SuiteName, pair?: SealingKeyPair): Promise<PrivateKey> {
  pair ??= await generateSealingKey(suite);
  return {
    entry: {
      kid: keyId(suite, pair.publicKey),
      purpose: 'sealing',
      alg: suite,
      pub: toBase64url(pair.publicKey),
    },
    secret: pair.secret,
  };
}

/** Log and witness keys carry C2SP note key names derived from the party id. */
export function logKeyName(party: string): string {
  return `hotline/${party}/log`;
}
export function witnessKeyName(party: string): string {
  return `hotline/${party}/witness`;
}

/** Every key a new node needs: the recovery key included, whose secret goes offline. */
export async function generateNodeKeys(party: string): Promise<PrivateKey[]> {
  return [
    ed25519Key('identity'),
    ed25519Key('signing'),
    ed25519Key('log', undefined, logKeyName(party)),
    ed25519Key('witness', undefined, witnessKeyName(party)),
    await sealingKey('x-wing'),
    await sealingKey('x25519'),
    ed25519Key('recovery'),
  ];
}

/** An Ed25519 key held outside the process (a PKCS#11 token): its card entry and its signer. */
export interface ExternalKey {
  readonly entry: KeyEntry;
  readonly key: ExternalEd25519Key;
}

/** What signs for one purpose: the key's id, its card entry, and the key itself. */
export interface SigningKey {
  kid: string;
  entry: KeyEntry;
  key: Ed25519SigningKey;
}

/**
 * The online keys of a node, loaded once, with signing KeyObjects cached. Keys of a purpose held
 * on a token (`external`) sign there; their secrets are never in this process. The sealing keys
 * a rotation retired are kept only to open what peers sealed to them before they learned the new ones.
 */
export class NodeKeys {
  readonly #byPurpose = new Map<KeyPurpose, PrivateKey[]>();
  readonly #external = new Map<KeyPurpose, ExternalKey>();
  readonly #objects = new Map<string, KeyObject>();
  #retiredSealing: readonly PrivateKey[];
  readonly #close: () => void;

  constructor(
    keys: readonly PrivateKey[],
    held: {
      external?: readonly ExternalKey[];
      close?: () => void;
      retiredSealing?: readonly PrivateKey[];
    } = {},
  ) {
    for (const key of keys) {
      const list = this.#byPurpose.get(key.entry.purpose) ?? [];
      list.push(key);
      this.#byPurpose.set(key.entry.purpose, list);
    }
    for (const key of held.external ?? []) this.#external.set(key.entry.purpose, key);
    this.#close = held.close ?? (() => {});
    this.#retiredSealing = held.retiredSealing ?? [];
  }

  /** The one key of a purpose held in the process (the first, where a rotation left several). */
  get(purpose: KeyPurpose): PrivateKey {
    if (this.#external.has(purpose))
      throw new Error(`the ${purpose} key is on a PKCS#11 token: its secret never leaves it`);
    const key = this.#byPurpose.get(purpose)?.[0];
    if (!key) throw new Error(`no ${purpose} key`);
    return key;
  }

  sealing(suite: SuiteName): PrivateKey | undefined {
    return this.#byPurpose.get('sealing')?.find((k) => k.entry.alg === suite);
  }

  /** Every sealing key of a suite a peer may have sealed to: the current first, then retired. */
  sealingKeys(suite: SuiteName): PrivateKey[] {
    const current = this.sealing(suite);
    return [
      ...(current ? [current] : []),
      ...this.#retiredSealing.filter((k) => k.entry.alg === suite),
    ];
  }

  /** The retired sealing keys still held. */
  get retiredSealing(): readonly PrivateKey[] {
    return this.#retiredSealing;
  }

  /** Drops a retired sealing key once it is destroyed: nothing opens with it any more. */
  forgetRetiredSealing(kid: string): void {
    this.#retiredSealing = this.#retiredSealing.filter((k) => k.entry.kid !== kid);
  }

  /** What signs for an Ed25519 purpose: on its token, or a cached node:crypto private key. */
  signer(purpose: KeyPurpose): SigningKey {
    const external = this.#external.get(purpose);
    if (external) return { kid: external.entry.kid, entry: external.entry, key: external.key };
    const { entry, secret } = this.get(purpose);
    let key = this.#objects.get(entry.kid);
    if (!key) {
      key = privateKeyObject(secret);
      this.#objects.set(entry.kid, key);
    }
    return { kid: entry.kid, entry, key };
  }

  /** Ends the token session, if any; file keys need nothing. */
  close(): void {
    this.#close();
  }
}
