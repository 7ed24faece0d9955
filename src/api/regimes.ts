/**
 * Operator routes for the notification regimes (docs/regimes.md): the agreed notification types
 * with their fields in a language, sending one (`POST /api/v1/notifications`, through the same
 * two-person rule as any message), and the compliance board. Registered inside the operator
 * plugin, so its authorization hook applies; handlers only parse and delegate.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Code, Instant, Lang, OneOf, PartyId, Slug, Text, Uuid7 } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import { notificationAttachment, sentFieldsProblem } from '../protocol/notification.ts';
import { compareRegimes } from '../protocol/regimes.ts';
import { PRECEDENCES, STATUSES, TLPS } from '../protocol/values.ts';
import type { ComplianceBoard, RegimesView } from '../protocol/views.ts';
import { staffing } from './access.ts';
import { answerOf, BreakGlassRequest, breakGlassOf, deciderOf } from './approvals.ts';
import { readerLanguage } from './query.ts';
import { routes } from './services.ts';

const LangQuery = Type.Object({ lang: Type.Optional(Lang) }, { additionalProperties: false });
const REGIMES = 'this node’s regimes file';

const BoardQuery = Type.Object(
  { lang: Type.Optional(Lang), at: Type.Optional(Instant) },
  { additionalProperties: false },
);

export const NotifyRequest = Type.Object(
  {
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients, uniqueItems: true }),
    /** The regime type's code: the notice's subject. */
    type: Code,
    fields: Type.Record(Type.String({ maxLength: 32 }), Type.Unknown(), { maxProperties: 32 }),
    desk: Slug,
    precedence: Type.Optional(OneOf(PRECEDENCES)),
    status: Type.Optional(OneOf(STATUSES)),
    tlp: Type.Optional(OneOf(TLPS)),
    /** The incident whose report owes this notice (event-timed types). */
    incident: Type.Optional(Uuid7),
    text: Type.Optional(Type.Object({ lang: Lang, body: Text }, { additionalProperties: false })),
    breakGlass: Type.Optional(BreakGlassRequest),
  },
  { additionalProperties: false },
);
export type NotifyRequest = Static<typeof NotifyRequest>;

export const regimeRoutes = routes(
  'regime-routes',
  ['regimes', 'compliance', 'peers', 'card', 'approvals', 'people'],
  async (app) => {
    const { regimes, compliance, peers, card, approvals, people } = app;

    app.get(
      '/api/v1/regimes',
      { schema: { querystring: LangQuery, tags: ['regimes'] } },
      async (request): Promise<RegimesView> => {
        const lang = readerLanguage(request.query.lang, regimes.languages, REGIMES);
        const pick = (map: Record<string, string>) => map[lang] ?? map.en ?? '';
        return {
          version: regimes.version,
          hash: regimes.hash,
          effective: regimes.document.effective,
          name: pick(regimes.document.name),
          card: compareRegimes(regimes, card.card.party, card.card.ext),
          peers: [...peers.keys()].map((party) => ({
            party,
            ...compareRegimes(regimes, party, peers.pinned(party).card.ext),
          })),
          types: regimes.types.map((t) => ({
            code: t.code,
            name: pick(t.name),
            description: pick(t.description),
            owedBy: t.owedBy,
            timing: t.timing,
            remindHours: t.remindHours,
            desk: t.desk,
            fields: t.fields.map((f) => ({
              name: f.name,
              type: f.type,
              required: f.required,
              label: pick(f.label),
              ...(f.values ? { values: f.values } : {}),
              ...(f.min === undefined ? {} : { min: f.min }),
              ...(f.max === undefined ? {} : { max: f.max }),
            })),
          })),
        };
      },
    );

    app.get(
      '/api/v1/compliance',
      { schema: { querystring: BoardQuery, tags: ['regimes'] } },
      async (request): Promise<ComplianceBoard> => {
        const lang = readerLanguage(request.query.lang, regimes.languages, REGIMES);
        const table = await compliance.table(
          request.query.at ? new Date(request.query.at) : undefined,
        );
        const names: Record<string, string> = {};
        for (const t of regimes.types) names[t.code] = regimes.name(t.code, lang);
        return { ...table, names };
      },
    );

    app.post(
      '/api/v1/notifications',
      { schema: { body: NotifyRequest, tags: ['regimes'] } },
      async (request, reply) => {
        const { to, type, fields, desk, breakGlass } = request.body;
        const kind = regimes.type(type);
        if (!kind)
          throw new ProtocolError(
            'E_BAD_NOTIFICATION',
            `"${type}" is not a notification type of regimes ${regimes.version}`,
          );
        const problem = sentFieldsProblem(
          regimes,
          type,
          fields,
          people.clock(),
          'request body/fields',
        );
        if (problem) throw new ProtocolError('E_BAD_NOTIFICATION', problem);
        await staffing(people.roster, request, desk, 'write as');
        const { text } = request.body;
        const { status, body } = answerOf(
          await approvals.submit(
            deciderOf(request),
            to,
            {
              type: 'notice',
              ...(request.body.incident ? { incident: request.body.incident } : {}),
              precedence: request.body.precedence ?? 'routine',
              status: request.body.status ?? 'actual',
              tlp: request.body.tlp ?? 'green',
              codes: [],
              ...(text ? { text } : {}),
              translations: [],
              attachments: [notificationAttachment(regimes, type, fields)],
              author: { desk },
              approvals: [],
              notice: { subject: type },
            },
            breakGlassOf(people, request, breakGlass),
          ),
        );
        return reply.status(status).send(body);
      },
    );
  },
);
