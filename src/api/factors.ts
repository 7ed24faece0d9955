/**
 * The second-factor routes (docs/people.md § Second factor): the second step of a sign-in,
 * enrolling an authenticator app or a passkey, recovery codes, an admin's reset, and the step-up
 * check that approving a held flash or breaking glass asks for.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { FactorProof } from '../node/people/factors.ts';
import type { People } from '../node/people/people.ts';
import { UserName } from '../node/people/roster.ts';
import { Written } from '../protocol/common.ts';
import type { SecondFactorStatus, SessionView } from '../protocol/views.ts';
import { actorOf, principalOf, sessionCookie } from './access.ts';
import { ApiError } from './errors.ts';
import { routes } from './services.ts';

const strict = { additionalProperties: false } as const;
const open = { additionalProperties: true } as const;
const B64 = Type.String({ pattern: '^[A-Za-z0-9_-]*={0,2}$', maxLength: 65_536 });
const AuthenticatorCode = Type.String({
  pattern: '^[0-9 ]{6,9}$',
  description: 'an authenticator code (6 digits)',
});

/** A WebAuthn answer as @simplewebauthn/browser gives it (checked in full by the verifier). */
const Credential = {
  id: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 1024 }),
  rawId: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 1024 }),
  type: Type.Literal('public-key'),
  clientExtensionResults: Type.Object({}, open),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
};
const PasskeyAssertion = Type.Unsafe<AuthenticationResponseJSON>(
  Type.Object(
    {
      ...Credential,
      response: Type.Object(
        {
          clientDataJSON: B64,
          authenticatorData: B64,
          signature: B64,
          userHandle: Type.Optional(B64),
        },
        strict,
      ),
    },
    open,
  ),
);
const PasskeyAttestation = Type.Unsafe<RegistrationResponseJSON>(
  Type.Object(
    {
      ...Credential,
      response: Type.Object({ clientDataJSON: B64, attestationObject: B64 }, open),
    },
    open,
  ),
);

/** A second factor in a request: one of an authenticator code, a recovery code or a passkey. */
export const FactorProofSchema = Type.Union([
  Type.Object({ totp: AuthenticatorCode }, strict),
  Type.Object({ recoveryCode: Type.String({ minLength: 1, maxLength: 40 }) }, strict),
  Type.Object({ passkey: PasskeyAssertion }, strict),
]);

const Ticket = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const SecondStep = Type.Object({ ticket: Ticket, proof: FactorProofSchema }, strict);
const Label = Written(100, 1, 'name');
/** The proof of a factor the account has already, which a change to its factors needs. */
const Proven = { stepUp: Type.Optional(FactorProofSchema) };
const NewTotp = Type.Object({ label: Type.Optional(Label), ...Proven }, strict);
const TotpCode = Type.Object({ code: AuthenticatorCode }, strict);
const NewPasskey = Type.Object(
  { response: PasskeyAttestation, label: Type.Optional(Label) },
  strict,
);
const FactorId = Type.Object(
  {
    id: Type.String({
      pattern: '^[0-9a-f]{16}$',
      description: 'a second factor id (16 lowercase hex digits)',
    }),
  },
  strict,
);
const ByName = Type.Object({ name: UserName }, strict);

const ProvenOnly = Type.Object(Proven, strict);

/** A route whose body only may carry a proof is also called without one (as it was before). */
async function bodyOrEmpty(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/**
 * Asks the caller for their second factor again before `why` (a step-up): a data-folder command
 * is not asked (its user holds the node's keys anyway); anyone with a factor must give it; a role
 * that must have one and has none is refused until it enrols, unless `ifEnrolled` (a change to
 * factors: the first one is added with a password or a token alone, and an admin's reset is asked
 * only of an admin who has one).
 */
export async function stepUp(
  people: People,
  request: FastifyRequest,
  proof: FactorProof | undefined,
  why: string,
  { ifEnrolled = false } = {},
): Promise<void> {
  const p = principalOf(request);
  if (p.via === 'data-folder') return;
  if (!(await people.factors.enrolled(p.user))) {
    if (ifEnrolled || !people.factors.required(p.role)) return;
    throw new ApiError(
      403,
      'E_ENROL_SECOND_FACTOR',
      `${why} needs a second factor and "${p.user}" has none: enrol one in the console (Security)`,
    );
  }
  await people.factors.verify(actorOf(request), p.user, proof, why);
}

/** Changes to factors: proof of one the caller has, none for an account's first. */
const IF_ENROLLED = { ifEnrolled: true };

export const factorRoutes = routes('factor-routes', ['people'], async (app) => {
  const { accounts, factors } = app.people;

  app.post(
    '/api/v1/session/second-factor',
    { schema: { body: SecondStep, tags: ['people'], security: [] } },
    async (request, reply): Promise<SessionView> => {
      const { ticket, proof } = request.body;
      const login = await accounts.completeLogin(ticket, proof, request.ip);
      reply.setCookie(...sessionCookie(login.sessionId, accounts.policy.sessionHours));
      return { user: login.user, csrfToken: login.csrfToken, expiresAt: login.expiresAt };
    },
  );

  app.get(
    '/api/v1/me/second-factor',
    { schema: { tags: ['people'] } },
    async (request): Promise<SecondFactorStatus> => {
      const p = principalOf(request);
      return factors.status(p.user, p.role);
    },
  );

  app.post(
    '/api/v1/me/second-factor/totp',
    { schema: { body: NewTotp, tags: ['people'] }, preValidation: bodyOrEmpty },
    async (request) => {
      await stepUp(app.people, request, request.body.stepUp, 'adding a second factor', IF_ENROLLED);
      return factors.beginTotp(principalOf(request).user, request.body.label);
    },
  );

  app.post(
    '/api/v1/me/second-factor/totp/:id/confirm',
    { schema: { params: FactorId, body: TotpCode, tags: ['people'] } },
    async (request) =>
      factors.confirmTotp(
        actorOf(request),
        principalOf(request).user,
        request.params.id,
        request.body.code,
      ),
  );

  app.post(
    '/api/v1/me/second-factor/passkey/options',
    { schema: { body: ProvenOnly, tags: ['people'] }, preValidation: bodyOrEmpty },
    async (request) => {
      await stepUp(app.people, request, request.body.stepUp, 'adding a second factor', IF_ENROLLED);
      return factors.passkeyRegistration(
        principalOf(request).user,
        factors.rpId(request.headers.host),
      );
    },
  );

  app.post(
    '/api/v1/me/second-factor/passkey',
    { schema: { body: NewPasskey, tags: ['people'] } },
    async (request) =>
      factors.addPasskey(
        actorOf(request),
        principalOf(request).user,
        request.body.response,
        request.body.label ?? 'passkey',
      ),
  );

  app.post(
    '/api/v1/me/second-factor/recovery-codes',
    { schema: { body: ProvenOnly, tags: ['people'] }, preValidation: bodyOrEmpty },
    async (request) => {
      await stepUp(
        app.people,
        request,
        request.body.stepUp,
        'making new recovery codes',
        IF_ENROLLED,
      );
      return {
        recoveryCodes: await factors.newRecoveryCodes(actorOf(request), principalOf(request).user),
      };
    },
  );

  app.delete(
    '/api/v1/me/second-factor/:id',
    {
      schema: { params: FactorId, body: ProvenOnly, tags: ['people'] },
      preValidation: bodyOrEmpty,
    },
    async (request) => {
      await stepUp(
        app.people,
        request,
        request.body.stepUp,
        'removing a second factor',
        IF_ENROLLED,
      );
      return {
        removed: await factors.remove(
          actorOf(request),
          principalOf(request).user,
          request.params.id,
        ),
      };
    },
  );

  /** A passkey challenge for a step-up (the approve and break-glass requests carry the answer). */
  app.post('/api/v1/me/step-up', { schema: { tags: ['people'] } }, async (request) => {
    const p = principalOf(request);
    return {
      methods: await factors.methods(p.user),
      passkey: await factors.passkeyChallenge(p.user),
    };
  });

  app.delete(
    '/api/v1/users/:name/second-factor',
    { schema: { params: ByName, body: ProvenOnly, tags: ['people'] }, preValidation: bodyOrEmpty },
    async (request) => {
      const { name } = request.params;
      await accounts.get(name);
      await stepUp(
        app.people,
        request,
        request.body.stepUp,
        `resetting the second factor of "${name}"`,
        IF_ENROLLED,
      );
      return { removed: await factors.remove(actorOf(request), name) };
    },
  );
});
