/**
 * Gap repair's read (`backedOffSeqs`, migration 0033-outbox-backoff) on both backends: SQLite in
 * a temporary file, PostgreSQL in a fresh schema on 127.0.0.1:5432 (HOTLINE_TEST_POSTGRES
 * overrides the URL). A heartbeat under load must not read every pending envelope of the peer.
 */
import { describe, expect, test } from 'vitest';
import { storeBackends } from '../../test/support/store-backends.ts';
import type { Body } from '../protocol/body.ts';
import type { Envelope } from '../protocol/envelope.ts';
import type { NewOutboxRow } from './store.ts';

const { backends } = storeBackends('backoff');

const NOW = 1_800_000_000_000;

function row(party: string, seq: number, nextAttemptAt: number, status = 'pending'): NewOutboxRow {
  return {
    party,
    id: `01937a8e-4f00-7000-8000-${String(seq).padStart(12, '0')}`,
    seq,
    rank: 3,
    header_hash: 'h',
    envelope: { header: { from: 'us', sent: '2026-12-06T00:00:00.000Z' } } as Envelope,
    body: {
      salt: 'x',
      type: 'report',
      tlp: 'amber',
      precedence: 'routine',
      status: 'exercise',
      translations: [],
      author: { desk: 'ops' },
    } as unknown as Body,
    created_at: '2026-12-06T00:00:00.000Z',
    status,
    attempts: nextAttemptAt > NOW ? 3 : 0,
    next_attempt_at: nextAttemptAt,
    last_error: null,
    receipted_at: null,
    peer_received_at: null,
    peer_index: null,
    leaf_index: seq,
  } as NewOutboxRow;
}

describe.each(backends)('on %s', (name, open) => {
  test('envelopes waiting out a backoff, longest wait first, and no others', async () => {
    const store = await open();
    try {
      await store.transaction(async (tx) => {
        const rows: NewOutboxRow[] = [];
        // A backlog: due now or in flight (not in backoff), or long receipted.
        for (let seq = 1; seq <= 3000; seq++) rows.push(row('cn', seq, NOW - seq));
        rows.push(row('cn', 3001, NOW + 30_000, 'receipted'));
        // Waiting out a backoff: these alone are gap repair's to read.
        rows.push(row('cn', 3002, NOW + 1_000), row('cn', 3003, NOW + 20_000));
        rows.push(row('cn', 3004, NOW + 5_000), row('fr', 1, NOW + 9_000));
        for (let i = 0; i < rows.length; i += 500)
          await store.addOutbox(rows.slice(i, i + 500), tx);
      });
      expect(await store.backedOffSeqs('cn', NOW, 0, 100)).toEqual([3003, 3004, 3002]);
      expect(await store.backedOffSeqs('cn', NOW, 0, 2)).toEqual([3003, 3004]);
      expect(await store.backedOffSeqs('cn', NOW + 10_000, 0, 100)).toEqual([3003]);
      // Seqs the peer reports it holds, up to its contiguous one, are not read.
      expect(await store.backedOffSeqs('cn', NOW, 3003, 100)).toEqual([3004]);
      // In a unit of work too (SQLite's prepared path).
      expect(await store.transaction((tx) => store.backedOffSeqs('cn', NOW, 0, 100, tx))).toEqual([
        3003, 3004, 3002,
      ]);
      // Made due now, they leave the backoff: the next heartbeat reads the next ones.
      expect(await store.resendNow('cn', [3003, 3004], NOW)).toBe(2);
      expect(await store.backedOffSeqs('cn', NOW, 0, 100)).toEqual([3002]);
      if (name === 'sqlite') {
        const plan = async (sql: string, parameters: unknown[]) => {
          const { rows } = await store.db.executeQuery<{ detail: string }>({
            sql: `explain query plan ${sql}`,
            parameters,
          } as never);
          return rows.map((r) => r.detail).join('; ');
        };
        // The lanes' due queries (as `dueOutbox` and `nextDue` write them) keep walking the
        // backlog in order by `outbox_due`: the backoff index must not be taken for them.
        expect(
          await plan(
            `select id from outbox where party = ? and status = 'pending' and rank in (?, ?) and next_attempt_at <= ? order by rank, seq limit ?`,
            ['cn', 2, 3, NOW, 256],
          ),
        ).toMatch(/USING INDEX outbox_due/);
        expect(
          await plan(
            `select min(next_attempt_at) as at from outbox where party = ? and status = 'pending' and rank in (?, ?)`,
            ['cn', 2, 3],
          ),
        ).toMatch(/USING INDEX outbox_due/);
      }
    } finally {
      await store.close();
    }
  });
});
