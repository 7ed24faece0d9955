/**
 * One error shape for every HTTP answer: `{ error: { code, message } }` with a stable code
 * (docs/errors.md), turned from thrown values in one place.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FencedError } from '../node/core/leadership.ts';
import { type ErrorCode, ProtocolError } from '../protocol/errors.ts';
import { isStoreClosed, isStoreFailure } from '../store/damage.ts';
import { malformedSentence, type SchemaFailure } from './malformed.ts';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  E_MALFORMED: 400,
  E_TLS_PEER: 403,
  E_TLS_REQUIRED: 403,
  E_TLS_PIN: 502,
  E_TOO_LARGE: 413,
  E_UNSUPPORTED_VERSION: 400,
  E_UNSUPPORTED_SUITE: 400,
  E_UNKNOWN_PARTY: 403,
  E_UNKNOWN_KEY: 403,
  E_BAD_SIGNATURE: 401,
  E_NOT_FOR_ME: 421,
  E_EQUIVOCATION: 409,
  E_BAD_SEAL: 400,
  E_BAD_BODY_HASH: 400,
  E_BAD_CARD: 400,
  E_BAD_ROTATION: 400,
  E_CARD_EXPIRED: 403,
  E_BAD_RECEIPT: 502,
  E_BAD_PROOF: 502,
  E_BAD_DISCONTINUITY: 409,
  E_REPLAY: 409,
  E_RELAY_FULL: 507,
  E_STORE: 503,
  E_OUTBOX_FULL: 507,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_CSRF: 403,
  E_LOCKED: 423,
  E_THROTTLED: 429,
  E_CONFLICT: 409,
  E_NOT_FOUND: 404,
  E_INTERNAL: 500,
  E_BAD_HOST: 421,
  E_BAD_ATTACHMENT: 400,
  E_BAD_NOTIFICATION: 400,
  E_NO_TRANSLATOR: 409,
  E_TRANSLATOR_FAILED: 502,
  E_TLP_RED: 403,
  E_TLP_BELOW_MARKING: 400,
  E_FLASH_TOO_LONG: 400,
  E_UNKNOWN_CODE: 400,
  E_EMPTY_MESSAGE: 400,
  E_SELF_APPROVAL: 403,
  E_SECOND_FACTOR: 401,
  E_ENROL_SECOND_FACTOR: 403,
};

/** Errors of the operator API that are not protocol rejections. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Members the error object carries beside `code` and `message` (a log's `size`). */
  readonly fields: Readonly<Record<string, unknown>>;
  constructor(
    status: number,
    code: string,
    message: string,
    fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/**
 * The longest part of a path the router hands to a route (Fastify's default is 100): an id
 * longer than its schema allows is then refused by the schema, in its words, as on every route.
 */
export const MAX_PATH_PART = 1024;

/** The refusal of a path with a part longer than `MAX_PATH_PART`. */
export const PATH_PART_TOO_LONG = `a part of the path is longer than ${MAX_PATH_PART} characters`;

/**
 * The router's own refusals, before any route is chosen (Fastify's `frameworkErrors`): a path
 * part longer than `MAX_PATH_PART` or not valid percent-encoding. In the one error shape, 400,
 * rather than Fastify's default body, which echoes the whole path.
 */
export function answerRouterError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? PATH_PART_TOO_LONG
      : error.code === 'FST_ERR_BAD_URL'
        ? 'the path is not valid percent-encoding (each % is followed by two hex digits)'
        : 'the path cannot be read';
  reply.status(400).send({ error: { code: 'E_MALFORMED', message } });
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ProtocolError)
      return reply
        .status(HTTP_STATUS[error.code])
        .send({ error: { code: error.code, message: error.message } });
    if (error instanceof ApiError)
      return reply
        .status(error.status)
        .send({ error: { code: error.code, message: error.message, ...error.fields } });
    // Replicas: a change that joined a unit of work of a leader's ended term was refused with it.
    if (error instanceof FencedError)
      return reply.status(HTTP_STATUS.E_CONFLICT).send({
        error: {
          code: 'E_CONFLICT',
          message:
            'this replica stopped leading while the change was being committed: nothing of it was kept; send it again',
        },
      });
    // The node's own store failing is not the caller's mistake nor an unknown bug: 503, as docs say.
    if (isStoreFailure(error)) {
      request.log.error({ err: error }, 'the store failed under a request');
      return reply.status(HTTP_STATUS.E_STORE).send({
        error: {
          code: 'E_STORE',
          message: isStoreClosed(error)
            ? "this node's store is closed (the node is stopping or restarting): send it again once the node is back"
            : "this node's store failed under this request; the node log says why",
        },
      });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const message = malformedSentence(fe.validationContext, fe.validation as SchemaFailure[]);
      return reply.status(400).send({ error: { code: 'E_MALFORMED', message } });
    }
    // A body in another form than JSON (a form, plain text), or one that does not say its type.
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const given = request.headers['content-type']?.slice(0, 100);
      const not = given ? `, not ${given}` : ', and says nothing of its type';
      return reply.status(415).send({
        error: {
          code: 'E_MALFORMED',
          message: `the body must be JSON (content-type application/json)${not}`,
        },
      });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply
        .status(413)
        .send({ error: { code: 'E_TOO_LARGE', message: 'the request body is too large' } });
    if (fe.statusCode && fe.statusCode < 500)
      return reply
        .status(fe.statusCode)
        .send({ error: { code: 'E_MALFORMED', message: fe.message } });
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send({ error: { code: 'E_INTERNAL', message: 'internal error; see the node log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url}` },
    }),
  );
}
