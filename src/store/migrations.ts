/**
 * One migration list for every backend. A migration never changes once released; add another.
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import type { Body } from '../protocol/body.ts';
import type { Envelope } from '../protocol/envelope.ts';
import type { Database } from './schema.ts';
import { type Indexed, indexMessages } from './search.ts';

export type Dialect = 'sqlite' | 'postgres';

/** Stored ledger hashes per row of `ledger_pages` (from 0006-ledger on). */
export const LEDGER_PAGE_HASHES = 64;

function migrations(dialect: Dialect): Record<string, Migration> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const serial = (db: Kysely<unknown>, table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey());
  const serialOf = (db: Kysely<unknown>, table: string, column: string) =>
    db.schema
      .createTable(table)
      .addColumn(column, dialect === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey());
  return {
    '0001-core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('peers')
          .addColumn('party', 'text', (c) => c.primaryKey())
          .addColumn('card', 'text', (c) => c.notNull())
          .addColumn('retired', 'text', (c) => c.notNull())
          .addColumn('pinned_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('channels')
          .addColumn('party', 'text', (c) => c.primaryKey())
          .addColumn('last_seq', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('outbox')
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('seq', bigint, (c) => c.notNull())
          .addColumn('rank', 'integer', (c) => c.notNull())
          .addColumn('header_hash', 'text', (c) => c.notNull())
          .addColumn('envelope', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', bigint, (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('receipted_at', 'text')
          .addColumn('peer_received_at', 'text')
          .addColumn('peer_index', bigint)
          .addColumn('leaf_index', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('outbox_pk', ['party', 'id'])
          .addUniqueConstraint('outbox_seq', ['party', 'seq'])
          .execute();
        await db.schema
          .createIndex('outbox_due')
          .on('outbox')
          .columns(['party', 'status', 'rank', 'seq'])
          .execute();
        await db.schema
          .createTable('inbox')
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('seq', bigint, (c) => c.notNull())
          .addColumn('header_hash', 'text', (c) => c.notNull())
          .addColumn('envelope', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('leaf_index', bigint, (c) => c.notNull())
          .addColumn('receipt_id', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('inbox_pk', ['party', 'id'])
          .addUniqueConstraint('inbox_seq', ['party', 'seq'])
          .execute();
        await serial(db, 'receipts')
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('receipt', 'text', (c) => c.notNull())
          .execute();
        await serial(db, 'alarms')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('party', 'text')
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('cleared_at', 'text')
          .execute();
        await db.schema
          .createTable('ledger_leaves')
          .addColumn('idx', bigint, (c) => c.primaryKey())
          .addColumn('leaf', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('ledger_hashes')
          .addColumn('idx', bigint, (c) => c.primaryKey())
          .addColumn('hash', bytes, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('checkpoints')
          .addColumn('size', bigint, (c) => c.primaryKey())
          .addColumn('note', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002-witness': {
      async up(db: Kysely<unknown>) {
        // Per peer, the last checkpoint of its log this node accepted as a witness, and the
        // co-signature line it made for it (sent in every heartbeat to that peer).
        await db.schema
          .createTable('witnessed')
          .addColumn('party', 'text', (c) => c.primaryKey())
          .addColumn('size', bigint, (c) => c.notNull())
          .addColumn('root', 'text', (c) => c.notNull())
          .addColumn('note', 'text', (c) => c.notNull())
          .addColumn('cosignature', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
        // Peers' verified co-signatures of this node's own checkpoints.
        await db.schema
          .createTable('cosignatures')
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('size', bigint, (c) => c.notNull())
          .addColumn('line', 'text', (c) => c.notNull())
          .addColumn('time', bigint, (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('cosignatures_pk', ['party', 'size'])
          .execute();
        await db.schema
          .createIndex('alarms_open')
          .on('alarms')
          .columns(['type', 'party', 'cleared_at'])
          .execute();
      },
    },
    '0003-people': {
      async up(db: Kysely<unknown>) {
        // Accounts. `name` is the login; a person's display name stays local.
        await db.schema
          .createTable('users')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('display_name', 'text')
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('password_changed_at', 'text', (c) => c.notNull())
          .addColumn('disabled_at', 'text')
          .addColumn('failed_logins', 'integer', (c) => c.notNull())
          .addColumn('locked_until', 'text')
          .execute();
        // Bearer tokens: the secret's SHA-256 only (tokens carry 256 random bits).
        await db.schema
          .createTable('tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text')
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('tokens_user').on('tokens').column('user_name').execute();
        // Console sessions: the cookie's SHA-256 is the key; the CSRF token's SHA-256 beside it.
        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('csrf_hash', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('idle_until', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_name').execute();
        await db.schema
          .createTable('desks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        // Who staffs a desk, and how to reach them there (JSON list of contact routes).
        await db.schema
          .createTable('desk_staff')
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('routes', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('desk_staff_pk', ['desk', 'user_name'])
          .execute();
        // Shifts of one desk never overlap (checked on insert), so "who is on duty" has one answer.
        await serial(db, 'shifts')
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('starts_at', 'text', (c) => c.notNull())
          .addColumn('ends_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('cancelled_at', 'text')
          .execute();
        await db.schema
          .createIndex('shifts_desk')
          .on('shifts')
          .columns(['desk', 'starts_at'])
          .execute();
        await serial(db, 'handovers')
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('from_user', 'text', (c) => c.notNull())
          .addColumn('to_user', 'text', (c) => c.notNull())
          .addColumn('items', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('confirmed_at', 'text')
          .execute();
        // The local audit trail. `id` is assigned as max + 1 in the inserting statement, so a
        // second process (an export beside a running node) can append too; the node then anchors
        // each entry's hash in an event leaf of its ledger (`hash`, `leaf_index`).
        await db.schema
          .createTable('audit')
          .addColumn('id', bigint, (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text')
          .addColumn('role', 'text')
          .addColumn('via', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('hash', 'text')
          .addColumn('leaf_index', bigint)
          .execute();
        await db.schema.alterTable('alarms').addColumn('cleared_by', 'text').execute();
        await db.schema.alterTable('alarms').addColumn('cleared_note', 'text').execute();
      },
    },
    '0004-language': {
      async up(db: Kysely<unknown>) {
        // Translations made on this side (by a person or a machine) of a message's free text:
        // local notes with their provenance, never part of any signed body, never sent.
        await db.schema
          .createTable('translations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('source_lang', 'text', (c) => c.notNull())
          .addColumn('lang', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('translator', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('translations_message')
          .on('translations')
          .columns(['party', 'message_id'])
          .execute();
      },
    },
    '0006-ledger': {
      // Stored hashes move from one row each to pages of LEDGER_PAGE_HASHES (64 × 32 bytes, one
      // database page): a batch of 256 leaves writes ~8 rows instead of ~512, and a proof still
      // reads O(log n) rows. Existing hashes are repacked in index order; a gap means a damaged
      // ledger, which is refused rather than papered over.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ledger_pages')
          .addColumn('page', bigint, (c) => c.primaryKey())
          .addColumn('hashes', bytes, (c) => c.notNull())
          .execute();
        const old = db as unknown as Kysely<{ ledger_hashes: { idx: number; hash: Uint8Array } }>;
        const pages = db as unknown as Kysely<{
          ledger_pages: { page: number; hashes: Uint8Array };
        }>;
        const rowsPerRead = LEDGER_PAGE_HASHES * 256;
        for (let from = 0; ; from += rowsPerRead) {
          const rows = await old
            .selectFrom('ledger_hashes')
            .select(['idx', 'hash'])
            .where('idx', '>=', from)
            .orderBy('idx')
            .limit(rowsPerRead)
            .execute();
          rows.forEach((row, k) => {
            if (Number(row.idx) !== from + k)
              throw new Error(`ledger hash ${from + k} is missing: the stored tree is damaged`);
          });
          const values = [];
          for (let k = 0; k < rows.length; k += LEDGER_PAGE_HASHES) {
            const chunk = rows.slice(k, k + LEDGER_PAGE_HASHES);
            const hashes = new Uint8Array(chunk.length * 32);
            for (const [i, row] of chunk.entries()) hashes.set(new Uint8Array(row.hash), i * 32);
            values.push({ page: (from + k) / LEDGER_PAGE_HASHES, hashes });
          }
          for (let k = 0; k < values.length; k += 100)
            await pages
              .insertInto('ledger_pages')
              .values(values.slice(k, k + 100))
              .execute();
          if (rows.length < rowsPerRead) break;
        }
        await db.schema.dropTable('ledger_hashes').execute();
      },
    },
    '0008-incidents': {
      // Follow-up of every message that needs a person's acknowledgement, one row per direction,
      // peer and message: `in`, a received message escalating through the duty roster until a
      // person acknowledges it; `out`, a message we sent, waiting for the peer's acknowledgement
      // until its deadline marks it unanswered. `next_at` (epoch ms) is the durable timer: null
      // when nothing is due any more. `escalations` records every notification fired.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('followups')
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('incident', 'text')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('precedence', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('desk', 'text')
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('deadline_at', 'text', (c) => c.notNull())
          .addColumn('step', 'integer', (c) => c.notNull())
          .addColumn('fired', 'integer', (c) => c.notNull())
          .addColumn('step_fired', 'integer', (c) => c.notNull())
          .addColumn('next_at', bigint)
          .addColumn('acked_at', 'text')
          .addColumn('acked_desk', 'text')
          .addColumn('acked_person', 'text')
          .addColumn('ack_id', 'text')
          .addColumn('answered_at', 'text')
          .addColumn('answer_id', 'text')
          .addColumn('unanswered_at', 'text')
          .addColumn('retracted_at', 'text')
          .addColumn('exhausted_at', 'text')
          .addColumn('reminders', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('followups_pk', ['dir', 'party', 'id'])
          .execute();
        await db.schema.createIndex('followups_due').on('followups').column('next_at').execute();
        await db.schema
          .createIndex('followups_incident')
          .on('followups')
          .column('incident')
          .execute();
        await serial(db, 'escalations')
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('step', 'integer', (c) => c.notNull())
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('user_name', 'text')
          .addColumn('channels', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('escalations_message')
          .on('escalations')
          .columns(['party', 'message_id'])
          .execute();
        // An alarm about one message (escalation, unanswered) names it, so an acknowledgement
        // can clear the alarms it answers.
        await db.schema.alterTable('alarms').addColumn('ref', 'text').execute();
      },
    },
    '0009-approvals': {
      // The approvals queue of the two-person rule (src/node/incidents/approvals.ts).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('drafts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('author', 'text', (c) => c.notNull())
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('recipients', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('template', 'text')
          .addColumn('rules', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('note', 'text')
          .addColumn('break_glass', 'text')
          .addColumn('message_id', 'text')
          .addColumn('seq', 'text')
          .execute();
        await db.schema
          .createIndex('drafts_state')
          .on('drafts')
          .columns(['state', 'created_at'])
          .execute();
      },
    },
    '0016-alarms': {
      // Alarms aggregated (src/node/core/alarms.ts): one open row per (type, party, cause) with a
      // count and when it was last seen; `category` keeps messages waiting for a person apart
      // from faults; `logged_at` is when the ledger last recorded it (repeats are rate limited).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('alarms').addColumn('cause', 'text').execute();
        await db.schema
          .alterTable('alarms')
          .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
          .execute();
        await db.schema.alterTable('alarms').addColumn('last_at', 'text').execute();
        await db.schema.alterTable('alarms').addColumn('logged_at', 'text').execute();
        await db.schema
          .alterTable('alarms')
          .addColumn('category', 'text', (c) => c.notNull().defaultTo('fault'))
          .execute();
        await sql`update alarms set last_at = at, logged_at = at`.execute(db);
        await sql`update alarms set category = 'waiting' where type in ('escalation', 'unacknowledged', 'unanswered')`.execute(
          db,
        );
        await db.schema
          .createIndex('alarms_category')
          .on('alarms')
          .columns(['category', 'cleared_at', 'id'])
          .execute();
      },
    },
    '0018-search': {
      // History and search (src/store/search.ts): one row per stored message with the fields an
      // operator filters by, and the full-text index of its texts, filled from what is stored.
      async up(db: Kysely<unknown>) {
        await serialOf(db, 'search', 'doc')
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('author', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('incident', 'text')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('precedence', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('category', 'text')
          .addColumn('tlp', 'text', (c) => c.notNull())
          .addColumn('desk', 'text', (c) => c.notNull())
          .addColumn('sent', 'text', (c) => c.notNull())
          .$call((t) => (dialect === 'postgres' ? t.addColumn('vector', sql`tsvector`) : t))
          .addUniqueConstraint('search_message', ['dir', 'party', 'id'])
          .execute();
        for (const [name, columns] of [
          ['search_id', ['id']],
          ['search_incident', ['incident']],
        ] as const)
          await db.schema
            .createIndex(name)
            .on('search')
            .columns([...columns])
            .execute();
        if (dialect === 'postgres')
          await sql`create index search_vector on search using gin (vector)`.execute(db);
        else
          await sql`create virtual table search_text using fts5(words, tokenize = 'unicode61 remove_diacritics 0')`.execute(
            db,
          );
        const typed = db as unknown as Kysely<Database>;
        const source = db as unknown as Kysely<{
          inbox: { party: string; id: string; body: string; envelope: string; leaf_index: number };
          outbox: { party: string; id: string; body: string; envelope: string; leaf_index: number };
        }>;
        for (const table of ['inbox', 'outbox'] as const)
          for (let offset = 0; ; offset += 1000) {
            const rows = await source
              .selectFrom(table)
              .select(['party', 'id', 'body', 'envelope'])
              .orderBy('leaf_index')
              .orderBy('party')
              .limit(1000)
              .offset(offset)
              .execute();
            if (!rows.length) break;
            const messages: Indexed[] = rows.map((r) => {
              const header = (JSON.parse(r.envelope) as Envelope).header;
              return {
                dir: table === 'inbox' ? 'in' : 'out',
                party: r.party,
                from: header.from,
                id: r.id,
                sent: header.sent,
                body: JSON.parse(r.body) as Body,
              };
            });
            await indexMessages(typed, dialect, messages);
          }
      },
    },
    '0011-rotations': {
      // Key rotations, ours (`out`) and peers' (`in`), and the received messages a compromise
      // rotation disputed: moved out of `inbox` (whose (party, seq) they held) into `disputed`,
      // kept whole with the rotation that disputed them; the ledger keeps their `in` leaves.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('rotations')
          .addColumn('dir', 'text', (c) => c.notNull())
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('serial', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('since', 'text')
          .addColumn('untrusted', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('rotations_pk', ['dir', 'party', 'id'])
          .execute();
        await db.schema
          .createTable('disputed')
          .addColumn('party', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('seq', bigint, (c) => c.notNull())
          .addColumn('header_hash', 'text', (c) => c.notNull())
          .addColumn('envelope', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('leaf_index', bigint, (c) => c.notNull())
          .addColumn('receipt_id', bigint, (c) => c.notNull())
          .addColumn('disputed_at', 'text', (c) => c.notNull())
          .addColumn('rotation', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('disputed_pk', ['party', 'header_hash'])
          .execute();
      },
    },
    '0017-second-factor': {
      // Second factors and recovery codes of accounts (src/node/people/factors.ts).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('second_factors')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('confirmed_at', 'text')
          .addColumn('last_used_at', 'text')
          .addColumn('totp_secret', 'text')
          .addColumn('totp_last_step', bigint)
          .addColumn('credential_id', 'text', (c) => c.unique())
          .addColumn('public_key', 'text')
          .addColumn('counter', bigint)
          .addColumn('rp_id', 'text')
          .addColumn('transports', 'text')
          .execute();
        await db.schema
          .createIndex('second_factors_user')
          .on('second_factors')
          .column('user_name')
          .execute();
        await db.schema
          .createTable('recovery_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .execute();
        await db.schema
          .createIndex('recovery_codes_user')
          .on('recovery_codes')
          .column('user_name')
          .execute();
      },
    },
    '0022-push': {
      // Web Push subscriptions of people (src/store/push.ts): one row per browser or phone.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('push_subscriptions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('endpoint', 'text', (c) => c.notNull().unique())
          .addColumn('p256dh', 'text', (c) => c.notNull())
          .addColumn('auth', 'text', (c) => c.notNull())
          .addColumn('lang', 'text', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_ok_at', 'text')
          .addColumn('last_error', 'text')
          .execute();
        await db.schema
          .createIndex('push_subscriptions_user')
          .on('push_subscriptions')
          .column('user_name')
          .execute();
      },
    },
    '0023-flows': {
      // Presence checks and conferences (Store.flowMessages) are found by the type of message.
      async up(db: Kysely<unknown>) {
        await db.schema.createIndex('search_type').on('search').columns(['type', 'doc']).execute();
      },
    },
    '0027-leases': {
      // The lease of the replicas of one party (src/node/core/leadership.ts): one row per lease,
      // its holder, a fencing token raised on every acquisition, and its expiry in ms since the
      // epoch by the database's clock. Read and written on PostgreSQL only; SQLite keeps it empty.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('token', bigint, (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0031-alarm-lookups': {
      // An alarm is raised once per (type, party, cause) while open, and a desk's escalation
      // alarms pile up by the thousand while messages wait to be acknowledged: the look-up before
      // each raise, and the alarms about one message, are read by index, not by scanning every
      // open alarm of the type (a receiver's time per message grew with the alarms it held).
      async up(db: Kysely<unknown>) {
        await db.schema.dropIndex('alarms_open').execute();
        await db.schema
          .createIndex('alarms_open')
          .on('alarms')
          .columns(['type', 'party', 'cleared_at', 'cause'])
          .execute();
        await db.schema
          .createIndex('alarms_ref')
          .on('alarms')
          .columns(['ref', 'cleared_at'])
          .execute();
      },
    },
    '0032-audit-unanchored': {
      // The audit entries not yet in the ledger, read every 5 s by the anchoring loop: by a
      // partial index of those alone, not by a scan of every entry ever written (which, on the
      // node's one SQLite connection, holds its event loop for the whole scan).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex('audit_unanchored')
          .on('audit')
          .column('id')
          .where(sql.ref('leaf_index'), 'is', null)
          .execute();
      },
    },
    '0033-outbox-backoff': {
      // Pending envelopes waiting out a backoff, which gap repair reads at every heartbeat: by a
      // partial index of those alone, not by a walk of every pending envelope of the peer (10,000
      // under load: 67 ms a heartbeat on the node's one SQLite connection, its event loop held).
      // Only a failed attempt puts an envelope in backoff, so `attempts > 0` holds for all of
      // them; it also keeps the index from the due queries, which `outbox_due` serves in order.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex('outbox_backoff')
          .on('outbox')
          .columns(['party', 'next_attempt_at'])
          .where((eb) =>
            eb.and([eb(sql.ref('status'), '=', 'pending'), eb(sql.ref('attempts'), '>', 0)]),
          )
          .execute();
      },
    },
    '0034-roster-version': {
      // A token of the roster's state, which the database changes on every write to the tables
      // "who is on duty" reads (desks, desk_staff, shifts, users), whoever writes them: a
      // replica, a CLI beside the node, a migration. Roster.onDuty keeps its answers per desk
      // while the token holds, so an escalation step costs one read, not five. A fresh random
      // value rather than a count: a transaction that changed the roster and rolled back may
      // have shown its uncommitted count, which the next change would then reuse.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('roster_version')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('version', bigint, (c) => c.notNull())
          .execute();
        await sql`insert into roster_version (id, version) values (1, 0)`.execute(db);
        const tables = ['desks', 'desk_staff', 'shifts', 'users'];
        if (dialect === 'postgres') {
          await sql`create function roster_changed() returns trigger language plpgsql as $$
            begin
              update roster_version set version = (random() * 9007199254740991)::bigint;
              return null;
            end $$`.execute(db);
          for (const table of tables)
            await sql`create trigger ${sql.raw(`${table}_roster_changed`)}
              after insert or update or delete on ${sql.table(table)}
              for each statement execute function roster_changed()`.execute(db);
          return;
        }
        for (const table of tables)
          for (const event of ['insert', 'update', 'delete'])
            await sql`create trigger ${sql.raw(`${table}_roster_${event}`)}
              after ${sql.raw(event)} on ${sql.table(table)}
              begin update roster_version set version = random(); end`.execute(db);
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
