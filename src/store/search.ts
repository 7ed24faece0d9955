/**
 * History and search (migration 0018-search): one row per stored message (`search`) with the
 * fields an operator filters by, and a full-text index of its free text in every language it is
 * held in — the author's text, the sender's translations and this side's local translations.
 * SQLite keeps the text in an FTS5 table (`search_text`, rowid = `search.doc`); PostgreSQL in a
 * `tsvector` column with a GIN index. Rows are written by `Store.addInbox` / `Store.addOutbox`
 * in the transaction that stores the message, so the index is never behind the messages.
 *
 * Tokens are made here, the same for both backends: text is NFKC-normalised, lower-cased and
 * stripped of diacritics, split on anything that is not a letter or digit, and each Han, kana or
 * Hangul character is a token of its own (Chinese has no spaces; a term of two characters is the
 * phrase of its two characters). A query's words must all match: a CJK word as a phrase, any
 * other word as a prefix.
 *
 * @example
 *   const hits = await searchMessages(store.db, store.dialect, { text: '主机', status: 'actual' });
 */
import { CompiledQuery, sql } from 'kysely';
import type { Body, LangText } from '../protocol/body.ts';
import type { Precedence, Status } from '../protocol/values.ts';
import type { Dialect } from './migrations.ts';
import type { SearchTable } from './schema.ts';
import type { Built, Executor } from './store.ts';

/** How the index's statements run: `Store` passes its own, prepared on SQLite's hot path. */
export interface Runner {
  rows<R>(query: Built<R>, q: Executor): Promise<R[]>;
  /** A statement written with `?` placeholders (SQLite's; only SQLite's index uses it). */
  rawRows<R>(text: string, params: readonly unknown[], q: Executor): Promise<R[]>;
}

/** Kysely's own way (migrations, which have no `Store`). */
const THROUGH_KYSELY: Runner = {
  rows: (query) => query.execute(),
  rawRows: async <R>(text: string, params: readonly unknown[], q: Executor) =>
    (await q.executeQuery<R>(CompiledQuery.raw(text, [...params]))).rows,
};

/**
 * The index's columns but `doc`: what a search reads, and what SQLite's index writes (PostgreSQL's
 * adds `vector`).
 */
const SEARCH_COLUMNS = [
  'dir',
  'party',
  'author',
  'id',
  'incident',
  'type',
  'precedence',
  'status',
  'category',
  'tlp',
  'desk',
  'sent',
] as const;

/** One stored message as the index sees it. */
export interface Indexed {
  dir: 'in' | 'out';
  /** The other party: the sender of a received message, the recipient of a sent one. */
  party: string;
  /** The author party. */
  from: string;
  id: string;
  sent: string;
  body: Body;
}

export interface SearchQuery {
  text?: string;
  party?: string;
  precedence?: Precedence;
  category?: string;
  status?: Status;
  /** Sent at or after / before (ISO 8601). */
  from?: string;
  to?: string;
  /** A message or incident id, or the start of one. */
  id?: string;
  dir?: 'in' | 'out';
  limit?: number;
}

export type SearchRow = Omit<SearchTable, 'doc' | 'vector'> & { doc: number };

const CJK_CLASS = '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}]';
const CJK = new RegExp(CJK_CLASS, 'gu');
const CJK_TOKEN = new RegExp(`^${CJK_CLASS}$`, 'u');
/** Tokens kept per message (a PostgreSQL tsvector position stops at 16,383). */
const MAX_TOKENS = 16_000;
const MAX_TOKEN = 100;

/** The search tokens of a text, in order. */
export function tokens(text: string): string[] {
  const out = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(CJK, ' $& ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((t) => t.slice(0, MAX_TOKEN));
  return out.length > MAX_TOKENS ? out.slice(0, MAX_TOKENS) : out;
}

/** The free text of a body in every language it carries, and its category code. */
export function bodyTexts(body: Body): string[] {
  const texts: LangText[] = [...(body.text ? [body.text] : []), ...body.translations];
  return texts.map((t) => t.body);
}

/** A query's words, each a list of tokens: CJK words a phrase, others a prefix. */
interface Word {
  tokens: string[];
  prefix: boolean;
}

/** Whether a query has a word to search for (not only punctuation or spaces, such as `-`). */
export function hasWords(text: string): boolean {
  return words(text).length > 0;
}

function words(text: string): Word[] {
  return text
    .split(/\s+/u)
    .map((w) => tokens(w))
    .filter((t) => t.length > 0)
    .map((t) => ({ tokens: t, prefix: t.length === 1 && !CJK_TOKEN.test(t[0] as string) }));
}

/** An FTS5 query: each word a quoted phrase (tokens hold only letters and digits). */
function ftsQuery(ws: Word[]): string {
  return ws.map((w) => `"${w.tokens.join(' ')}"${w.prefix ? '*' : ''}`).join(' AND ');
}

const lexeme = (t: string) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** A PostgreSQL tsquery text with the same meaning. */
function tsQuery(ws: Word[]): string {
  return ws
    .map((w) =>
      w.prefix ? `${lexeme(w.tokens[0] as string)}:*` : `(${w.tokens.map(lexeme).join(' <-> ')})`,
    )
    .join(' & ');
}

/** A PostgreSQL tsvector text of these tokens with their positions (1-based). */
function tsVector(ts: string[], offset = 0): string {
  const at = new Map<string, number[]>();
  ts.forEach((t, i) => {
    const list = at.get(t) ?? [];
    if (list.length < 256) list.push(Math.min(offset + i + 1, 16_383));
    at.set(t, list);
  });
  return [...at].map(([t, ps]) => `${lexeme(t)}:${ps.join(',')}`).join(' ');
}

/**
 * Indexes messages just stored; call with the storing transaction. A message already indexed
 * (the same direction, party and id) is left as it is.
 */
export async function indexMessages(
  q: Executor,
  dialect: Dialect,
  messages: readonly Indexed[],
  run: Runner = THROUGH_KYSELY,
): Promise<void> {
  for (let i = 0; i < messages.length; i += INSERT_ROWS)
    await indexChunk(q, dialect, messages.slice(i, i + INSERT_ROWS), run);
  // An incident's report may arrive after messages citing it: they take its category.
  for (const m of messages)
    if (m.body.report && m.body.incident)
      await q
        .updateTable('search')
        .set({ category: m.body.report.category })
        .where('incident', '=', m.body.incident)
        .where('category', 'is', null)
        .execute();
}

const INSERT_ROWS = 100;

async function indexChunk(
  q: Executor,
  dialect: Dialect,
  messages: readonly Indexed[],
  run: Runner,
) {
  // A message of an incident whose report is stored takes the report's category.
  const unknown = [
    ...new Set(
      messages.flatMap((m) => (m.body.incident && !m.body.report ? [m.body.incident] : [])),
    ),
  ];
  const categories = new Map<string, string>();
  if (unknown.length)
    for (const r of await run.rows(
      q
        .selectFrom('search')
        .select(['incident', 'category'])
        .where('incident', 'in', unknown)
        .where('category', 'is not', null),
      q,
    ))
      if (r.incident && r.category) categories.set(r.incident, r.category);
  for (const m of messages)
    if (m.body.incident && m.body.report) categories.set(m.body.incident, m.body.report.category);
  const texts = messages.map((m) => tokens(bodyTexts(m.body).join('\n')));
  const rows = messages.map((m) => {
    const b = m.body;
    return {
      dir: m.dir,
      party: m.party,
      author: m.from,
      id: m.id,
      incident: b.incident ?? null,
      type: b.type,
      precedence: b.precedence,
      status: b.status,
      category: b.report?.category ?? (b.incident ? categories.get(b.incident) : undefined) ?? null,
      tlp: b.tlp,
      desk: b.author.desk,
      sent: m.sent,
    } satisfies Record<(typeof SEARCH_COLUMNS)[number], unknown>;
  });
  if (dialect === 'postgres') {
    await q
      .insertInto('search')
      .values(
        rows.map((row, i) => ({
          ...row,
          vector: sql<string>`${tsVector(texts[i] ?? [])}::tsvector`,
        })),
      )
      .onConflict((oc) => oc.columns(['dir', 'party', 'id']).doNothing())
      .execute();
    return;
  }
  // SQLite, on a message's hot path: the statements' text kept, not built by Kysely each time.
  const added = await run.rawRows<{ doc: number; dir: string; party: string; id: string }>(
    `insert into search (${SEARCH_COLUMNS.join(', ')}) values ${rows
      .map(() => `(${SEARCH_COLUMNS.map(() => '?').join(', ')})`)
      .join(', ')} on conflict (dir, party, id) do nothing returning doc, dir, party, id`,
    rows.flatMap((row) => SEARCH_COLUMNS.map((c) => row[c])),
    q,
  );
  if (!added.length) return;
  const words = new Map(messages.map((m, i) => [`${m.dir}/${m.party}/${m.id}`, texts[i] ?? []]));
  await run.rawRows(
    `insert into search_text (rowid, words) values ${added.map(() => '(?, ?)').join(', ')}`,
    added.flatMap((a) => [a.doc, (words.get(`${a.dir}/${a.party}/${a.id}`) ?? []).join(' ')]),
    q,
  );
}

/** Adds a local translation's text to the index of the message it translates. */
export async function indexTranslation(
  q: Executor,
  dialect: Dialect,
  author: string,
  id: string,
  text: string,
): Promise<void> {
  const rows = await q
    .selectFrom('search')
    .select('doc')
    .where('author', '=', author)
    .where('id', '=', id)
    .execute();
  const more = tokens(text);
  for (const { doc } of rows) {
    if (dialect === 'postgres') {
      await q
        .updateTable('search')
        .set({ vector: sql<string>`vector || ${tsVector(more)}::tsvector` })
        .where('doc', '=', doc)
        .execute();
      continue;
    }
    const before = await sql<{ words: string }>`select words from search_text where rowid = ${doc}`
      .execute(q)
      .then((r) => r.rows[0]?.words ?? '');
    const words = `${before} ${more.join(' ')}`.trim();
    await sql`delete from search_text where rowid = ${doc}`.execute(q);
    await sql`insert into search_text (rowid, words) values (${doc}, ${words})`.execute(q);
  }
}

export const SEARCH_LIMIT = 200 as const;

/**
 * Messages matching every given filter, newest stored first. The text goes through the
 * full-text index (FTS5 MATCH, or tsvector @@ tsquery over GIN), never a scan of the bodies.
 */
export async function searchMessages(
  q: Executor,
  dialect: Dialect,
  query: SearchQuery,
): Promise<SearchRow[]> {
  const ws = words(query.text ?? '');
  let select = q.selectFrom('search').select(['doc', ...SEARCH_COLUMNS]);
  if (ws.length && dialect === 'postgres')
    select = select.where(sql<boolean>`vector @@ ${tsQuery(ws)}::tsquery`);
  else if (ws.length)
    select = select.where(
      'doc',
      'in',
      sql<number>`(select rowid from search_text where search_text match ${ftsQuery(ws)})`,
    );
  if (query.party) select = select.where('party', '=', query.party);
  if (query.precedence) select = select.where('precedence', '=', query.precedence);
  if (query.category) select = select.where('category', '=', query.category);
  if (query.status) select = select.where('status', '=', query.status);
  if (query.dir) select = select.where('dir', '=', query.dir);
  if (query.from) select = select.where('sent', '>=', query.from);
  if (query.to) select = select.where('sent', '<=', query.to);
  if (query.id) {
    const id = query.id.toLowerCase();
    const exact = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
    select = exact
      ? select.where((eb) => eb.or([eb('id', '=', id), eb('incident', '=', id)]))
      : select.where((eb) =>
          eb.or([
            eb.and([eb('id', '>=', id), eb('id', '<', `${id}~`)]),
            eb.and([eb('incident', '>=', id), eb('incident', '<', `${id}~`)]),
          ]),
        );
  }
  const rows = await select
    .orderBy('doc', 'desc')
    .limit(Math.min(query.limit ?? 50, SEARCH_LIMIT))
    .execute();
  return rows.map((r) => ({ ...r, doc: Number(r.doc) }));
}
