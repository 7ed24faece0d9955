/**
 * History and search (migration 0018-search) on both backends: SQLite (FTS5) in a temporary file,
 * PostgreSQL (tsvector, GIN) in a fresh schema on 127.0.0.1:5432 (HOTLINE_TEST_POSTGRES overrides
 * the URL). Messages are stored the way the node stores them (addInbox / addOutbox in a
 * transaction) and found by text in either language and by every filter.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { storeBackends } from '../../test/support/store-backends.ts';
import type { Body } from '../protocol/body.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { tokens } from './search.ts';
import { openSqliteStore } from './sqlite/index.ts';
import type { InboxRow, NewOutboxRow, Store } from './store.ts';

const { dir, backends } = storeBackends('search');

const INCIDENT = '01937a8e-4f00-7000-8000-0000000000aa';
const id = (n: number) => `01937a8e-4f00-7000-8000-0000000001${String(n).padStart(2, '0')}`;
const sent = (n: number) => `2026-11-${String(20 + n).padStart(2, '0')}T01:00:00.000Z`;

function body(fields: Partial<Body>): Body {
  return {
    salt: 'x',
    type: 'query',
    precedence: 'routine',
    status: 'actual',
    tlp: 'amber',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...fields,
  } as Body;
}

function envelope(from: string, n: number): Envelope {
  return { header: { from, sent: sent(n) } } as Envelope;
}

function inboxRow(n: number, b: Body): InboxRow {
  return {
    party: 'cn',
    id: id(n),
    seq: n,
    header_hash: 'h',
    envelope: envelope('cn', n),
    body: b,
    received_at: sent(n),
    leaf_index: n,
    receipt_id: 1,
  };
}

function outboxRow(n: number, b: Body): NewOutboxRow {
  return {
    party: 'cn',
    id: id(n),
    seq: n,
    rank: 0,
    header_hash: 'h',
    envelope: envelope('us', n),
    body: b,
    created_at: sent(n),
    status: 'pending',
    attempts: 0,
    next_attempt_at: 0,
    last_error: null,
    receipted_at: null,
    peer_received_at: null,
    peer_index: null,
    leaf_index: n,
  };
}

test('Chinese is split into characters, other scripts into words without accents or case', () => {
  expect(tokens('已收到。我方正在核查相关主机')).toEqual([
    '已',
    '收',
    '到',
    '我',
    '方',
    '正',
    '在',
    '核',
    '查',
    '相',
    '关',
    '主',
    '机',
  ]);
  expect(tokens('Frontier model-weights exfiltrated; Café')).toEqual([
    'frontier',
    'model',
    'weights',
    'exfiltrated',
    'cafe',
  ]);
});

describe.each(backends)('on %s', (_name, open) => {
  test('messages are found by text in both languages and by every filter', async () => {
    const store = await open();
    try {
      await store.transaction(async (tx) => {
        await store.addOutbox(
          [
            outboxRow(
              1,
              body({
                type: 'incident.report',
                incident: INCIDENT,
                precedence: 'flash',
                report: { category: 'category.model-weights-exfiltration' } as Body['report'],
                text: { lang: 'en', body: 'Frontier model weights exfiltrated to unknown hosts.' },
                translations: [{ lang: 'zh', body: '前沿模型权重被窃取到未知主机。' }],
              }),
            ),
          ],
          tx,
        );
        await store.addInbox(
          [
            inboxRow(
              2,
              body({
                type: 'incident.update',
                incident: INCIDENT,
                precedence: 'immediate',
                text: { lang: 'zh', body: '已收到。我方正在核查相关主机。' },
              }),
            ),
            inboxRow(
              3,
              body({
                status: 'exercise',
                text: { lang: 'en', body: 'Drill: hosts in the exercise network.' },
              }),
            ),
          ],
          tx,
        );
      });
      const ids = async (query: Parameters<Store['search']>[0]) =>
        (await store.search(query)).map((r) => `${r.dir}:${r.id.slice(-2)}`);

      // A Chinese term of two characters is a phrase: 主机 is in both Chinese texts, 机主 in none.
      expect(await ids({ text: '主机' })).toEqual(['in:02', 'out:01']);
      expect(await ids({ text: '机主' })).toEqual([]);
      // English by prefix, any case; several words must all match.
      expect(await ids({ text: 'EXFILTR' })).toEqual(['out:01']);
      expect(await ids({ text: 'hosts' })).toEqual(['in:03', 'out:01']);
      expect(await ids({ text: 'hosts drill' })).toEqual(['in:03']);
      // Filters, alone and with text.
      expect(await ids({ status: 'exercise' })).toEqual(['in:03']);
      expect(await ids({ text: 'hosts', status: 'actual' })).toEqual(['out:01']);
      expect(await ids({ precedence: 'immediate' })).toEqual(['in:02']);
      expect(await ids({ dir: 'out' })).toEqual(['out:01']);
      // The update takes its incident's category from the report.
      expect(await ids({ category: 'category.model-weights-exfiltration' })).toEqual([
        'in:02',
        'out:01',
      ]);
      expect(await ids({ from: sent(2), to: sent(2) })).toEqual(['in:02']);
      expect(await ids({ id: INCIDENT })).toEqual(['in:02', 'out:01']);
      expect(await ids({ id: INCIDENT.slice(0, 35) })).toEqual(['in:02', 'out:01']);
      expect(await ids({ party: 'eu' })).toEqual([]);
      // Punctuation alone is no query, and does not fail.
      expect(await ids({ text: '"*)( -' })).toHaveLength(3);
      expect(await ids({ text: '"hosts" OR' })).toEqual([]);

      // A local translation makes the Chinese update findable in English, in the same commit.
      await store.addTranslation({
        id: id(60),
        party: 'cn',
        message_id: id(2),
        source_lang: 'zh',
        lang: 'en',
        text: 'Received. We are checking the hosts concerned.',
        kind: 'machine',
        translator: 'libre',
        status: 'rough',
        requested_by: 'ops',
        created_at: sent(4),
      });
      expect(await ids({ text: 'checking' })).toEqual(['in:02']);
      expect(await ids({ text: '核查' })).toEqual(['in:02']);
    } finally {
      await store.close();
    }
  });
});

test('an existing database is indexed when it migrates to 0018-search', async () => {
  const { Kysely, Migrator, SqliteDialect } = await import('kysely');
  const { default: Database } = await import('better-sqlite3');
  const { migrationProvider } = await import('./migrations.ts');
  const path = join(dir, 'before-search.db');
  const db = new Kysely<import('./schema.ts').Database>({
    dialect: new SqliteDialect({ database: new Database(path) }),
  });
  const migrator = new Migrator({ db, provider: migrationProvider('sqlite') });
  const before = await migrator.migrateTo('0009-approvals');
  expect(before.error).toBeUndefined();
  const row = inboxRow(
    5,
    body({ type: 'reply', text: { lang: 'zh', body: '我方正在核查相关主机。' } }),
  );
  await db
    .insertInto('inbox')
    .values({
      ...row,
      envelope: JSON.stringify(row.envelope),
      body: JSON.stringify(row.body),
    } as never)
    .execute();
  await db.destroy();
  const store = await openSqliteStore(path);
  try {
    expect((await store.search({ text: '主机' })).map((r) => r.id)).toEqual([id(5)]);
  } finally {
    await store.close();
  }
});
