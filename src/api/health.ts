/**
 * `GET /healthz` on both listeners, for a load balancer, systemd or a monitor: 200
 * `{"status":"ok"}` while the node is up and its store answers a read, 503 `E_STORE` when it does
 * not. Anyone may ask (it says nothing a caller of the listener does not already know); it writes
 * nothing and holds no lock, and it is not logged per request, so a probe every second floods
 * nothing. A failing store is logged once when it starts failing and once when it answers again.
 */
import { ProtocolError } from '../protocol/errors.ts';
import { within } from './batch-answers.ts';
import { routes } from './services.ts';

/** Longer than any read of a working store; shorter than a prober's usual timeout. */
export const HEALTH_READ_MS = 2000;

/** The meta key read (its value, if any, is never sent): any row of a real table will do. */
const PROBE_KEY = 'health';

export const healthRoutes = routes('health', ['store'], async (app) => {
  const { store } = app;
  let failing = false;
  app.get('/healthz', { schema: { hide: true } }, async (request) => {
    let failure: unknown;
    const read = await within(
      store.getMeta(PROBE_KEY).then(() => true),
      HEALTH_READ_MS,
    ).catch((e: unknown) => {
      failure = e;
      return false;
    });
    if (read) {
      if (failing) request.log.info('health: the store answers again');
      failing = false;
      return { status: 'ok' };
    }
    if (!failing)
      request.log.warn(
        { err: failure, withinMs: HEALTH_READ_MS },
        failure ? 'health: the store failed a read' : 'health: the store did not answer a read',
      );
    failing = true;
    throw new ProtocolError(
      'E_STORE',
      "this node's store does not answer a read: the node can neither take in nor show messages until it does; its log says why",
    );
  });
});
