/**
 * Presence checks and conference requests on the operator API (docs/operators.md § Presence
 * checks and conferences): list them with what both sides derive from their messages
 * (src/protocol/flows.ts), ask for a desk's presence, answer a check as a person on the desk
 * asked for, request a call at one or more times, and accept, decline or propose another time.
 * Registered inside the operator plugin, so the access hook (src/api/access.ts) applies.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { Lock } from '../node/core/lock.ts';
import { followupView, notReceived } from '../node/incidents/escalation.ts';
import { type Draft, pastProblem } from '../protocol/body.ts';
import { Instant, Lang, OneOf, PartyId, Slug, Text, Uuid7, Written } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import {
  acceptable,
  type ConferenceItem,
  conferences,
  isPresenceCheck,
  type PresenceItem,
  presenceChecks,
} from '../protocol/flows.ts';
import { LIMITS } from '../protocol/limits.ts';
import { PRECEDENCES, STATUSES, TLPS } from '../protocol/values.ts';
import type { Submitted } from '../protocol/views.ts';
import { actorOf, principalOf, staffing } from './access.ts';
import { deciderOf } from './approvals.ts';
import { ApiError } from './errors.ts';
import { QueryCount } from './query.ts';
import { routes } from './services.ts';

const MessageParams = Type.Object({ party: PartyId, id: Uuid7 }, { additionalProperties: false });

/** What every flow message may carry besides its section. */
const Common = {
  /** The desk you write as (you must staff it). */
  desk: Slug,
  precedence: Type.Optional(OneOf(PRECEDENCES)),
  status: Type.Optional(OneOf(STATUSES)),
  tlp: Type.Optional(OneOf(TLPS)),
  incident: Type.Optional(Uuid7),
  text: Type.Optional(Text),
  lang: Type.Optional(Lang),
};

export const PresenceRequest = Type.Object(
  {
    ...Common,
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients, uniqueItems: true }),
    /** The desk asked for, e.g. `principal`. */
    asked: Slug,
  },
  { additionalProperties: false },
);
export const PresenceAnswer = Type.Object(
  { answer: OneOf(['present', 'unavailable'] as const) },
  { additionalProperties: false },
);
export const ConferenceRequest = Type.Object(
  {
    ...Common,
    to: PartyId,
    /** The times proposed, most preferred first: the request, then one proposal each. */
    times: Type.Array(Instant, { minItems: 1, maxItems: 4, uniqueItems: true }),
    minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    medium: Type.Optional(Written(LIMITS.labelChars, 1, 'name')),
  },
  { additionalProperties: false },
);
export const ConferenceAnswer = Type.Object(
  {
    desk: Slug,
    action: OneOf(['accept', 'decline', 'propose'] as const),
    /** accept: the proposal accepted (needed when the other side has several open). */
    proposal: Type.Optional(Uuid7),
    /** propose: the time proposed. */
    at: Type.Optional(Instant),
    minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    medium: Type.Optional(Written(LIMITS.labelChars, 1, 'name')),
    text: Type.Optional(Text),
    lang: Type.Optional(Lang),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { limit: Type.Optional(QueryCount(1000)) },
  { additionalProperties: false },
);

/** Messages of each type read per listing, on each side. */
const READ = 1000;
/** Message ids a view records in the audit trail. */
const VIEW_IDS = 500;

export const flowRoutes = routes(
  'flow-routes',
  ['config', 'store', 'followups', 'people', 'escalation', 'approvals'],
  async (app) => {
    const { config, store, followups, people, escalation, approvals } = app;
    const { roster, policy, trail } = people;
    /** Answers one at a time, so each is checked against the flow as it stands. */
    const lock = new Lock();

    const read = (type: 'presence' | 'conference') => store.flowMessages(type, READ);

    /**
     * Who answers a presence check for `desk`: a person who staffs it. The sender cannot know
     * which desks this node has; a check for one it does not have would find nobody to answer
     * and escalate without end. Nobody can be present at it, so an officer or an admin answers
     * it "unavailable", which stops the escalation and tells the sender at once.
     */
    async function answering(request: FastifyRequest, desk: string, answer: string) {
      if (await roster.hasDesk(desk)) return staffing(roster, request, desk, 'act as');
      const principal = principalOf(request);
      if (principal.role === 'operator')
        throw new ApiError(
          403,
          'E_FORBIDDEN',
          `there is no desk "${desk}" on this node: an officer or an admin answers the check "unavailable"`,
        );
      if (answer !== 'unavailable')
        throw new ProtocolError(
          'E_CONFLICT',
          `there is no desk "${desk}" on this node, so nobody can be present at it: answer "unavailable"`,
        );
      return { ...actorOf(request), actor: principal.user };
    }

    async function views(keys: Array<['in' | 'out', string, string]>) {
      const rows = await followups.ofMessages([...new Set(keys.map(([, , id]) => id))]);
      const byKey = new Map(rows.map((f) => [`${f.dir}/${f.party}/${f.id}`, followupView(f)]));
      return (dir: 'in' | 'out', party: string, id: string) =>
        byKey.get(`${dir}/${party}/${id}`) ?? null;
    }

    async function listPresence(limit: number): Promise<PresenceItem[]> {
      const checks = presenceChecks(await read('presence')).slice(0, limit);
      const view = await views(checks.map((c) => [c.dir, c.party, c.id]));
      return checks.map((c) => ({ ...c, followup: view(c.dir, c.party, c.id) }));
    }

    async function listConferences(limit: number): Promise<ConferenceItem[]> {
      const calls = conferences(await read('conference')).slice(0, limit);
      const keys = calls.flatMap((c) =>
        c.proposals.map(
          (p) =>
            [p.party === config.party ? 'out' : 'in', c.party, p.id] as [
              'in' | 'out',
              string,
              string,
            ],
        ),
      );
      const view = await views(keys);
      return calls.map((c) => ({
        ...c,
        followups: keys
          .filter(([, party, id]) => party === c.party && c.proposals.some((p) => p.id === id))
          .flatMap(([dir, party, id]) => view(dir, party, id) ?? []),
      }));
    }

    /** A draft of a flow message from `desk`, naming the person when policy discloses names. */
    function draftOf(
      input: { desk: string; text?: string; lang?: string },
      fields: Pick<Draft, 'type'> & Partial<Draft>,
      user: string,
    ): Draft {
      return {
        precedence: 'immediate',
        status: 'actual',
        tlp: 'amber',
        codes: [],
        ...(input.text ? { text: { lang: input.lang ?? 'en', body: input.text } } : {}),
        translations: [],
        attachments: [],
        author: policy.disclosePersons ? { desk: input.desk, person: user } : { desk: input.desk },
        approvals: [],
        ...fields,
      };
    }

    /** A listing shows messages: the audit trail records who saw which (as for the inbox). */
    async function viewed(request: FastifyRequest, target: string, refs: string[]) {
      if (!refs.length) return;
      await trail.record({
        ...actorOf(request),
        action: 'message.view',
        target,
        detail: { count: refs.length, messages: refs.slice(0, VIEW_IDS) },
      });
    }

    app.get(
      '/api/v1/presence',
      { schema: { querystring: ListQuery, tags: ['flows'] } },
      async (request) => {
        const checks = await listPresence(Number(request.query.limit ?? 100));
        await viewed(
          request,
          'presence',
          checks.flatMap((c) => [
            `${c.party}/${c.id}`,
            ...(c.answer ? [`${c.party}/${c.answer.id}`] : []),
          ]),
        );
        return checks;
      },
    );

    app.get(
      '/api/v1/conferences',
      { schema: { querystring: ListQuery, tags: ['flows'] } },
      async (request) => {
        const calls = await listConferences(Number(request.query.limit ?? 100));
        await viewed(
          request,
          'conferences',
          calls.flatMap((c) => c.entries.map((e) => `${c.party}/${e.id}`)),
        );
        return calls;
      },
    );

    // A presence check goes through the two-person rule like any message an operator writes.
    app.post(
      '/api/v1/presence',
      { schema: { body: PresenceRequest, tags: ['flows'] } },
      async (request, reply) => {
        const input = request.body;
        const by = await staffing(roster, request, input.desk, 'write as');
        const submitted = await approvals.submit(
          deciderOf(request),
          input.to,
          draftOf(
            input,
            {
              type: 'presence',
              presence: { desk: input.asked },
              ...(input.precedence ? { precedence: input.precedence } : {}),
              ...(input.status ? { status: input.status } : {}),
              ...(input.tlp ? { tlp: input.tlp } : {}),
              ...(input.incident ? { incident: input.incident } : {}),
            },
            by.actor,
          ),
        );
        return reply.status(submitted.state === 'released' ? 201 : 202).send(submitted);
      },
    );

    // The answer is a person's, on the desk asked for: like an ack it is released at once.
    app.post(
      '/api/v1/messages/:party/:id/presence',
      { schema: { params: MessageParams, body: PresenceAnswer, tags: ['flows'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        const { answer } = request.body;
        const row = await store.getInbox(party, id);
        if (!row) throw notReceived(config.party, party, id, 'answer');
        const check = row.body;
        if (!isPresenceCheck(check) || !check.presence)
          throw new ProtocolError('E_CONFLICT', `message ${id} is not a presence check`);
        const desk = check.presence.desk;
        const by = await answering(request, desk, answer);
        // One answer at a time, so two people answering at once cannot both be sent.
        const released = await lock.run(async () => {
          const answered = (await listPresence(READ)).find(
            (c) => c.dir === 'in' && c.party === party && c.id === id,
          )?.answer;
          if (answered)
            throw new ProtocolError(
              'E_CONFLICT',
              `the presence check ${id} was answered "${answered.answer}" from the desk "${answered.desk}" at ${answered.sent}`,
            );
          return escalation.answer(by, party, id, {
            type: 'presence',
            ...(check.incident ? { incident: check.incident } : {}),
            precedence: check.precedence,
            status: check.status,
            tlp: check.tlp,
            codes: [],
            translations: [],
            attachments: [],
            author: policy.disclosePersons ? { desk, person: by.actor } : { desk },
            approvals: [],
            inReplyTo: id,
            presence: { desk, answer },
          });
        });
        await trail.record({
          ...by,
          action: 'presence.answer',
          target: `${party}/${id}`,
          detail: { desk, answer, message: released.id },
        });
        return reply.status(201).send({
          party,
          id,
          answer,
          desk,
          by: by.actor,
          presence: released.id,
          seq: released.seq,
        });
      },
    );

    app.post(
      '/api/v1/conferences',
      { schema: { body: ConferenceRequest, tags: ['flows'] } },
      async (request, reply) => {
        const input = request.body;
        const by = await staffing(roster, request, input.desk, 'write as');
        // Every time is checked before the first is released: a refused request sends nothing.
        const now = people.clock();
        for (const [i, at] of input.times.entries()) {
          const past = pastProblem(at, now);
          if (past) throw new ProtocolError('E_MALFORMED', `request body/times/${i}: ${past}`);
        }
        const [first, ...more] = input.times;
        const base = {
          ...(input.precedence ? { precedence: input.precedence } : {}),
          ...(input.status ? { status: input.status } : {}),
          ...(input.tlp ? { tlp: input.tlp } : {}),
          ...(input.incident ? { incident: input.incident } : {}),
        };
        const request0 = draftOf(
          input,
          {
            ...base,
            type: 'conference',
            conference: {
              action: 'request',
              at: first as string,
              ...(input.minutes ? { minutes: input.minutes } : {}),
              ...(input.medium ? { medium: input.medium } : {}),
            },
          },
          by.actor,
        );
        // Further times cite the request: they cannot while it waits for a second officer.
        if (more.length && approvals.rulesFor(request0).length)
          throw new ProtocolError(
            'E_CONFLICT',
            'the two-person rule holds this conference request: propose one time now, and the others once it is released',
          );
        const submitted = await approvals.submit(deciderOf(request), [input.to], request0);
        if (submitted.state !== 'released') return reply.status(202).send(submitted);
        const proposals: Submitted[] = [];
        for (const at of more)
          proposals.push(
            await approvals.submit(deciderOf(request), [input.to], {
              ...request0,
              text: undefined,
              conference: { action: 'propose', at },
              inReplyTo: submitted.id,
            } as Draft),
          );
        return reply.status(201).send({ ...submitted, proposals });
      },
    );

    app.post(
      '/api/v1/conferences/:party/:id/answer',
      { schema: { params: MessageParams, body: ConferenceAnswer, tags: ['flows'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        const input = request.body;
        // As for an ack or a presence answer: one answers a peer, named by the peer's party.
        if (party === config.party) throw notReceived(config.party, party, id, 'answer');
        const by = await staffing(roster, request, input.desk, 'write as');
        const result = await lock.run(async () => {
          const call = (await listConferences(READ)).find((c) => c.party === party && c.id === id);
          if (!call)
            throw new ProtocolError('E_NOT_FOUND', `there is no conference ${id} with "${party}"`);
          if (!call.entries.some((e) => e.party !== config.party))
            throw new ProtocolError(
              'E_CONFLICT',
              `the conference ${id} is this node's own request and "${party}" has sent nothing in it yet: there is nothing of theirs to answer`,
            );
          if (call.state === 'declined')
            throw new ProtocolError(
              'E_CONFLICT',
              `the conference ${id} was declined by "${call.declined?.party}" at ${call.declined?.sent}`,
            );
          const open = acceptable(call, config.party);
          let cites: string;
          let conference: NonNullable<Draft['conference']>;
          if (input.action === 'accept') {
            if (call.agreed && !open.length) {
              const { at, acceptedBy } = call.agreed;
              throw new ProtocolError(
                'E_CONFLICT',
                `the conference ${id} is already agreed, for ${at}: "${acceptedBy.party}" accepted it at ${acceptedBy.sent}; to move the call, propose another time`,
              );
            }
            // Several times still open: which one is the person's choice, not the node's.
            if (!input.proposal && open.length > 1)
              throw new ProtocolError(
                'E_MALFORMED',
                `request body has no "proposal": "${party}" proposed ${open.length} times still open; accept one by its id: ${open.map((p, i) => `${p.id} (${p.at}${i === 0 ? ', preferred' : ''})`).join(', ')}`,
              );
            const target = input.proposal ? open.find((p) => p.id === input.proposal) : open[0];
            if (!target)
              throw new ProtocolError(
                'E_CONFLICT',
                input.proposal
                  ? `${input.proposal} is not a time "${party}" proposed that is still open`
                  : `the conference ${id} has no open time proposed by "${party}"`,
              );
            cites = target.id;
            conference = { action: 'accept' };
          } else if (input.action === 'propose') {
            if (!input.at)
              throw new ProtocolError('E_MALFORMED', 'a proposal needs "at", the time proposed');
            // A counter-proposal cites the other side's latest time; a move, the agreement.
            cites =
              open.at(-1)?.id ?? call.agreed?.acceptedBy.id ?? call.proposals.at(-1)?.id ?? id;
            conference = {
              action: 'propose',
              at: input.at,
              ...(input.minutes ? { minutes: input.minutes } : {}),
              ...(input.medium ? { medium: input.medium } : {}),
            };
          } else {
            cites = call.agreed?.acceptedBy.id ?? call.proposals.at(-1)?.id ?? id;
            conference = { action: 'decline' };
          }
          const submitted = await approvals.submit(
            deciderOf(request),
            [party],
            draftOf(
              input,
              {
                type: 'conference',
                precedence: call.precedence,
                status: call.status,
                ...(call.incident ? { incident: call.incident } : {}),
                conference,
                inReplyTo: cites,
              },
              by.actor,
            ),
          );
          // Whoever answers has seen every time the other side proposed: acknowledged, so none of
          // them goes on escalating here (the one cited is answered by the answer itself).
          // One that cannot be acknowledged (someone did meanwhile, say) goes on as it was: its
          // escalation continues, and the answer says which.
          const seen: string[] = [];
          const unacknowledged: string[] = [];
          if (submitted.state === 'released')
            for (const f of call.followups)
              if (f.dir === 'in' && !f.acknowledged && f.id !== cites)
                await escalation.ack(by, party, f.id, input.desk, policy.disclosePersons).then(
                  ({ ack }) => seen.push(ack.id),
                  (err: unknown) => {
                    request.log.warn(
                      { err, peer: party, id: f.id },
                      'acknowledging a conference time failed',
                    );
                    unacknowledged.push(f.id);
                  },
                );
          // A decline once a call is agreed cancels that call: the answer says so.
          const cancelled = input.action === 'decline' && call.agreed ? call.agreed : null;
          return { submitted, cites, seen, unacknowledged, cancelled };
        });
        await trail.record({
          ...actorOf(request),
          action: `conference.${input.action}`,
          target: `${party}/${id}`,
          detail: { desk: input.desk, cites: result.cites, acks: result.seen },
        });
        const { submitted } = result;
        return reply.status(submitted.state === 'released' ? 201 : 202).send({
          ...submitted,
          action: input.action,
          cites: result.cites,
          acknowledged: result.seen,
          unacknowledged: result.unacknowledged,
          cancelled: result.cancelled ? { at: result.cancelled.at } : null,
        });
      },
    );
  },
);
