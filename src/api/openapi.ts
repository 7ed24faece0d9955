/**
 * The operator API's OpenAPI document, served at `/openapi.json` by @fastify/swagger from the
 * routes' schemas. Swagger knows only what a route declares, so each operation would list a bare
 * "200"; the refusals it can give are added here, by the class of route (who may call it, whether
 * it takes a body, names something in its path, changes anything), each with the one error shape
 * of docs/errors.md.
 *
 * They are added to the document only (`transformObject`), never to a route's `response` schema:
 * Fastify serializes a reply through that schema and drops every member it does not name, so an
 * error body would no longer be sent as thrown.
 */
import { ErrorBody } from '../protocol/federation.ts';
import { ACCESS } from './access.ts';

const ERROR_REF = '#/components/schemas/Error';
/** The members of a path item that are operations. */
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head']);

/** What each operation of the document holds that tells its class. */
interface Operation {
  parameters?: Array<{ in: string; name: string }>;
  responses?: Record<string, unknown>;
}

/** The refusals of the two public routes that sign in, which anonymous callers get. */
const SIGN_IN_ERRORS: Record<string, Record<number, string>> = {
  'POST /api/v1/session': {
    401: 'E_UNAUTHORIZED: a wrong user name or password, or a disabled or locked account (one answer for all four); E_SECOND_FACTOR: the password is right and a second factor is needed',
    429: 'E_THROTTLED: this name failed to sign in repeatedly from this address; the message says when to try again',
  },
  'POST /api/v1/session/second-factor': {
    401: 'E_SECOND_FACTOR: the second factor is wrong, used already, or its challenge expired',
  },
};

/** The refusals an operation can answer, status by status, with the codes and when. */
function errorsOf(method: string, path: string, operation: Operation): Map<number, string> {
  const route = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
  const named = new Set(
    (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
  );
  const takesBody = ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase());
  const changes = method.toUpperCase() !== 'GET';
  const signedIn = ACCESS[route] !== 'public';
  const errors = new Map<number, string>();
  if (takesBody || operation.parameters?.length)
    errors.set(
      400,
      "E_MALFORMED: a path parameter, query or body that breaks the route's schema, or a body that is not UTF-8 JSON; a release refused for what its message says has its own code (docs/errors.md)",
    );
  if (signedIn) {
    errors.set(
      401,
      'E_UNAUTHORIZED: no valid bearer token (Authorization: Bearer hlt_…) or console session; E_SECOND_FACTOR: a second factor this act needs is missing or wrong',
    );
    errors.set(
      403,
      "E_FORBIDDEN: the role or the token's scope does not allow this route, or the caller does not staff the desk it acts for; E_CSRF: a change on a console session without its X-CSRF-Token, or from another site's page; E_ENROL_SECOND_FACTOR: the account must enrol a second factor first",
    );
  } else
    errors.set(403, "E_CSRF: a request from another site's page (its Origin is not this listener)");
  for (const [status, words] of Object.entries(SIGN_IN_ERRORS[route] ?? {}))
    errors.set(Number(status), words);
  if (named.size) errors.set(404, 'E_NOT_FOUND: nothing here has the id or name given in the path');
  if (changes)
    errors.set(
      409,
      'E_CONFLICT: the change contradicts the current state (docs/errors.md), or a replica stopped leading while committing it: nothing was kept, send it again',
    );
  if (takesBody) {
    errors.set(413, 'E_TOO_LARGE: the body is over the size this route takes');
    errors.set(
      415,
      'E_MALFORMED: the body is not JSON (send it with content-type application/json)',
    );
  }
  errors.set(
    421,
    'E_BAD_HOST: this listener does not answer for the Host given (add the name to http.operatorHosts)',
  );
  errors.set(500, 'E_INTERNAL: an unexpected failure; the node log has the details');
  const damaged =
    named.has('incident') || (named.has('party') && named.has('id'))
      ? '; or the stored copy of a message this route reads no longer matches its signed header: it is withheld, and an integrity alarm is raised'
      : '';
  errors.set(
    503,
    `E_STORE: this node's store failed under the request (the node log says why)${damaged}`,
  );
  return errors;
}

/** Adds each operation's refusals to the document swagger built, beside its success answer. */
function withErrors<D extends { paths?: object; components?: object }>(document: D): D {
  for (const [path, item] of Object.entries(document.paths ?? {}) as [string, object][])
    for (const [method, operation] of Object.entries(item) as [string, Operation][]) {
      if (!METHODS.has(method)) continue;
      // Statuses are integer keys: an object lists them in ascending order, 200 first.
      const responses = operation.responses ?? {};
      for (const [status, description] of errorsOf(method, path, operation))
        responses[status] = {
          description,
          content: { 'application/json': { schema: { $ref: ERROR_REF } } },
        };
      operation.responses = responses;
    }
  return document;
}

export const OPENAPI = {
  openapi: {
    info: { title: 'Hotline operator API', version: '1' },
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: '__Host-hotline-session' },
      },
      // Converted by swagger like a route's schema (`const` becomes `enum`).
      schemas: { Error: ErrorBody },
    },
    security: [{ token: [] }, { session: [] }],
  },
  transformObject: (document: { openapiObject?: { paths?: object; components?: object } }) =>
    withErrors(document.openapiObject ?? {}),
};
