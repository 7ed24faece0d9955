/**
 * The console's live feed: a WebSocket at /api/v1/feed that pushes the node's events (a message
 * received, a receipt verified, an alarm raised or cleared) as they happen, so the console never
 * polls. The access hook admits the upgrade like any GET (session cookie or bearer token); a page
 * of another site is refused by its Origin, and a feed whose session has ended is closed.
 *
 * Frames, JSON, server to console only:
 *   {type:"hello", party, at}           once, on connecting
 *   {type:"received", party, ids, at}   messages from `party` stored
 *   {type:"receipted", party, ids, at}  our messages to `party` receipted
 *   {type:"alarm", alarm:{type, party, message}, at}
 *   {type:"alarm-cleared", id, at}
 *   {type:"link", party, path, state, at}   a path changed state (up, degraded, down)
 *   {type:"ping", at}                   every `pingMs`, so a silent drop is noticed
 */
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { FeedEvents } from '../node/core/events.ts';
import type { FeedEvent } from '../protocol/views.ts';
import { checkOrigin, SESSION_COOKIE } from './access.ts';
import { routes } from './services.ts';

export interface LiveOptions extends Record<string, unknown> {
  /** How often the feed pings and looks the session up again. */
  pingMs?: number;
}

/** The close code a console reads as "sign in again". */
export const SESSION_ENDED = 4401;

export const liveRoutes = routes<LiveOptions>(
  'live-feed',
  ['events', 'people', 'config'],
  async (app, { pingMs = 10_000 }) => {
    const { events, people, config } = app;
    await app.register(websocket, { options: { maxPayload: 4096 } });
    // An upgrade refused before it happens (no session, another role) leaves its socket outside
    // the server's connections, where it would linger and hold up the node's shutdown: end it.
    app.addHook('onResponse', async (request, reply) => {
      if (request.headers.upgrade && reply.statusCode >= 400) request.raw.socket?.destroy();
    });
    app.get(
      '/api/v1/feed',
      { websocket: true, schema: { hide: true } },
      (socket: WebSocket, request) => {
        try {
          checkOrigin(request);
        } catch {
          socket.close(1008, 'another site');
          return;
        }
        const send = (frame: FeedEvent) => {
          if (socket.readyState === socket.OPEN)
            socket.send(JSON.stringify({ ...frame, at: new Date().toISOString() }));
        };
        const listeners: { [K in keyof FeedEvents]: (...args: FeedEvents[K]) => void } = {
          received: (party, ids) => send({ type: 'received', party, ids }),
          receipted: (party, ids) => send({ type: 'receipted', party, ids }),
          alarm: (alarm) => send({ type: 'alarm', alarm }),
          'alarm-cleared': (id) => send({ type: 'alarm-cleared', id }),
          link: (party, path, state) => send({ type: 'link', party, path, state }),
          incident: (incident) => send({ type: 'incident', incident }),
          escalation: (step) => send({ type: 'escalation', step }),
          draft: (id, state) => send({ type: 'draft', id, state }),
          acknowledged: (party, id, ack) => send({ type: 'acknowledged', party, id, ack }),
        };
        for (const [event, listener] of Object.entries(listeners))
          events.on(event as keyof FeedEvents, listener as never);
        const session =
          request.principal?.via === 'session' ? request.cookies[SESSION_COOKIE] : null;
        const ping = setInterval(() => {
          void (async () => {
            // A session ended, or its account disabled, stops the feed as it stops any request.
            if (session && !(await people.accounts.fromSession(session).catch(() => undefined)))
              return socket.close(SESSION_ENDED, 'session ended');
            send({ type: 'ping' });
          })();
        }, pingMs);
        socket.on('close', () => {
          clearInterval(ping);
          for (const [event, listener] of Object.entries(listeners))
            events.off(event as keyof FeedEvents, listener as never);
        });
        socket.on('message', () => {
          // The feed is one-way; anything a console sends is ignored.
        });
        send({ type: 'hello', party: config.party });
      },
    );
  },
);
