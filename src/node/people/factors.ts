/**
 * Second factors of accounts: a TOTP authenticator app (RFC 6238, ./totp.ts), passkeys (WebAuthn,
 * verified by @simplewebauthn/server) and single-use recovery codes kept as SHA-256 hashes.
 *
 * A factor is asked at login once the password is right, and again (step-up) before approving a
 * held flash message or breaking glass. `access.secondFactor.required` (officers and admins by
 * default) names the roles that must enrol one: until they have, their console session may do
 * nothing but enrol.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { ProtocolError } from '../../protocol/errors.ts';
import type { FactorRow, FactorStore } from '../../store/factors.ts';
import type { Role } from '../../store/schema.ts';
import type { Config } from '../core/config.ts';
import { base32Decode, base32Encode, keyUri, matchStep, newTotpSecret } from './totp.ts';
import { TotpSecrets } from './totp-secrets.ts';
import type { Actor, AuditTrail } from './trail.ts';

/** What a person gives as their second factor: one of these. */
export type FactorProof =
  | { totp: string }
  | { recoveryCode: string }
  | { passkey: AuthenticationResponseJSON };

export type FactorKind = 'totp' | 'passkey' | 'recovery';

export interface FactorView {
  id: string;
  kind: 'totp' | 'passkey';
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface FactorStatus {
  /** The role must have a second factor (access.secondFactor.required). */
  required: boolean;
  factors: FactorView[];
  recoveryCodesLeft: number;
}

/** How long a passkey challenge stays good. */
const CHALLENGE_MS = 5 * 60_000;
/** Recovery codes given at a time. */
export const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A recovery code's stored form: lower case, without the dashes people may or may not type. */
const recoveryHash = (code: string) =>
  createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');

/** 12 characters of a 31-letter alphabet (about 59 bits), in three groups of four. */
function newRecoveryCode(): string {
  const out: string[] = [];
  while (out.length < 12)
    for (const b of randomBytes(16))
      if (b < 248 && out.length < 12) out.push(RECOVERY_ALPHABET[b % 31] as string);
  return `${out.slice(0, 4).join('')}-${out.slice(4, 8).join('')}-${out.slice(8).join('')}`;
}

const refused = (why: string) => new ProtocolError('E_SECOND_FACTOR', why);

function view(row: FactorRow): FactorView {
  return {
    id: row.id,
    kind: row.kind,
    label: row.label,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * The origin a passkey answer was made on, from its client data, if it belongs to `rpId`: the RP
 * ID itself or a subdomain, over https (or http on localhost, as browsers allow).
 */
function originFor(clientDataJSON: string, rpId: string): string {
  let origin: string;
  try {
    origin = String(JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')).origin);
    const url = new URL(origin);
    const host = url.hostname;
    const ours = host === rpId || host.endsWith(`.${rpId}`);
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && host === 'localhost');
    if (ours && secure) return origin;
  } catch {
    throw refused('the passkey answer is malformed');
  }
  throw refused(`the passkey answer was made on ${origin.slice(0, 200)}, not on ${rpId}`);
}

export class SecondFactors {
  readonly #store: FactorStore;
  readonly #trail: AuditTrail;
  readonly #policy: Config['access'];
  readonly #issuer: string;
  readonly #clock: () => Date;
  /** Seals TOTP secrets in the store; absent where the factor key is not loaded (CLI). */
  readonly #secrets: TotpSecrets | undefined;
  /** Outstanding WebAuthn challenges per user and ceremony. */
  readonly #challenges = new Map<string, { challenge: string; rpId: string; until: number }>();

  constructor(
    store: FactorStore,
    trail: AuditTrail,
    policy: Config['access'],
    issuer: string,
    clock: () => Date = () => new Date(),
    factorKey?: Uint8Array,
  ) {
    this.#secrets = factorKey ? new TotpSecrets(factorKey) : undefined;
    this.#store = store;
    this.#trail = trail;
    this.#policy = policy;
    this.#issuer = issuer;
    this.#clock = clock;
  }

  /** Whether `role` must have a second factor. */
  required(role: Role): boolean {
    return this.#policy.secondFactor.required.includes(role);
  }

  /** The RP ID for passkeys: configured, or the host name the console was reached on. */
  rpId(host: string | undefined): string {
    const configured = this.#policy.secondFactor.rpId;
    if (configured) return configured;
    const name = host ? new URL(`http://${host}`).hostname : '';
    if (!name) throw refused('the request names no host: set access.secondFactor.rpId');
    return name;
  }

  async enrolled(user: string): Promise<boolean> {
    return (await this.#store.factors(user, true)).length > 0;
  }

  async status(user: string, role: Role): Promise<FactorStatus> {
    return {
      required: this.required(role),
      factors: (await this.#store.factors(user, true)).map(view),
      recoveryCodesLeft: await this.#store.recoveryCodesLeft(user),
    };
  }

  /** The kinds of factor a user can answer with now (empty when none is enrolled). */
  async methods(user: string): Promise<FactorKind[]> {
    const kinds = new Set<FactorKind>((await this.#store.factors(user, true)).map((f) => f.kind));
    if (kinds.size && (await this.#store.recoveryCodesLeft(user)) > 0) kinds.add('recovery');
    return [...kinds];
  }

  // TOTP enrolment

  /** A new TOTP secret for `user`, pending until `confirmTotp` gets a code made from it. */
  async beginTotp(user: string, label = 'authenticator app') {
    const secrets = this.#totpSecrets();
    const secret = newTotpSecret();
    const id = randomBytes(8).toString('hex');
    await this.#store.removeFactors({ user, pending: true });
    await this.#store.addFactor({
      id,
      user_name: user,
      kind: 'totp',
      label,
      created_at: this.#clock().toISOString(),
      confirmed_at: null,
      last_used_at: null,
      totp_secret: secrets.seal(secret, id, user),
      totp_last_step: null,
      credential_id: null,
      public_key: null,
      counter: null,
      rp_id: null,
      transports: null,
    });
    return { id, secret: base32Encode(secret), uri: keyUri(secret, this.#issuer, user) };
  }

  /**
   * Confirms a pending TOTP secret with a code from the app. The first factor a user enrols comes
   * with recovery codes, shown once.
   */
  async confirmTotp(by: Actor, user: string, id: string, code: string) {
    const row = await this.#store.factor(id);
    if (!row || row.user_name !== user || row.kind !== 'totp' || row.confirmed_at)
      throw new ProtocolError('E_NOT_FOUND', `there is no pending authenticator "${id}"`);
    const step = this.#totpStep(row, code);
    if (step === undefined) throw refused('the code is wrong: check the app and the clock');
    const first = !(await this.enrolled(user));
    const at = this.#clock().toISOString();
    // A passkey begun before (perhaps without proof, while the account had no factor) is not added.
    this.#challenges.delete(`register:${user}`);
    return this.#trail.change(async (tx, audit) => {
      await this.#store.updateFactor(
        id,
        { confirmed_at: at, totp_last_step: step, last_used_at: at },
        tx,
      );
      const codes = first ? await this.#newCodes(user, at, tx) : undefined;
      await audit({ ...by, action: 'factor.add', target: user, detail: { kind: 'totp', id } });
      return { factor: view({ ...row, confirmed_at: at }), recoveryCodes: codes };
    });
  }

  #totpStep(row: FactorRow, code: string): number | undefined {
    if (!row.totp_secret || typeof code !== 'string') return undefined;
    const secret = this.#totpSecrets().open(row.totp_secret, row.id, row.user_name);
    if (!secret) return undefined;
    const now = this.#clock().getTime() / 1000;
    return matchStep(secret, code.replace(/\s/g, ''), now);
  }

  #totpSecrets(): TotpSecrets {
    if (!this.#secrets)
      throw refused(
        "TOTP codes are checked by the running node: this command has not the node's factor key",
      );
    return this.#secrets;
  }

  /**
   * Seals the TOTP secrets stored in the clear by a node from before sealing existed; each row
   * in its own statement, so an interrupted start leaves every row usable. Returns how many.
   */
  async sealStored(): Promise<number> {
    const secrets = this.#totpSecrets();
    const rows = await this.#store.clearTotpSecrets();
    for (const row of rows)
      await this.#store.updateFactor(row.id, {
        totp_secret: secrets.seal(base32Decode(row.totp_secret), row.id, row.user_name),
      });
    return rows.length;
  }

  // passkeys

  async passkeyRegistration(
    user: string,
    rpId: string,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#store.factors(user, true);
    const options = await generateRegistrationOptions({
      rpName: this.#issuer,
      rpID: rpId,
      userName: user,
      attestationType: 'none',
      excludeCredentials: existing
        .filter((f) => f.credential_id)
        .map((f) => ({ id: f.credential_id as string, transports: transportsOf(f) })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    this.#challenges.set(`register:${user}`, {
      challenge: options.challenge,
      rpId,
      until: this.#clock().getTime() + CHALLENGE_MS,
    });
    return options;
  }

  async addPasskey(by: Actor, user: string, response: RegistrationResponseJSON, label: string) {
    const pending = this.#takeChallenge(`register:${user}`);
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: originFor(response.response?.clientDataJSON, pending.rpId),
        expectedRPID: pending.rpId,
        requireUserVerification: false,
      });
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      throw refused(`the passkey was not registered: ${(e as Error).message}`);
    }
    if (!verified.verified) throw refused('the passkey was not registered: it did not verify');
    const { credential } = verified.registrationInfo;
    const first = !(await this.enrolled(user));
    const at = this.#clock().toISOString();
    const row: FactorRow = {
      id: randomBytes(8).toString('hex'),
      user_name: user,
      kind: 'passkey',
      label,
      created_at: at,
      confirmed_at: at,
      last_used_at: null,
      totp_secret: null,
      totp_last_step: null,
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      rp_id: pending.rpId,
      transports: credential.transports?.join(',') ?? null,
    };
    return this.#trail.change(async (tx, audit) => {
      // An app begun before (perhaps without proof, while the account had no factor) is dropped.
      await this.#store.removeFactors({ user, pending: true }, tx);
      await this.#store.addFactor(row, tx);
      const codes = first ? await this.#newCodes(user, at, tx) : undefined;
      await audit({
        ...by,
        action: 'factor.add',
        target: user,
        detail: { kind: 'passkey', id: row.id },
      });
      return { factor: view(row), recoveryCodes: codes };
    });
  }

  /** A challenge for the user's passkeys, or undefined when they have none. */
  async passkeyChallenge(user: string): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const keys = (await this.#store.factors(user, true)).filter((f) => f.kind === 'passkey');
    const rpId = keys[0]?.rp_id;
    if (!rpId) return undefined;
    const options = await generateAuthenticationOptions({
      rpID: rpId,
      allowCredentials: keys
        .filter((k) => k.rp_id === rpId)
        .map((k) => ({ id: k.credential_id as string, transports: transportsOf(k) })),
      userVerification: 'preferred',
    });
    this.#challenges.set(`assert:${user}`, {
      challenge: options.challenge,
      rpId,
      until: this.#clock().getTime() + CHALLENGE_MS,
    });
    return options;
  }

  #takeChallenge(key: string) {
    const pending = this.#challenges.get(key);
    this.#challenges.delete(key);
    if (!pending || pending.until < this.#clock().getTime())
      throw refused('the passkey challenge has expired or was never asked: try again');
    return pending;
  }

  // verification

  /**
   * Checks `proof` for `user`; returns the kind used. A TOTP code is good once (its time step is
   * recorded), a recovery code once, a passkey's challenge once.
   */
  async verify(by: Actor, user: string, proof: FactorProof | undefined, why: string) {
    const at = this.#clock().toISOString();
    const fail = async (kind: string, reason: string): Promise<never> => {
      await this.#trail.record({
        ...by,
        action: 'factor.verify',
        target: user,
        outcome: 'failed',
        detail: { kind, for: why, reason },
      });
      throw refused(reason);
    };
    if (!proof) throw refused(`${why} needs your second factor`);
    if ('totp' in proof) {
      for (const row of await this.#store.factors(user, true)) {
        if (row.kind !== 'totp') continue;
        const step = this.#totpStep(row, proof.totp);
        if (step === undefined) continue;
        if (!(await this.#store.spendTotpStep(row.id, step, at)))
          return fail('totp', 'this code was used already: wait for the next one');
        return this.#used(by, user, 'totp', why);
      }
      return fail('totp', 'the authenticator code is wrong');
    }
    if ('recoveryCode' in proof) {
      const ok =
        typeof proof.recoveryCode === 'string' &&
        (await this.#store.spendRecoveryCode(user, recoveryHash(proof.recoveryCode), at));
      if (!ok) return fail('recovery', 'the recovery code is wrong or was used already');
      const left = await this.#store.recoveryCodesLeft(user);
      return this.#used(by, user, 'recovery', why, { left });
    }
    const response = proof.passkey;
    const row = (await this.#store.factors(user, true)).find(
      (f) => f.kind === 'passkey' && f.credential_id === response?.id,
    );
    if (!row?.public_key || !row.rp_id) return fail('passkey', 'this passkey is not enrolled');
    let pending: { challenge: string; rpId: string };
    try {
      pending = this.#takeChallenge(`assert:${user}`);
    } catch (e) {
      return fail('passkey', (e as Error).message);
    }
    let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: originFor(response.response?.clientDataJSON, row.rp_id),
        expectedRPID: row.rp_id,
        credential: {
          id: row.credential_id as string,
          publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
          counter: row.counter ?? 0,
          transports: transportsOf(row),
        },
        requireUserVerification: false,
      });
    } catch (e) {
      return fail('passkey', `the passkey answer did not verify: ${(e as Error).message}`);
    }
    if (!result.verified) return fail('passkey', 'the passkey answer did not verify');
    await this.#store.updateFactor(row.id, {
      counter: result.authenticationInfo.newCounter,
      last_used_at: at,
    });
    return this.#used(by, user, 'passkey', why);
  }

  async #used(
    by: Actor,
    user: string,
    kind: FactorKind,
    why: string,
    extra: Record<string, unknown> = {},
  ): Promise<FactorKind> {
    await this.#trail.record({
      ...by,
      action: 'factor.verify',
      target: user,
      detail: { kind, for: why, ...extra },
    });
    return kind;
  }

  // recovery codes and removal

  async #newCodes(user: string, at: string, tx: Parameters<FactorStore['spendRecoveryCode']>[3]) {
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await this.#store.replaceRecoveryCodes(user, codes.map(recoveryHash), at, tx);
    return codes;
  }

  /** New recovery codes for an enrolled user (the old ones stop working), shown once. */
  async newRecoveryCodes(by: Actor, user: string): Promise<string[]> {
    if (!(await this.enrolled(user)))
      throw new ProtocolError('E_CONFLICT', 'enrol an authenticator app or a passkey first');
    const at = this.#clock().toISOString();
    return this.#trail.change(async (tx, audit) => {
      const codes = await this.#newCodes(user, at, tx);
      await audit({ ...by, action: 'factor.recovery-codes', target: user });
      return codes;
    });
  }

  /** Removes one factor of `user`, or (an admin's reset) all of them and the recovery codes. */
  async remove(by: Actor, user: string, id?: string): Promise<number> {
    const at = this.#clock().toISOString();
    return this.#trail.change(async (tx, audit) => {
      if (id !== undefined) {
        const row = await this.#store.factor(id, tx);
        if (!row || row.user_name !== user)
          throw new ProtocolError('E_NOT_FOUND', `"${user}" has no second factor "${id}"`);
      }
      const removed = await this.#store.removeFactors(id ? { id } : { user }, tx);
      const left = (await this.#store.factors(user, true, tx)).length;
      if (!left) await this.#store.replaceRecoveryCodes(user, [], at, tx);
      await audit({
        ...by,
        action: 'factor.remove',
        target: user,
        detail: id ? { id } : { all: removed },
      });
      return removed;
    });
  }
}

function transportsOf(row: FactorRow): AuthenticatorTransportFuture[] | undefined {
  return row.transports ? (row.transports.split(',') as AuthenticatorTransportFuture[]) : undefined;
}
