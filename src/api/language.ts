/**
 * Operator routes for language and standards (docs/language.md): the vocabulary, a message as a
 * reader in a language sees it, local translations, CAP 1.2 alerts of incidents, and the audited
 * forcing of TLP:RED content into an export. Registered inside the operator plugin, so its
 * authorization hook applies; handlers only parse and delegate to `Language`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { TRANSLATION_STATUSES } from '../node/language/language.ts';
import { Lang, OneOf, PartyId, Slug, Uuid7, Written } from '../protocol/common.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { VocabularyView } from '../protocol/views.ts';
import { principalOf, staffing } from './access.ts';
import { vocabularyLanguage } from './query.ts';
import { routes } from './services.ts';

const MessageParams = Type.Object({ party: PartyId, id: Uuid7 }, { additionalProperties: false });

const LangQuery = Type.Object({ lang: Type.Optional(Lang) }, { additionalProperties: false });

export const AddTranslation = Type.Object(
  {
    lang: Lang,
    text: Written(LIMITS.textChars),
    status: OneOf(TRANSLATION_STATUSES),
    /** The translator's name or desk, as it should appear beside the translation. */
    translator: Written(LIMITS.labelChars, 1, 'name'),
    /** The desk adding it. */
    desk: Slug,
  },
  { additionalProperties: false },
);
export type AddTranslation = Static<typeof AddTranslation>;

export const MachineTranslation = Type.Object(
  { lang: Lang, desk: Slug },
  { additionalProperties: false },
);
export type MachineTranslation = Static<typeof MachineTranslation>;

/** Who forces TLP:RED content into an export, and why: both go in the ledger. */
export const ForceRed = Type.Object(
  { desk: Type.Optional(Slug), reason: Written(500, 3) },
  { additionalProperties: false },
);
export type ForceRed = Static<typeof ForceRed>;

export const CapRequest = Type.Object(
  { includeRed: Type.Optional(ForceRed) },
  { additionalProperties: false },
);
export type CapRequest = Static<typeof CapRequest>;

export const languageRoutes = routes(
  'language-routes',
  ['language', 'peers', 'people'],
  async (app) => {
    const { language, peers, people } = app;

    /** Who forces TLP:RED out: the desk asked for (the caller must staff it), else their first. */
    const forcing = async (request: FastifyRequest, force: ForceRed) => ({
      desk: await people.roster.deskFor(
        principalOf(request).user,
        force.desk,
        'force TLP:RED content out',
      ),
      reason: force.reason,
    });

    app.get(
      '/api/v1/vocabulary',
      { schema: { querystring: LangQuery, tags: ['language'] } },
      async (request): Promise<VocabularyView> => {
        const v = language.vocabulary;
        const lang = vocabularyLanguage(request.query.lang, v);
        return {
          version: v.version,
          hash: v.hash,
          languages: v.document.languages,
          card: language.ownCard(lang),
          peers: [...peers.keys()].map((party) => ({ party, ...language.peer(party, lang) })),
          entries: v.codes.map((code) => v.render(code, lang)),
        };
      },
    );

    app.get(
      '/api/v1/messages/:party/:id',
      { schema: { params: MessageParams, querystring: LangQuery, tags: ['language'] } },
      async (request) => {
        const { party, id } = request.params;
        const lang = vocabularyLanguage(request.query.lang, language.vocabulary);
        return language.view(party, id, lang);
      },
    );

    app.get(
      '/api/v1/messages/:party/:id/translations',
      { schema: { params: MessageParams, querystring: LangQuery, tags: ['language'] } },
      async (request) => {
        const { party, id } = request.params;
        const lang = vocabularyLanguage(request.query.lang, language.vocabulary);
        return language.translations(party, id, lang);
      },
    );

    app.post(
      '/api/v1/messages/:party/:id/translations',
      { schema: { params: MessageParams, body: AddTranslation, tags: ['language'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        await staffing(people.roster, request, request.body.desk, 'act as');
        const added = await language.addTranslation(party, id, request.body);
        return reply.status(201).send(added);
      },
    );

    app.post(
      '/api/v1/messages/:party/:id/translations/machine',
      { schema: { params: MessageParams, body: MachineTranslation, tags: ['language'] } },
      async (request, reply) => {
        const { party, id } = request.params;
        await staffing(people.roster, request, request.body.desk, 'act as');
        const added = await language.machineTranslate(party, id, request.body);
        return reply.status(201).send(added);
      },
    );

    app.post(
      '/api/v1/incidents/:incident/cap',
      {
        schema: {
          params: Type.Object({ incident: Uuid7 }, { additionalProperties: false }),
          body: CapRequest,
          tags: ['language'],
        },
      },
      async (request) => {
        const { incident } = request.params;
        const { includeRed } = request.body;
        return language.cap(incident, includeRed && (await forcing(request, includeRed)));
      },
    );

    app.post(
      '/api/v1/exports/red',
      { schema: { body: ForceRed, tags: ['language'] } },
      async (request, reply) => {
        const { desk, reason } = await forcing(request, request.body);
        const leaf = await language.recordRedExport('ledger export', desk, reason);
        return reply.status(201).send({ leaf });
      },
    );
  },
);
