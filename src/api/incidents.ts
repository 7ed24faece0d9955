/**
 * Incidents, acknowledgements and reminders on the operator API (docs/operators.md): the open
 * incidents by urgency, one incident's timeline of both sides' messages, the owner's state changes
 * and decisions, the other side's requests, retraction, and a person's ack or reminder of one
 * message. Registered inside the operator plugin, so the access hook (src/api/access.ts) applies.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { Lock } from '../node/core/lock.ts';
import { followupView } from '../node/incidents/escalation.ts';
import { type IncidentMessage, loadIncident } from '../node/incidents/incidents.ts';
import type { AuditAction } from '../node/people/trail.ts';
import type { Draft } from '../protocol/body.ts';
import { Cite, MAX_CITES } from '../protocol/citations.ts';
import { Lang, OneOf, PartyId, Slug, Text, Uuid7 } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { INCIDENT_STATES, RANK } from '../protocol/values.ts';
import type {
  Acknowledged,
  IncidentDetail,
  IncidentReport,
  IncidentSummary,
  IncidentView,
  ReadableText,
  Reminded,
  Submitted,
  TimelineEntry,
} from '../protocol/views.ts';
import { actorOf, staffing } from './access.ts';
import { answerOf, deciderOf } from './approvals.ts';
import { routes } from './services.ts';

const MessageParams = Type.Object({ party: PartyId, id: Uuid7 }, { additionalProperties: false });
const IncidentParams = Type.Object({ incident: Uuid7 }, { additionalProperties: false });
const RequestParams = Type.Object(
  { incident: Uuid7, request: Uuid7 },
  { additionalProperties: false },
);

const Desk = Type.Object({ desk: Slug }, { additionalProperties: false });
const Words = {
  desk: Slug,
  text: Type.Optional(Text),
  lang: Type.Optional(Lang),
  /** Attachments of earlier messages the change or request cites (sent as `ext.cites`). */
  cites: Type.Optional(Type.Array(Cite, { minItems: 1, maxItems: MAX_CITES })),
};
export const StateChange = Type.Object(
  { ...Words, to: OneOf(INCIDENT_STATES) },
  { additionalProperties: false },
);
export const Decision = Type.Object(
  { ...Words, decision: OneOf(['accepted', 'declined'] as const) },
  { additionalProperties: false },
);
export const Retract = Type.Object(Words, { additionalProperties: false });
const ListQuery = Type.Object(
  { all: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true')])) },
  { additionalProperties: false },
);

/** Incidents looked at for the list: those of the newest messages. */
const LIST_MESSAGES = 5000;

export const incidentRoutes = routes(
  'incident-routes',
  [
    'store',
    'people',
    'escalation',
    'followups',
    'config',
    'clock',
    'ledger',
    'language',
    'approvals',
  ],
  async (app) => {
    const { store, people, escalation, followups, config, clock, ledger, language, approvals } =
      app;
    const { roster, policy } = people;
    /** State changes are made one at a time, so each cites the head the last one left. */
    const lock = new Lock();

    async function mustLoad(incident: string) {
      const found = await loadIncident(store, config.party, incident);
      if (!found) throw new ProtocolError('E_NOT_FOUND', `there is no incident ${incident}`);
      return found;
    }

    function draftOf(view: IncidentView, messages: IncidentMessage[], w: Static<typeof Retract>) {
      const report = messages.find((m) => m.body.type === 'incident.report') ?? messages[0];
      return {
        incident: view.incident,
        precedence: view.precedence,
        status: view.status,
        tlp: report?.body.tlp ?? 'amber',
        codes: [] as string[],
        ...(w.text ? { text: { lang: w.lang ?? 'en', body: w.text } } : {}),
        ...(w.cites ? { ext: { cites: w.cites } } : {}),
        translations: [],
        attachments: [],
        author: { desk: w.desk },
        approvals: [],
        firstId: report?.id,
      };
    }

    /** Both sides' messages of an incident as timeline entries, with their ledger leaves. */
    async function timelineOf(
      messages: IncidentMessage[],
    ): Promise<
      Array<{ entry: TimelineEntry; message: IncidentMessage; leafIndex: number | null }>
    > {
      const views = new Map(
        (await followups.ofMessages(messages.map((m) => m.id))).map((f) => [
          `${f.dir}/${f.party}/${f.id}`,
          followupView(f),
        ]),
      );
      const timeline = [];
      for (const m of messages) {
        const row =
          m.dir === 'in'
            ? await store.getInbox(m.party, m.id)
            : await store.getOutbox(m.party, m.id);
        const envelope = row?.envelope;
        const followup = views.get(`${m.dir}/${m.party}/${m.id}`) ?? null;
        const entry: TimelineEntry = {
          dir: m.dir,
          party: m.party,
          from: m.dir === 'out' ? config.party : m.party,
          id: m.id,
          seq: envelope?.header.seq ?? null,
          type: m.body.type,
          precedence: m.body.precedence,
          status: m.body.status,
          tlp: m.body.tlp,
          desk: m.body.author.desk,
          codes: m.body.codes,
          text: m.body.text ?? null,
          inReplyTo: m.body.inReplyTo ?? null,
          state: m.body.state ?? null,
          sent: envelope?.header.sent ?? m.at,
          received:
            m.dir === 'in'
              ? m.at
              : ((row as { peer_received_at?: string | null } | undefined)?.peer_received_at ??
                null),
          followup,
          recipients:
            m.dir === 'out'
              ? (await store.outboxRowsOf(m.id)).map((r) => ({
                  party: r.party,
                  status: r.status,
                  received: r.peer_received_at,
                  followup: views.get(`out/${r.party}/${m.id}`) ?? null,
                }))
              : [],
          escalations:
            m.dir === 'in'
              ? (await followups.escalations(m.party, m.id)).map((e) => ({
                  step: e.step,
                  desk: e.desk,
                  user: e.user_name,
                  at: e.at,
                  channels: e.channels,
                  // Escalation records the standing alarm one step past the ladder's last desk.
                  final: e.step >= config.incidents.ladder.length,
                }))
              : [],
        };
        timeline.push({ entry, message: m, leafIndex: row?.leaf_index ?? null });
      }
      return timeline;
    }

    /**
     * An incident act goes through the two-person rule like any message an operator writes (a
     * state change to closed is held as an incident.close is), and through the same checks.
     */
    async function send(
      request: FastifyRequest,
      to: string[],
      draft: Draft,
      action: AuditAction,
      detail: Record<string, unknown>,
    ): Promise<Submitted> {
      const by = await staffing(roster, request, draft.author.desk, 'act as');
      await language.checkCitations(draft);
      const submitted = await approvals.submit(deciderOf(request), to, draft);
      await people.trail.record({
        ...by,
        action,
        target: draft.incident ?? null,
        detail: {
          ...detail,
          ...(submitted.state === 'released'
            ? { message: submitted.id }
            : { draft: submitted.draft }),
          desk: draft.author.desk,
        },
      });
      return submitted;
    }

    app.get(
      '/api/v1/incidents',
      { schema: { querystring: ListQuery, tags: ['incidents'] } },
      async (request): Promise<IncidentSummary[]> => {
        const all = request.query.all !== undefined;
        const ids = await followups.incidentIds(LIST_MESSAGES);
        const out = [];
        for (const incident of ids) {
          const found = await loadIncident(store, config.party, incident);
          if (!found) continue;
          const { view } = found;
          if (!all && (view.state === 'closed' || view.retracted)) continue;
          const rows = (await followups.ofIncident(incident)).filter(
            (f): f is typeof f & { dir: 'in' | 'out' } =>
              f.dir !== 'held' && !f.acked_at && !f.retracted_at,
          );
          const deadlines = rows.map((f) => ({
            dir: f.dir,
            party: f.party,
            id: f.id,
            deadline: f.deadline_at,
            overdue: f.deadline_at <= clock().toISOString(),
            unansweredAt: f.unanswered_at,
            step: f.step,
          }));
          deadlines.sort((a, b) => (a.deadline < b.deadline ? -1 : 1));
          out.push({
            incident,
            owner: view.owner,
            ours: view.ours,
            peers: view.peers,
            state: view.state,
            precedence: view.precedence,
            status: view.status,
            category: view.category,
            retracted: view.retracted,
            reportedAt: view.reportedAt,
            updatedAt: view.updatedAt,
            pendingRequests: view.pendingRequests.length,
            nextDeadline: deadlines[0]?.deadline ?? null,
            awaiting: deadlines,
          });
        }
        // Most urgent first: precedence, then the nearest deadline (none last), then the newest.
        out.sort(
          (a, b) =>
            RANK[a.precedence] - RANK[b.precedence] ||
            (a.nextDeadline ?? '~').localeCompare(b.nextDeadline ?? '~') ||
            b.reportedAt.localeCompare(a.reportedAt),
        );
        return out;
      },
    );

    app.get(
      '/api/v1/incidents/:incident',
      { schema: { params: IncidentParams, tags: ['incidents'] } },
      async (request): Promise<IncidentDetail> => {
        const { incident } = request.params;
        const { view, messages } = await mustLoad(incident);
        const timeline = (await timelineOf(messages)).map((t) => t.entry);
        // A retraction is shown above everything else.
        timeline.sort((a, b) =>
          a.type === 'incident.retract' ? -1 : b.type === 'incident.retract' ? 1 : 0,
        );
        await people.trail.record({
          ...actorOf(request),
          action: 'message.view',
          target: `incident/${incident}`,
          detail: { count: timeline.length, messages: timeline.map((t) => `${t.party}/${t.id}`) },
        });
        return { ...view, timeline };
      },
    );

    app.get(
      '/api/v1/incidents/:incident/report',
      { schema: { params: IncidentParams, tags: ['incidents'] } },
      async (request): Promise<IncidentReport> => {
        const { incident } = request.params;
        const { view, messages } = await mustLoad(incident);
        const entries = [];
        for (const { entry, message, leafIndex } of await timelineOf(messages)) {
          const b = message.body;
          const texts: ReadableText[] = [
            ...(b.text ? [{ ...b.text, by: 'author' as const }] : []),
            ...b.translations.map((t) => ({ ...t, by: 'sender' as const })),
            ...(await store.listTranslations(entry.from, entry.id)).map((t) => ({
              lang: t.lang,
              body: t.text,
              by: t.kind,
              translator: t.translator,
            })),
          ];
          entries.push({ ...entry, texts, leafIndex });
        }
        const last = Math.max(-1, ...entries.map((e) => e.leafIndex ?? -1));
        // A report names a signed checkpoint that covers every message in it: the latest one,
        // or one signed now (as a heartbeat does) when the latest is older than its messages.
        const latest = await store.latestCheckpoint();
        const checkpoint =
          latest && latest.size > last
            ? latest
            : await ledger.commit(async (_tx, log) => {
                const { size, note } = await log.checkpoint();
                return { size, note };
              });
        await people.trail.record({
          ...actorOf(request),
          action: 'message.view',
          target: `incident/${incident}/report`,
          detail: { count: entries.length, messages: entries.map((e) => `${e.party}/${e.id}`) },
        });
        return {
          party: config.party,
          generatedAt: clock().toISOString(),
          incident: view,
          entries,
          checkpoint: { ...checkpoint, covers: checkpoint.size > last },
        };
      },
    );

    /**
     * A state change by the owner (to every peer of the incident), or a request for one by the
     * other side (to the owner): a `state` message citing the last change, or the report.
     */
    function changeRoute(path: string, asRequest: boolean) {
      app.post(
        path,
        { schema: { params: IncidentParams, body: StateChange, tags: ['incidents'] } },
        async (request, reply) => {
          const { incident } = request.params;
          const input = request.body;
          const released = await lock.run(async () => {
            const { view, messages } = await mustLoad(incident);
            if (!asRequest && !view.ours)
              throw new ProtocolError(
                'E_CONFLICT',
                `"${view.owner}" reported incident ${incident} and owns its state: send a request instead`,
              );
            if (asRequest && view.ours)
              throw new ProtocolError(
                'E_CONFLICT',
                `this party owns incident ${incident}: change its state instead of requesting it`,
              );
            const { firstId, ...base } = draftOf(view, messages, input);
            const cites = view.head ?? firstId;
            return send(
              request,
              asRequest ? [view.owner] : view.peers,
              {
                ...base,
                type: 'state',
                state: { to: input.to, previous: view.head, request: asRequest },
                ...(cites ? { inReplyTo: cites } : {}),
              },
              asRequest ? 'incident.request' : 'incident.state',
              { from: view.state, to: input.to },
            );
          });
          return reply.status(answerOf(released).status).send({
            ...released,
            incident,
            ...(asRequest ? { requested: input.to } : { to: input.to }),
          });
        },
      );
    }
    changeRoute('/api/v1/incidents/:incident/state', false);
    changeRoute('/api/v1/incidents/:incident/requests', true);

    app.post(
      '/api/v1/incidents/:incident/requests/:request/decision',
      { schema: { params: RequestParams, body: Decision, tags: ['incidents'] } },
      async (request, reply) => {
        const { incident, request: requestId } = request.params;
        const input = request.body;
        const released = await lock.run(async () => {
          const { view, messages } = await mustLoad(incident);
          if (!view.ours)
            throw new ProtocolError(
              'E_CONFLICT',
              `"${view.owner}" owns incident ${incident}: only it decides requests`,
            );
          const asked = view.pendingRequests.find((r) => r.id === requestId);
          if (!asked)
            throw new ProtocolError(
              'E_NOT_FOUND',
              `there is no undecided request ${requestId} in incident ${incident}`,
            );
          const { firstId: _, ...base } = draftOf(view, messages, input);
          return send(
            request,
            view.peers,
            {
              ...base,
              type: 'state',
              state: {
                to: asked.to,
                previous: view.head,
                request: false,
                decision: input.decision,
              },
              inReplyTo: requestId,
            },
            'incident.decision',
            { request: requestId, to: asked.to, decision: input.decision },
          );
        });
        return reply
          .status(answerOf(released).status)
          .send({ ...released, incident, decision: input.decision });
      },
    );

    app.post(
      '/api/v1/incidents/:incident/retract',
      { schema: { params: IncidentParams, body: Retract, tags: ['incidents'] } },
      async (request, reply) => {
        const { incident } = request.params;
        const input = request.body;
        const released = await lock.run(async () => {
          const { view, messages } = await mustLoad(incident);
          if (!view.ours)
            throw new ProtocolError(
              'E_CONFLICT',
              `"${view.owner}" reported incident ${incident}: only it can retract it`,
            );
          if (view.retracted)
            throw new ProtocolError(
              'E_CONFLICT',
              `incident ${incident} was retracted at ${view.retracted.at}`,
            );
          const { firstId, ...base } = draftOf(view, messages, input);
          return send(
            request,
            view.peers,
            {
              ...base,
              type: 'incident.retract',
              codes: ['phrase.false-alarm'],
              inReplyTo: firstId as string,
            },
            'incident.retract',
            {},
          );
        });
        return reply
          .status(answerOf(released).status)
          .send({ ...released, incident, retracted: released.state === 'released' });
      },
    );

    app.post(
      '/api/v1/messages/:party/:id/ack',
      { schema: { params: MessageParams, body: Desk, tags: ['incidents'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        const { desk } = request.body;
        const by = await staffing(roster, request, desk, 'act as');
        const result = await escalation.ack(by, party, id, desk, policy.disclosePersons);
        return reply.status(201).send({
          party,
          id: result.acknowledged,
          ack: result.ack.id,
          seq: result.ack.seq,
          desk,
          by: by.actor,
        } satisfies Acknowledged);
      },
    );

    app.post(
      '/api/v1/messages/:party/:id/remind',
      { schema: { params: MessageParams, body: Desk, tags: ['incidents'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        const { desk } = request.body;
        const by = await staffing(roster, request, desk, 'act as');
        const result = await escalation.remind(by, party, id, desk, policy.disclosePersons);
        return reply.status(201).send({
          party,
          id,
          reminder: result.reminder.id,
          seq: result.reminder.seq,
          number: result.number,
          deadline: result.deadline,
        } satisfies Reminded);
      },
    );
  },
);
