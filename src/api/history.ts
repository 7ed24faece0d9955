/**
 * History and search on the operator API (docs/console.md § History): every message and incident,
 * open or closed, by text in any language it is held in, party, precedence, category, status,
 * date range and id. The store answers from its full-text index (src/store/search.ts); this route
 * adds each hit's text in the reader's language and its incident's state. Registered inside the
 * operator plugin, so the access hook applies.
 */
import { Type } from '@sinclair/typebox';
import { loadIncident } from '../node/incidents/incidents.ts';
import { Code, Lang, OneOf, PartyId, rangeProblem } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { PRECEDENCES, STATUSES } from '../protocol/values.ts';
import type { IncidentView, ReadableText, SearchHit } from '../protocol/views.ts';
import { hasWords, SEARCH_LIMIT } from '../store/search.ts';
import { actorOf } from './access.ts';
import { QueryCount } from './query.ts';
import { routes } from './services.ts';

/** A day (`2026-12-05`) or an instant (`2026-12-05T17:05:35.270Z`). */
const When = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z)?$',
  maxLength: 24,
  description: 'a day (2026-12-05) or a UTC time (2026-12-05T17:05:35.270Z)',
  // A real day or instant, not one Date would move (2026-02-30 to 2 March): src/api/server.ts.
  calendar: true,
});

export const SearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200 })),
    party: Type.Optional(PartyId),
    precedence: Type.Optional(OneOf(PRECEDENCES)),
    category: Type.Optional(Code),
    status: Type.Optional(OneOf(STATUSES)),
    from: Type.Optional(When),
    to: Type.Optional(When),
    id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F-]{4,36}$', maxLength: 36 })),
    dir: Type.Optional(OneOf(['in', 'out'] as const)),
    lang: Type.Optional(Lang),
    limit: Type.Optional(QueryCount(SEARCH_LIMIT)),
  },
  { additionalProperties: false },
);

/** A day as the instant it starts (`from`) or ends (`to`), in UTC; an instant as itself. */
function instant(when: string | undefined, end: boolean): string | undefined {
  if (!when) return undefined;
  if (when.length === 10) return `${when}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
  const at = new Date(when);
  if (Number.isNaN(at.getTime()))
    throw new ProtocolError(
      'E_MALFORMED',
      `"${when}" is not a date: use 2026-12-05 or an ISO time`,
    );
  return at.toISOString();
}

export const historyRoutes = routes(
  'history-routes',
  ['store', 'config', 'people'],
  async (app) => {
    const { store, config, people } = app;

    app.get(
      '/api/v1/search',
      { schema: { querystring: SearchQuery, tags: ['history'] } },
      async (request): Promise<SearchHit[]> => {
        const { q, lang = 'en', limit = '50', ...filters } = request.query;
        const from = instant(filters.from, false);
        const to = instant(filters.to, true);
        const reversed =
          from &&
          to &&
          rangeProblem(
            { name: 'querystring/from', given: filters.from as string, at: from },
            { name: 'querystring/to', given: filters.to as string, at: to },
          );
        if (reversed) throw new ProtocolError('E_MALFORMED', `request ${reversed}`);
        // Else a query of punctuation alone (`-`, `*`) would list every message, as no q does.
        if (q !== undefined && !hasWords(q))
          throw new ProtocolError('E_MALFORMED', 'q has no word to search for');
        const rows = await store.search({
          ...filters,
          ...(q !== undefined ? { text: q } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          limit: Number(limit),
        });
        const incidents = new Map<string, IncidentView | undefined>();
        const hits: SearchHit[] = [];
        for (const r of rows) {
          const body =
            r.dir === 'in'
              ? (await store.getInbox(r.party, r.id))?.body
              : (await store.getOutbox(r.party, r.id))?.body;
          if (!body) continue;
          if (r.incident && !incidents.has(r.incident))
            incidents.set(r.incident, (await loadIncident(store, config.party, r.incident))?.view);
          const view = r.incident ? incidents.get(r.incident) : undefined;
          let translation: ReadableText | null = null;
          if (body.text && body.text.lang !== lang) {
            const sender = body.translations.find((t) => t.lang === lang);
            const local = (await store.listTranslations(r.author, r.id))
              .filter((t) => t.lang === lang)
              .pop();
            translation = sender
              ? { ...sender, by: 'sender' }
              : local
                ? { lang, body: local.text, by: local.kind, translator: local.translator }
                : null;
          }
          hits.push({
            dir: r.dir,
            party: r.party,
            from: r.author,
            id: r.id,
            incident: r.incident,
            incidentState: view?.state ?? null,
            retracted: Boolean(view?.retracted),
            type: r.type,
            precedence: r.precedence,
            status: r.status,
            category: r.category,
            tlp: r.tlp,
            desk: r.desk,
            sent: r.sent,
            text: body.text ?? null,
            translation,
          });
        }
        await people.trail.record({
          ...actorOf(request),
          action: 'message.search',
          target: 'search',
          detail: { query: request.query, count: hits.length },
        });
        return hits;
      },
    );
  },
);
