/**
 * The operator API under /api/v1 (the CLI and, later, the console): messages, status and alarms.
 * Who may call each route is decided in one hook (src/api/access.ts).
 */
import { type Static, Type } from '@sinclair/typebox';
import { fingerprint } from '../crypto/card.ts';
import { followupView } from '../node/incidents/escalation.ts';
import type { AuditAction } from '../node/people/trail.ts';
import { Body } from '../protocol/body.ts';
import { PartyId, Written } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { Alarm, InboxItem, NodeStatus, OutboxItem, Rotations } from '../protocol/views.ts';
import { actorOf, principalOf, staffing } from './access.ts';
import {
  answerOf,
  approvalRoutes,
  BreakGlassRequest,
  breakGlassOf,
  deciderOf,
} from './approvals.ts';
import { flowRoutes } from './flows.ts';
import { frameworkRoutes } from './frameworks.ts';
import { historyRoutes } from './history.ts';
import { incidentRoutes } from './incidents.ts';
import { languageRoutes } from './language.ts';
import { QueryCount, RowId } from './query.ts';
import { regimeRoutes } from './regimes.ts';
import { routes } from './services.ts';

export const SendRequest = Type.Object(
  {
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients, uniqueItems: true }),
    message: Type.Omit(Body, ['salt']),
    /** An officer releasing a message the two-person rule holds, without a second approval. */
    breakGlass: Type.Optional(BreakGlassRequest),
  },
  { additionalProperties: false },
);
export type SendRequest = Static<typeof SendRequest>;

/**
 * Why a message is not sent on the generic route, or undefined: a person's answer to one message
 * goes by the route of its own, which checks the message answered and records the answer (an ack
 * stops that message's escalation, a reminder restarts it, a presence answer or a conference's
 * accept or decline follows its flow; a further time, `propose`, is the requester's too and goes
 * here). The sentence names that route.
 */
export function ownRouteProblem(message: SendRequest['message']): string | undefined {
  const route =
    message.type === 'ack'
      ? 'an ack goes by POST /api/v1/messages/:party/:id/ack (hotline ack PARTY ID)'
      : message.type === 'reminder'
        ? 'a reminder goes by POST /api/v1/messages/:party/:id/remind (hotline remind PARTY ID)'
        : message.presence?.answer !== undefined
          ? 'a presence answer goes by POST /api/v1/messages/:party/:id/presence'
          : message.conference?.action === 'accept' || message.conference?.action === 'decline'
            ? 'an accept or decline of a conference goes by POST /api/v1/conferences/:party/:id/answer'
            : undefined;
  return (
    route && `${route}, which checks the message it answers: it is not sent as a plain message`
  );
}

/** Query strings arrive as text (the validator does not coerce types): digits only. */
const Limit = Type.Object(
  { limit: Type.Optional(QueryCount(10_000)) },
  { additionalProperties: false },
);
const limitOf = (query: Static<typeof Limit>) => Number(query.limit ?? 100);

/** Routes of other plugins registered below that the audit trail records. */
const AUDITED: Record<string, AuditAction> = {
  'GET /api/v1/messages/:party/:id': 'message.view',
  'POST /api/v1/incidents/:incident/cap': 'export',
  'POST /api/v1/exports/red': 'export',
  'GET /api/v1/incidents/:incident/export': 'export',
};

/** Message ids a view records; a larger listing records these and its count. */
const VIEW_IDS = 500;

/** Open alarms listed per page (the status carries the first page of each category). */
const ALARM_PAGE = 100;

/**
 * A page of open alarms of one category (faults unless `waiting` is asked), newest first: the
 * next page is asked with `before` = the last id of this one, until a page is short.
 */
const AlarmPage = Type.Object(
  {
    category: Type.Optional(Type.Union([Type.Literal('fault'), Type.Literal('waiting')])),
    before: Type.Optional(RowId),
    limit: Type.Optional(QueryCount(1000)),
  },
  { additionalProperties: false },
);

const ClearAlarm = Type.Object(
  { note: Type.Optional(Written(1000)) },
  { additionalProperties: false },
);

export const operatorRoutes = routes(
  'operator-routes',
  [
    'config',
    'card',
    'store',
    'ledger',
    'peers',
    'alarms',
    'followups',
    'paths',
    'witness',
    'rotations',
    'sealingKeys',
  ],
  async (app) => {
    const { config, card, store, ledger, peers, alarms, followups, paths, witness } = app;
    const { rotations, sealingKeys } = app;
    const { approvals, heartbeats, language, people, watchdog } = app;
    const { roster, trail } = people;

    // A message the two-person rule names waits for a second officer (202, a draft); any other is
    // released at once (201). Toward the peer a person is their desk, unless policy discloses
    // names; the audit trail keeps who it was.
    app.post(
      '/api/v1/messages',
      { schema: { body: SendRequest, tags: ['messages'] } },
      async (request, reply) => {
        const { to, message, breakGlass } = request.body;
        const ownRoute = ownRouteProblem(message);
        if (ownRoute) throw new ProtocolError('E_MALFORMED', ownRoute);
        await staffing(roster, request, message.author.desk, 'write as');
        await language.checkCitations(message);
        const { status, body } = answerOf(
          await approvals.submit(deciderOf(request), to, message, {
            ...breakGlassOf(people, request, breakGlass),
          }),
        );
        return reply.status(status).send(body);
      },
    );

    app.get(
      '/api/v1/inbox',
      { schema: { querystring: Limit, tags: ['messages'] } },
      async (request): Promise<InboxItem[]> => {
        const rows = await store.listInbox(limitOf(request.query));
        await viewed(request, 'inbox', rows);
        const local = new Map<string, NonNullable<InboxItem['localTranslations']>>();
        for (const party of new Set(rows.map((r) => r.party)))
          for (const t of await store.translationsOf(
            party,
            rows.filter((r) => r.party === party).map((r) => r.id),
          )) {
            const key = `${t.party}/${t.message_id}`;
            local.set(key, [
              ...(local.get(key) ?? []),
              { lang: t.lang, text: t.text, kind: t.kind, translator: t.translator },
            ]);
          }
        return rows.map((r) => ({
          from: r.party,
          id: r.id,
          seq: r.seq,
          receivedAt: r.received_at,
          sent: r.sent,
          body: r.body,
          localTranslations: local.get(`${r.party}/${r.id}`) ?? [],
        }));
      },
    );

    app.get(
      '/api/v1/outbox',
      { schema: { querystring: Limit, tags: ['messages'] } },
      async (request): Promise<OutboxItem[]> => {
        const rows = await store.listOutbox(limitOf(request.query));
        await viewed(request, 'outbox', rows);
        // Sent → received (machine) → acknowledged (a person) → answered, with the deadline.
        const views = new Map(
          (await followups.ofMessages(rows.map((r) => r.id)))
            .filter((f) => f.dir === 'out')
            .map((f) => [`${f.party}/${f.id}`, followupView(f)]),
        );
        return rows.map((r) => ({
          to: r.party,
          id: r.id,
          seq: r.seq,
          status: r.status,
          createdAt: r.created_at,
          receiptedAt: r.receipted_at,
          peerReceivedAt: r.peer_received_at,
          attempts: r.attempts,
          lastError: r.last_error,
          followup: views.get(`${r.party}/${r.id}`) ?? null,
          body: r.body,
        }));
      },
    );

    app.get('/api/v1/status', { schema: { tags: ['status'] } }, async (): Promise<NodeStatus> => {
      const list = [];
      for (const peer of peers.values()) {
        list.push({
          party: peer.party,
          names: peer.card.names,
          timeZone: config.timeZones[peer.party] ?? null,
          fingerprint: peer.fingerprint,
          path: heartbeats.status(peer.party),
          // Every path with its state, and the failovers between them since the node started.
          ...paths.status(peer.party),
          outbox: await store.outboxStats(peer.party),
          received: peers.received(peer.party).contiguous,
          // Its checkpoint we last accepted; our largest checkpoint it co-signed.
          witness: await witness.status(peer.party),
          // Its vocabulary against ours: a difference is a warning for operators.
          vocabulary: language.peer(peer.party),
        });
      }
      return {
        party: config.party,
        names: card.card.names,
        timeZone: config.timeZones[config.party] ?? null,
        deskLabels: config.deskLabels,
        ledger: { size: await ledger.refresh() },
        vocabulary: language.ownCard(),
        peers: list,
        alarms: await store.openAlarms({ category: 'fault', limit: ALARM_PAGE }),
        waiting: await store.openAlarms({ category: 'waiting', limit: ALARM_PAGE }),
        counts: await store.openAlarmCounts(),
        watchdog: watchdog?.status() ?? null,
        sealingKeys: await sealingKeys.status(),
        card: {
          serial: card.card.serial,
          fingerprint: fingerprint(card.card),
          issued: card.card.issued,
          expires: card.card.expires,
          keys: card.card.keys.map(({ kid, purpose, alg }) => ({ kid, purpose, alg })),
        },
      };
    });

    app.get(
      '/api/v1/alarms',
      { schema: { querystring: AlarmPage, tags: ['status'] } },
      async (request): Promise<Alarm[]> => {
        const { category, before, limit } = request.query;
        return store.openAlarms({
          category: category ?? 'fault',
          ...(before ? { before: Number(before) } : {}),
          limit: limit ? Number(limit) : ALARM_PAGE,
        });
      },
    );

    app.get(
      '/api/v1/rotations',
      { schema: { querystring: Limit, tags: ['status'] } },
      async (request): Promise<Rotations> => ({
        rotations: (await rotations.list()).map((r) => ({
          dir: r.dir,
          party: r.party,
          id: r.id,
          reason: r.reason,
          serial: r.serial,
          at: r.at,
          since: r.since,
          untrusted: r.untrusted,
          replaced: r.detail.replaced,
          // Named by the card the rotation replaced (rows without it give the kid alone).
          replacedKeys: r.detail.replaced.map((kid) => {
            const entry = r.detail.previous?.card.keys.find((k) => k.kid === kid);
            return { kid, purpose: entry?.purpose ?? null, alg: entry?.alg ?? null };
          }),
          resigned: r.detail.resigned ?? [],
          disputed: r.detail.disputed ?? [],
        })),
        disputed: (await rotations.listDisputed(limitOf(request.query))).map((d) => ({
          from: d.party,
          id: d.id,
          seq: d.seq,
          receivedAt: d.received_at,
          disputedAt: d.disputed_at,
          rotation: d.rotation,
          body: d.body,
        })),
      }),
    );

    app.post(
      '/api/v1/alarms/:id/clear',
      {
        schema: {
          params: Type.Object({ id: RowId }, { additionalProperties: false }),
          body: Type.Optional(ClearAlarm),
          tags: ['status'],
        },
      },
      async (request): Promise<Alarm> => {
        const id = Number(request.params.id);
        const note = request.body?.note;
        const cleared = await alarms.clear(id, principalOf(request).user, note ?? null);
        await trail.record({
          ...actorOf(request),
          action: 'alarm.clear',
          target: String(id),
          detail: { type: cleared.type, party: cleared.party, ...(note ? { note } : {}) },
        });
        return cleared;
      },
    );

    /** A message view goes to the audit trail: who saw which messages. */
    async function viewed(
      request: Parameters<typeof actorOf>[0],
      list: 'inbox' | 'outbox',
      rows: ReadonlyArray<{ party: string; id: string }>,
    ): Promise<void> {
      if (!rows.length) return;
      await trail.record({
        ...actorOf(request),
        action: 'message.view',
        target: list,
        detail: {
          count: rows.length,
          messages: rows.slice(0, VIEW_IDS).map((r) => `${r.party}/${r.id}`),
        },
      });
    }
    // A message read on its own, and exports, go to the audit trail before the answer leaves.
    app.addHook('onSend', async (request, reply, payload) => {
      const action = AUDITED[`${request.method} ${request.routeOptions.url}`];
      if (action && reply.statusCode < 300) {
        // Route parameters, as the router parsed them (strings), of whichever route it was.
        const params: Record<string, string> = { ...Object(request.params) };
        await trail.record({
          ...actorOf(request),
          action,
          target: request.routeOptions.url ?? null,
          detail:
            action === 'message.view'
              ? { count: 1, messages: [`${params.party}/${params.id}`] }
              : { ...params },
        });
      }
      return payload;
    });
    // Registered here so the authorization hook applies to them too.
    await app.register(languageRoutes);
    await app.register(incidentRoutes);
    await app.register(frameworkRoutes);
    await app.register(historyRoutes);
    await app.register(approvalRoutes);
    await app.register(regimeRoutes);
    await app.register(flowRoutes);
  },
);
