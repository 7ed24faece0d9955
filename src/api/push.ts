/**
 * Web Push subscriptions of the signed-in person (docs/console.md § Notifications on this phone):
 * the node's VAPID public key for `PushManager.subscribe`, and the browsers and phones subscribed.
 * Escalation pushes to the subscriptions of the person on duty at the desk it reaches
 * (src/node/incidents/push.ts). Subscribing and unsubscribing are in the audit trail.
 */
import { Type } from '@sinclair/typebox';
import { userInfoProblem } from '../node/core/data.ts';
import { allowedPushService } from '../node/incidents/push.ts';
import { Written, whenProblem } from '../protocol/common.ts';
import { fromBase64url } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { PushDevice, PushSettings } from '../protocol/views.ts';
import type { PushSubscriptionRow } from '../store/push.ts';
import { actorOf, principalOf } from './access.ts';
import { routes } from './services.ts';

const B64url = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9_-]+={0,2}$', maxLength });
const strict = { additionalProperties: false } as const;

/** What `PushSubscription.toJSON()` gives, with the language and a name for the device. */
const Subscribe = Type.Object(
  {
    endpoint: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
    keys: Type.Object({ p256dh: B64url(100), auth: B64url(40) }, strict),
    lang: Type.Union([Type.Literal('en'), Type.Literal('zh')]),
    label: Type.Optional(Written(100, 1, 'name')),
  },
  strict,
);
const ById = Type.Object(
  {
    id: Type.String({
      pattern: '^[0-9a-f]{32}$',
      description: 'a push device id (32 lowercase hex digits)',
    }),
  },
  strict,
);

function deviceOf(row: PushSubscriptionRow): PushDevice {
  return {
    id: row.id,
    label: row.label,
    lang: row.lang,
    service: new URL(row.endpoint).host,
    createdAt: row.created_at,
    lastOkAt: row.last_ok_at,
    lastError: row.last_error,
  };
}

export const pushRoutes = routes(
  'push-routes',
  ['config', 'push', 'pushSubscriptions', 'people', 'clock'],
  async (app) => {
    const { push, pushSubscriptions } = app;
    const limits = app.config.notify.push;

    app.get(
      '/api/v1/me/push',
      { schema: { tags: ['people'] } },
      async (request): Promise<PushSettings> => {
        const { user } = principalOf(request);
        const rows = await pushSubscriptions.ofUser(user);
        return { publicKey: push.publicKey ?? null, devices: rows.map(deviceOf) };
      },
    );

    app.post(
      '/api/v1/me/push',
      { schema: { body: Subscribe, tags: ['people'] } },
      async (request, reply): Promise<PushDevice> => {
        const { user } = principalOf(request);
        const { endpoint, expirationTime, keys, lang, label } = request.body;
        if (!push.publicKey)
          throw new ProtocolError(
            'E_CONFLICT',
            'this node has no Web Push key: restart it to make one',
          );
        const credentials = userInfoProblem(
          endpoint,
          'a push service never hands out such an endpoint, and each push would send them on',
        );
        if (credentials) throw new ProtocolError('E_MALFORMED', credentials);
        const now = app.clock();
        const expires = expirationTime == null ? undefined : new Date(expirationTime);
        const expired =
          expires &&
          (Number.isNaN(expires.getTime())
            ? `expirationTime ${expirationTime} is not a time`
            : whenProblem(
                { name: 'expirationTime', given: expires.toISOString(), at: expires.toISOString() },
                now,
                'future',
                'the subscription has already expired; subscribe this browser again',
              ));
        if (expired) throw new ProtocolError('E_MALFORMED', expired);
        if (!allowedPushService(endpoint, limits.services))
          throw new ProtocolError(
            'E_MALFORMED',
            `${new URL(endpoint).origin} is not a push service this node sends to (notify.push.services in hotline.yaml)`,
          );
        const p256dh = fromBase64url(keys.p256dh.replace(/=+$/, ''));
        if (p256dh.length !== 65 || p256dh[0] !== 4)
          throw new ProtocolError(
            'E_MALFORMED',
            'keys.p256dh must be an uncompressed P-256 public key (65 bytes, base64url)',
          );
        if (fromBase64url(keys.auth.replace(/=+$/, '')).length !== 16)
          throw new ProtocolError('E_MALFORMED', 'keys.auth must be a 16-byte secret (base64url)');
        const holder = await pushSubscriptions.holderOf(endpoint);
        if (holder !== undefined && holder !== user)
          throw new ProtocolError(
            'E_CONFLICT',
            `this browser or phone is subscribed by another person: "${holder}" must remove it (console, Duty page) before "${user}" can subscribe it`,
          );
        const existing = await pushSubscriptions.ofUser(user);
        if (existing.length >= limits.perUser && !existing.some((row) => row.endpoint === endpoint))
          throw new ProtocolError(
            'E_CONFLICT',
            `"${user}" already has ${existing.length} devices subscribed (notify.push.perUser): remove one first`,
          );
        const at = now.toISOString();
        const id = await pushSubscriptions.put({
          user_name: user,
          endpoint,
          p256dh: keys.p256dh.replace(/=+$/, ''),
          auth: keys.auth.replace(/=+$/, ''),
          lang,
          label: label ?? (request.headers['user-agent'] ?? 'browser').slice(0, 100),
          created_at: at,
        });
        await app.people.trail.record({
          ...actorOf(request),
          action: 'push.subscribe',
          target: id,
          detail: { service: new URL(endpoint).host, lang },
        });
        const row = (await pushSubscriptions.ofUser(user)).find((r) => r.id === id);
        return reply.status(201).send(deviceOf(row as PushSubscriptionRow));
      },
    );

    app.delete(
      '/api/v1/me/push/:id',
      { schema: { params: ById, tags: ['people'] } },
      async (request) => {
        const { user } = principalOf(request);
        const { id } = request.params;
        if (!(await pushSubscriptions.remove(id, user)))
          throw new ProtocolError('E_NOT_FOUND', `"${user}" has no device ${id} subscribed`);
        await app.people.trail.record({
          ...actorOf(request),
          action: 'push.unsubscribe',
          target: id,
        });
        return { ok: true };
      },
    );
  },
);
