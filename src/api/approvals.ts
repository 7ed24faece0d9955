/**
 * Operator routes of the two-person rule, templates and readiness (docs/operators.md): the
 * approvals queue (`/api/v1/drafts`), approving, rejecting and break-glass, sending a template,
 * and time to acknowledge. Registered inside the operator plugin, so the access hook applies.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { Template } from '../node/core/config.ts';
import type { Confirm, Decider } from '../node/incidents/approvals.ts';
import { readiness } from '../node/incidents/readiness.ts';
import type { People } from '../node/people/people.ts';
import type { Draft } from '../protocol/body.ts';
import { PartyId, Slug, Uuid7, Written } from '../protocol/common.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { Submitted, TemplateView } from '../protocol/views.ts';
import { actorOf, principalOf, staffing } from './access.ts';
import { FactorProofSchema, stepUp } from './factors.ts';
import { QueryCount } from './query.ts';
import { routes } from './services.ts';

const DraftId = Type.Object({ id: Uuid7 }, { additionalProperties: false });
const TemplateId = Type.Object({ id: Slug }, { additionalProperties: false });

const Note = Written(1000);
/** A reason counts its characters besides spaces: "a  " is not one of three. */
const Reason = Written(1000, 3);

const Approve = Type.Object(
  {
    note: Type.Optional(Note),
    desk: Type.Optional(Slug),
    stepUp: Type.Optional(FactorProofSchema),
  },
  { additionalProperties: false },
);
const Reject = Type.Object({ note: Note }, { additionalProperties: false });
const BreakGlass = Type.Object(
  { reason: Reason, desk: Type.Optional(Slug), stepUp: Type.Optional(FactorProofSchema) },
  { additionalProperties: false },
);

const DraftList = Type.Object(
  {
    state: Type.Optional(
      Type.Union(
        ['pending', 'releasing', 'released', 'rejected', 'all'].map((s) => Type.Literal(s)),
      ),
    ),
    limit: Type.Optional(QueryCount(10_000)),
  },
  { additionalProperties: false },
);

const TemplateSend = Type.Object(
  {
    /** Every pinned peer when left out. */
    to: Type.Optional(
      Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients, uniqueItems: true }),
    ),
    desk: Type.Optional(Slug),
    /** A report template starts a new incident unless given one. */
    incident: Type.Optional(Uuid7),
    inReplyTo: Type.Optional(Uuid7),
  },
  { additionalProperties: false },
);

const ReadinessQuery = Type.Object(
  { last: Type.Optional(QueryCount(10_000)) },
  { additionalProperties: false },
);

/** The break-glass part of a send request: a reason stated by an officer. */
export const BreakGlassRequest = Type.Object(
  { reason: Reason, stepUp: Type.Optional(FactorProofSchema) },
  { additionalProperties: false },
);

/**
 * A send request's break-glass as `submit` takes it: the reason, and the officer's second factor
 * checked last, once the message itself has passed every check.
 */
export function breakGlassOf(
  people: People,
  request: FastifyRequest,
  breakGlass: Static<typeof BreakGlassRequest> | undefined,
): { breakGlass?: string; confirm?: Confirm } {
  if (!breakGlass) return {};
  return {
    breakGlass: breakGlass.reason,
    confirm: () => stepUp(people, request, breakGlass.stepUp, 'breaking glass'),
  };
}

export function deciderOf(request: FastifyRequest): Decider {
  const principal = principalOf(request);
  return { user: principal.user, role: principal.role, actor: actorOf(request) };
}

/** 201 with the message's id and seqs when released; 202 with the draft's id when held. */
export function answerOf(submitted: Submitted): { status: 201 | 202; body: Submitted } {
  return { status: submitted.state === 'released' ? 201 : 202, body: submitted };
}

export const approvalRoutes = routes(
  'approval-routes',
  ['approvals', 'peers', 'people', 'store'],
  async (app) => {
    const { approvals, peers, people, store } = app;
    app.get(
      '/api/v1/drafts',
      { schema: { querystring: DraftList, tags: ['approvals'] } },
      async (request) => {
        const query = request.query;
        const state = query.state === 'all' ? undefined : (query.state ?? 'pending');
        return approvals.list(state as never, Number(query.limit ?? 100));
      },
    );

    app.get(
      '/api/v1/drafts/:id',
      { schema: { params: DraftId, tags: ['approvals'] } },
      async (request) => approvals.get(request.params.id),
    );

    app.post(
      '/api/v1/drafts/:id/approve',
      { schema: { params: DraftId, body: Type.Optional(Approve), tags: ['approvals'] } },
      async (request, reply) => {
        const { id } = request.params;
        const { stepUp: proof, ...body } = request.body ?? {};
        const released = await approvals.approve(id, deciderOf(request), {
          ...body,
          confirm: async (draft) => {
            if (draft.message.precedence === 'flash')
              await stepUp(people, request, proof, 'approving a flash message');
          },
        });
        return reply.status(201).send(released);
      },
    );

    app.post(
      '/api/v1/drafts/:id/reject',
      { schema: { params: DraftId, body: Reject, tags: ['approvals'] } },
      async (request) => {
        const { id } = request.params;
        const { note } = request.body;
        return approvals.reject(id, deciderOf(request), note);
      },
    );

    app.post(
      '/api/v1/drafts/:id/break-glass',
      { schema: { params: DraftId, body: BreakGlass, tags: ['approvals'] } },
      async (request, reply) => {
        const { id } = request.params;
        const { reason, desk, stepUp: proof } = request.body;
        const released = await approvals.breakGlass(id, deciderOf(request), reason, {
          ...(desk ? { desk } : {}),
          confirm: () => stepUp(people, request, proof, 'breaking glass'),
        });
        return reply.status(201).send(released);
      },
    );

    app.get(
      '/api/v1/templates',
      { schema: { tags: ['approvals'] } },
      async (): Promise<TemplateView[]> =>
        approvals.templates.map((t) => ({
          ...t,
          needsApproval: !t.preApproved && approvals.rulesFor(t).length > 0,
        })),
    );

    app.post(
      '/api/v1/templates/:id/send',
      { schema: { params: TemplateId, body: Type.Optional(TemplateSend), tags: ['approvals'] } },
      async (request, reply) => {
        const template = approvals.template(request.params.id);
        const options = request.body ?? {};
        const desk = options.desk ?? 'ops';
        await staffing(people.roster, request, desk, 'write as');
        const to = options.to ?? [...peers.keys()];
        const message = draftOf(template, desk, options);
        const { status, body } = answerOf(
          await approvals.submit(deciderOf(request), to, message, { template }),
        );
        return reply.status(status).send(body);
      },
    );

    app.get(
      '/api/v1/readiness',
      { schema: { querystring: ReadinessQuery, tags: ['approvals'] } },
      async (request) => {
        const last = Number(request.query.last ?? 20);
        return readiness(store, [...peers.keys()], last);
      },
    );
  },
);

/** A template filled in: the author desk, and the incident or message it concerns. */
export function draftOf(
  template: Template,
  desk: string,
  fill: { incident?: string; inReplyTo?: string },
): Draft {
  const report = template.type === 'incident.report' || template.type === 'incident.update';
  const needsIncident = report || template.type === 'incident.close' || template.type === 'state';
  return {
    type: template.type,
    precedence: template.precedence,
    status: template.status,
    tlp: template.tlp,
    codes: template.codes,
    ...(template.text ? { text: template.text } : {}),
    translations: template.translations,
    attachments: [],
    author: { desk },
    approvals: [],
    ...(needsIncident ? { incident: fill.incident ?? uuidv7() } : {}),
    ...(fill.inReplyTo ? { inReplyTo: fill.inReplyTo } : {}),
    ...(report
      ? {
          report: {
            nature: 'hazard' as const,
            category: template.category ?? 'category.other',
            actionsTaken: [],
            actionsRequested: [],
          },
        }
      : {}),
    ...(template.type === 'notice'
      ? { notice: { subject: template.subject ?? 'notice.exercise' } }
      : {}),
  };
}
