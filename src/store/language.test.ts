/**
 * The language tables and lookups (migration 0004-language) on both backends: SQLite in a temporary
 * file, PostgreSQL in a fresh schema on 127.0.0.1:5432 (HOTLINE_TEST_POSTGRES overrides the URL).
 */
import { describe, expect, test } from 'vitest';
import { storeBackends } from '../../test/support/store-backends.ts';
import type { Body } from '../protocol/body.ts';
import { sha256, toHex } from '../protocol/encoding.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import type { NewOutboxRow, TranslationRow } from './store.ts';

const { backends } = storeBackends('lang');

const INCIDENT = '01937a8e-4f00-7000-8000-0000000000aa';
const OTHER = '01937a8e-4f00-7000-8000-0000000000bb';
const id = (n: number) => `01937a8e-4f00-7000-8000-0000000001${String(n).padStart(2, '0')}`;
const body = (incident?: string) =>
  ({
    salt: 'x',
    type: 'query',
    ...(incident ? { incident } : {}),
    tlp: 'amber',
    precedence: 'routine',
    status: 'actual',
    translations: [],
    author: { desk: 'ops' },
  }) as unknown as Body;

function outboxRow(party: string, n: number, incident?: string): NewOutboxRow {
  const message = body(incident);
  // The store serves a body only when it matches its signed header's bodyHash.
  const bodyHash = toHex(sha256(jcsBytes(message)));
  return {
    party,
    id: id(n),
    seq: n,
    rank: 0,
    header_hash: 'h',
    envelope: { header: { from: 'us', sent: `2026-11-27T01:00:0${n}.000Z`, bodyHash } } as Envelope,
    body: message,
    created_at: `2026-11-27T01:00:0${n}.000Z`,
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

function translation(n: number, messageId: string): TranslationRow {
  return {
    id: id(50 + n),
    party: 'cn',
    message_id: messageId,
    source_lang: 'zh',
    lang: 'en',
    text: `translation ${n}`,
    kind: n % 2 ? 'machine' : 'person',
    translator: n % 2 ? 'libre' : 'us/linguist',
    status: n % 2 ? 'rough' : 'final',
    requested_by: 'ops',
    created_at: `2026-11-27T02:00:0${n}.000Z`,
  };
}

describe.each(backends)('on %s', (_name, open) => {
  test('local translations are kept per message, oldest first', async () => {
    const store = await open();
    try {
      await store.addTranslation(translation(2, id(1)));
      await store.addTranslation(translation(1, id(1)));
      await store.addTranslation(translation(3, id(2)));
      const list = await store.listTranslations('cn', id(1));
      expect(list.map((t) => [t.text, t.kind, t.status])).toEqual([
        ['translation 1', 'machine', 'rough'],
        ['translation 2', 'person', 'final'],
      ]);
      expect(await store.listTranslations('us', id(1))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('an incident’s messages: one per message sent to several, none of another incident', async () => {
    const store = await open();
    try {
      await store.transaction(async (tx) => {
        await store.addOutbox(
          [
            outboxRow('cn', 1, INCIDENT),
            outboxRow('eu', 1, INCIDENT),
            outboxRow('cn', 2, OTHER),
            outboxRow('cn', 3),
          ],
          tx,
        );
      });
      const found = await store.incidentMessages(INCIDENT);
      expect(found.map((m) => [m.dir, m.id])).toEqual([['out', id(1)]]);
      expect(await store.outboxRowsOf(id(1))).toHaveLength(2);
      expect(await store.getInbox('cn', id(1))).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
