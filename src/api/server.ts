/**
 * The node's two listeners: federation (peers) and operator (CLI, console, metrics), on separate
 * addresses so the operator surface is never exposed to the peer network.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Heartbeats } from '../node/heartbeat.ts';
import type { Node } from '../node/node.ts';
import { LIMITS } from '../protocol/limits.ts';
import { installErrorHandler } from './errors.ts';
import { federationRoutes } from './federation.ts';
import { operatorRoutes } from './operator.ts';

const ajv = {
  customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false },
} as const;

function base(logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.requestBytes,
    ajv,
  });
  installErrorHandler(app);
  return app as unknown as FastifyInstance;
}

export async function federationServer(
  node: Node,
  heartbeats: Heartbeats,
): Promise<FastifyInstance> {
  const app = base(node.logger.child({ listener: 'federation' }));
  await app.register(federationRoutes, { node, heartbeats });
  return app;
}

export async function operatorServer(
  node: Node,
  heartbeats: Heartbeats,
  token: string,
): Promise<FastifyInstance> {
  const app = base(node.logger.child({ listener: 'operator' }));
  await app.register(swagger, {
    openapi: {
      info: { title: 'Hotline operator API', version: '1' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      security: [{ token: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', node.metrics.registry.contentType);
    await refreshGauges(node);
    return node.metrics.registry.metrics();
  });
  await app.register(operatorRoutes, { node, heartbeats, token });
  return app;
}

async function refreshGauges(node: Node): Promise<void> {
  for (const party of node.peers.keys()) {
    const stats = await node.store.outboxStats(party);
    node.metrics.outboxDepth.set({ peer: party }, stats.pending);
    node.metrics.oldestUnreceiptedSeconds.set(
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
