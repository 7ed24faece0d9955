/**
 * An incident exported in a reporting framework (docs/frameworks.md): the OECD common reporting
 * framework for AI incidents, or an EU AI Act Article 73 serious-incident report, as JSON a
 * national authority can take in without retyping. Registered inside the operator plugin, so
 * the access hook applies; the audit trail records each export (src/api/operator.ts).
 */
import { Type } from '@sinclair/typebox';
import { loadIncident } from '../node/incidents/incidents.ts';
import { Lang, OneOf, Uuid7 } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { exportIncident, FRAMEWORKS } from '../protocol/frameworks.ts';
import { vocabularyLanguage } from './query.ts';
import { routes } from './services.ts';

const Params = Type.Object({ incident: Uuid7 }, { additionalProperties: false });
const Query = Type.Object(
  { format: OneOf(FRAMEWORKS), lang: Type.Optional(Lang) },
  { additionalProperties: false },
);

export const frameworkRoutes = routes(
  'framework-routes',
  ['store', 'config', 'clock', 'language'],
  async (app) => {
    const { store, config, clock, language } = app;

    app.get(
      '/api/v1/incidents/:incident/export',
      { schema: { params: Params, querystring: Query, tags: ['incidents'] } },
      async (request, reply) => {
        const { incident } = request.params;
        const { format } = request.query;
        const lang = vocabularyLanguage(request.query.lang, language.vocabulary);
        const found = await loadIncident(store, config.party, incident);
        if (!found) throw new ProtocolError('E_NOT_FOUND', `there is no incident ${incident}`);
        const seen = new Set<string>();
        const messages = [];
        for (const m of found.messages) {
          if (seen.has(m.id)) continue;
          seen.add(m.id);
          messages.push({
            from: m.dir === 'out' ? config.party : m.party,
            id: m.id,
            at: m.at,
            body: m.body,
          });
        }
        const exported = exportIncident(format, {
          party: config.party,
          view: found.view,
          messages,
          text: (code) => language.vocabulary.render(code, lang).text,
          lang,
          generatedAt: clock().toISOString(),
        });
        return reply
          .header(
            'content-disposition',
            `attachment; filename="incident-${incident}-${format}.json"`,
          )
          .send(exported);
      },
    );
  },
);
