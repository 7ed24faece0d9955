/**
 * The node's two listeners: federation (peers) and operator (CLI, console, metrics), on separate
 * addresses so the operator surface is never exposed to the peer network.
 */

import { isIP } from 'node:net';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Plugin, SchemaValidateFunction } from 'ajv';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../node/core/config.ts';
import type { Principal } from '../node/people/accounts.ts';
import type { People } from '../node/people/people.ts';
import { calendarFault, inputProblem, webAddressProblem } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import { installAccess } from './access.ts';
import { installBoundedJson } from './bounded-json.ts';
import { consoleRoutes } from './console.ts';
import { answerRouterError, installErrorHandler, MAX_PATH_PART } from './errors.ts';
import { factorRoutes } from './factors.ts';
import { federationRoutes } from './federation.ts';
import { healthRoutes } from './health.ts';
import { hostPort } from './listen.ts';
import { liveRoutes } from './live.ts';
import { OPENAPI } from './openapi.ts';
import { operatorRoutes } from './operator.ts';
import { peopleRoutes } from './people.ts';
import { claimedParties, installPinnedTls } from './pinned-tls.ts';
import { pushRoutes } from './push.ts';
import { type ApiServices, type App, services } from './services.ts';

/**
 * `calendar: true` (the `Instant` of src/protocol/common.ts): a time a person entered must name
 * a real instant — "request body/times/0 is not a calendar date/time: 2027-02-30T14:00:00.000Z
 * (February 2027 has no day 30)". A keyword rather than a `format`, which TypeBox's wire checks
 * would fail unregistered; registered on every listener, used only by operator schemas.
 */
const calendarKeyword: Plugin<unknown> = (validator) => {
  const check: SchemaValidateFunction = (enabled: boolean, value: string) => {
    const fault = enabled ? calendarFault(value) : undefined;
    const message = fault && `is not a calendar ${fault.what}: ${value} (${fault.why})`;
    check.errors = message ? [{ keyword: 'calendar', message, params: {} }] : [];
    return fault === undefined;
  };
  return validator.addKeyword({
    keyword: 'calendar',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    validate: check,
  });
};

/**
 * `written: 'text' | 'name'` (the `Written` of src/protocol/common.ts): text a person typed is not
 * blank, has no control character, and a name no bidi control — "request body/displayName has
 * U+202E RIGHT-TO-LEFT OVERRIDE, …" (`inputProblem`). Registered as `calendar` is.
 */
const writtenKeyword: Plugin<unknown> = (validator) => {
  const check: SchemaValidateFunction = (kind: 'text' | 'name', value: string) => {
    const message = inputProblem(value, kind);
    check.errors = message ? [{ keyword: 'written', message, params: {} }] : [];
    return message === undefined;
  };
  return validator.addKeyword({
    keyword: 'written',
    type: 'string',
    schemaType: 'string',
    errors: true,
    validate: check,
  });
};

/**
 * `address: true` (the `WebAddress` of src/protocol/common.ts): a URL the node will call parses and
 * names a host — "request body/routes/0/url must be an https address such as
 * https://pager.example/hook ("https://" has no host)". Registered as `calendar` is.
 */
const addressKeyword: Plugin<unknown> = (validator) => {
  const check: SchemaValidateFunction = (enabled: boolean, value: string, schema: unknown) => {
    const problem = enabled ? webAddressProblem(value) : undefined;
    const { description } = schema as { description?: string };
    const message = problem && `must be ${description} ("${value}" ${problem})`;
    check.errors = message ? [{ keyword: 'address', message, params: {} }] : [];
    return problem === undefined;
  };
  return validator.addKeyword({
    keyword: 'address',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    validate: check,
  });
};

// verbose: a failed check carries the schema it broke, whose `description` words the error.
const ajv = {
  customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, verbose: true },
  plugins: [calendarKeyword, writtenKeyword, addressKeyword],
};

/**
 * A listener's Fastify instance: JSON bodies bounded before they are parsed, requests cut off when
 * they arrive too slowly, a connection cap, one error shape, handlers typed by schema, and
 * answers a browser neither sniffs nor caches. A body that is not UTF-8 text is refused on every
 * listener (docs/protocol.md § Encodings: a decoder MUST refuse malformed UTF-8).
 */
export function listenerApp(logger: Logger, limits: HttpLimits = DEFAULT_HTTP_LIMITS): App {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.requestBytes,
    routerOptions: { maxParamLength: MAX_PATH_PART },
    frameworkErrors: answerRouterError,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      // How often Node checks the two timeouts above (its default, 30 s, would let a slow
      // request run up to 30 s past its limit).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.requestTimeoutMs / 4)),
    },
    ajv,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = limits.maxConnections;
  installBoundedJson(app, limits);
  // Bodies are JSON only: plain text would reach a schema as a string ("must be object").
  app.removeContentTypeParser('text/plain');
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  installErrorHandler(app);
  return app;
}

/**
 * DNS rebinding: a page on `evil.example` whose name later resolves to 127.0.0.1 reaches the
 * operator listener as same-origin, so its Origin check passes; its Host header still says
 * `evil.example`. The listener answers only loopback names, IP literals (which rebinding cannot
 * use), its own listen host and the names configured in `http.operatorHosts`.
 */
export function installHostCheck(app: App, listen: string, names: readonly string[]): void {
  const allowed = new Set([
    'localhost',
    hostPort(listen).host.toLowerCase(),
    ...names.map((n) => n.toLowerCase()),
  ]);
  app.addHook('onRequest', async (request) => {
    const host = hostName(request.headers.host ?? '');
    if (allowed.has(host) || isIP(host) !== 0) return;
    throw new ProtocolError(
      'E_BAD_HOST',
      `this listener does not answer for the host "${host.slice(0, 64)}"; add it to http.operatorHosts`,
    );
  });
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
function hostName(header: string): string {
  const host = header.toLowerCase();
  if (host.startsWith('['))
    return host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export async function federationServer(given: ApiServices): Promise<App> {
  const logger = given.logger.child({ listener: 'federation' });
  const app = listenerApp(logger, given.config.http);
  if (given.tls)
    installPinnedTls(app, {
      tls: given.tls,
      cards: () => [...given.peers.values()].map((p) => p.card),
      claimed: (request) => claimedParties(request.body),
      refused: (reason) => given.metrics.tlsRefused.inc({ reason }),
      logger,
      handshakeMs: given.config.http.headersTimeoutMs,
    });
  app.addHook('onResponse', async (request) => {
    const route = request.routeOptions.url ?? 'unknown';
    given.metrics.federationRequests.inc({ route, method: request.method });
  });
  await app.register(services, given);
  await app.register(healthRoutes);
  await app.register(federationRoutes);
  return app;
}

export async function operatorServer(given: ApiServices): Promise<App> {
  const app = listenerApp(given.logger.child({ listener: 'operator' }), given.config.http);
  installHostCheck(app, given.config.operatorListen, given.config.http.operatorHosts);
  await installAccess(app, { people: given.people });
  await app.register(swagger, OPENAPI as never);
  await app.register(services, given);
  await app.register(healthRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', given.metrics.registry.contentType);
    await refreshGauges(given);
    return given.metrics.registry.metrics();
  });
  await app.register(operatorRoutes);
  await app.register(peopleRoutes);
  await app.register(factorRoutes);
  await app.register(pushRoutes);
  await app.register(liveRoutes);
  await app.register(consoleRoutes);
  return app;
}

/**
 * The people routes alone, never listening, every request acting as `local`: how commands run on
 * a stopped node's data folder (`hotline user …` with no node running) go through the same
 * validation, rules and audit as the API.
 */
export async function localPeopleServer(
  people: People,
  local: Principal,
  logger: Logger,
): Promise<App> {
  const app = listenerApp(logger);
  await installAccess(app, { people, local });
  await app.register(services, { people });
  await app.register(peopleRoutes);
  await app.register(factorRoutes);
  return app;
}

async function refreshGauges({ peers, store, metrics }: ApiServices): Promise<void> {
  for (const party of peers.keys()) {
    const stats = await store.outboxStats(party);
    metrics.outboxDepth.set({ peer: party }, stats.pending);
    metrics.oldestUnreceiptedSeconds.set(
      { peer: party },
      stats.oldestPending ? (Date.now() - Date.parse(stats.oldestPending)) / 1000 : 0,
    );
  }
}
