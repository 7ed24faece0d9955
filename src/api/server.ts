/**
 * The node's two listeners: federation (peers) and operator (CLI, console, metrics), on separate
 * addresses so the operator surface is never exposed to the peer network.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../node/people/accounts.ts';
import type { People } from '../node/people/people.ts';
import { LIMITS } from '../protocol/limits.ts';
import { installAccess } from './access.ts';
import { consoleRoutes } from './console.ts';
import { installErrorHandler } from './errors.ts';
import { factorRoutes } from './factors.ts';
import { federationRoutes } from './federation.ts';
import { liveRoutes } from './live.ts';
import { operatorRoutes } from './operator.ts';
import { peopleRoutes } from './people.ts';
import { type ApiServices, type App, services } from './services.ts';

const ajv = {
  customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false },
} as const;

/** A listener's Fastify instance: bounded bodies, one error shape, handlers typed by schema. */
export function listenerApp(logger: Logger): App {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.requestBytes,
    ajv,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  return app;
}

export async function federationServer(given: ApiServices): Promise<App> {
  const app = listenerApp(given.logger.child({ listener: 'federation' }));
  await app.register(services, given);
  await app.register(federationRoutes);
  return app;
}
const OPENAPI = {
  openapi: {
    info: { title: 'Hotline operator API', version: '1' },
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: '__Host-hotline-session' },
      },
    },
    security: [{ token: [] }, { session: [] }],
  },
} as const;

export async function operatorServer(given: ApiServices): Promise<App> {
  const app = listenerApp(given.logger.child({ listener: 'operator' }));
  await installAccess(app, { people: given.people });
  await app.register(swagger, OPENAPI as never);
  await app.register(services, given);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', given.metrics.registry.contentType);
    await refreshGauges(given);
    return given.metrics.registry.metrics();
  });
  await app.register(operatorRoutes);
  await app.register(peopleRoutes);
  await app.register(factorRoutes);
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

/** Splits "host:port" (IPv6 in brackets) for listen(). */
export function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return {
    host: address.slice(0, at).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(at + 1)),
  };
}
