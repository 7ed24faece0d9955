/**
 * The console's second factor: the calls of src/api/factors.ts, and the passkey ceremonies
 * through @simplewebauthn/browser (navigator.credentials).
 */
import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import type { SecondFactorStatus } from '../../src/protocol/views.ts';
import { call } from './api.ts';

export type Proof =
  | { totp: string }
  | { recoveryCode: string }
  | { passkey: Awaited<ReturnType<typeof startAuthentication>> };

/** A typed code: six digits from the app, anything else a recovery code. */
export function codeProof(code: string): Proof {
  const clean = code.trim();
  return /^[0-9 ]{6,9}$/.test(clean) ? { totp: clean.replace(/\s/g, '') } : { recoveryCode: clean };
}

export async function passkeyProof(options: unknown): Promise<Proof> {
  return {
    passkey: await startAuthentication({
      optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
    }),
  };
}

/** A request body carrying the proof a change to one's factors needs (none for the first). */
const proven = (stepUp: Proof | undefined) => (stepUp ? { stepUp } : {});

interface Added {
  factor: { id: string };
  recoveryCodes?: string[];
}

export const factorsApi = {
  status: () => call<SecondFactorStatus>('GET', '/api/v1/me/second-factor'),
  beginTotp: (stepUp?: Proof) =>
    call<{ id: string; secret: string; uri: string }>(
      'POST',
      '/api/v1/me/second-factor/totp',
      proven(stepUp),
    ),
  confirmTotp: (id: string, code: string) =>
    call<Added>('POST', `/api/v1/me/second-factor/totp/${encodeURIComponent(id)}/confirm`, {
      code: code.replace(/\s/g, ''),
    }),
  async addPasskey(label: string, stepUp?: Proof): Promise<Added> {
    const options = await call<PublicKeyCredentialCreationOptionsJSON>(
      'POST',
      '/api/v1/me/second-factor/passkey/options',
      proven(stepUp),
    );
    const response = await startRegistration({ optionsJSON: options });
    return call<Added>('POST', '/api/v1/me/second-factor/passkey', { response, label });
  },
  newRecoveryCodes: (stepUp?: Proof) =>
    call<{ recoveryCodes: string[] }>(
      'POST',
      '/api/v1/me/second-factor/recovery-codes',
      proven(stepUp),
    ),
  remove: (id: string, stepUp?: Proof) =>
    call('DELETE', `/api/v1/me/second-factor/${encodeURIComponent(id)}`, proven(stepUp)),
  /** The proof for a step-up: the typed code, else the user's passkey. */
  async stepUp(code: string): Promise<Proof | undefined> {
    if (code.trim()) return codeProof(code);
    const asked = await call<{ passkey?: unknown }>('POST', '/api/v1/me/step-up');
    return asked.passkey ? passkeyProof(asked.passkey) : undefined;
  },
};
