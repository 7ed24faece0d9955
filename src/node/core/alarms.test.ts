import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type OneNode, openNode } from '../../../test/support/node.ts';
import { draft } from '../../../test/support/pair.ts';
import { printStatus, type Status } from '../../cli/print.ts';
import { newSalt, sealMessageFor } from '../../crypto/envelope.ts';
import { openSenderEpoch } from '../../crypto/seal.ts';
import { parseLeaf } from '../../ledger/leaves.ts';
import type { Body } from '../../protocol/body.ts';
import { fromBase64url } from '../../protocol/encoding.ts';
import type { Envelope } from '../../protocol/envelope.ts';
import type { NodeStatus } from '../../protocol/views.ts';
import { Alarms, REPEAT_WINDOW_MS } from './alarms.ts';
import { readNodeKeys, readOwnCard, readToken } from './data.ts';

/**
 * Alarms a flood cannot multiply or bury: a peer's burst of equivocations is one alarm counted,
 * and messages awaiting a person, however many, are kept apart from faults such as a fork.
 */
let node: OneNode;
let token: string;
beforeEach(async () => {
  node = await openNode();
  token = readToken(node.dir);
});
afterEach(async () => {
  await node.close();
});

async function api<T>(method: 'GET' | 'POST', url: string) {
  const r = await node.operator.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: r.statusCode, body: r.json() as T };
}

/** Envelopes from Beijing to Washington, made by hand as Beijing's node would. */
async function envelopesFromCn(headers: Array<{ id: string; seq: number }>): Promise<Envelope[]> {
  const usCard = readOwnCard(node.dir).card;
  const cnKeys = readNodeKeys(join(node.dir, '..', 'cn'));
  const sealing = usCard.keys.find((k) => k.purpose === 'sealing' && k.alg === 'x25519');
  if (!sealing) throw new Error('no x25519 key');
  const epoch = await openSenderEpoch(
    'x25519',
    fromBase64url(sealing.pub),
    'cn',
    'us',
    randomBytes(16),
  );
  const signer = cnKeys.signer('signing');
  return headers.map(({ id, seq }) => {
    const body = { salt: newSalt(), ...draft() } as Body;
    const header = {
      kind: 'message' as const,
      id,
      from: 'cn',
      seq: { us: seq },
      sent: new Date(),
      kid: signer.kid,
    };
    return sealMessageFor(header, body, signer.key, { us: epoch }).envelopes.us as Envelope;
  });
}

async function postBatch(envelopes: Envelope[]) {
  const r = await node.federation.inject({
    method: 'POST',
    url: '/federation/v1/envelopes',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ envelopes }),
  });
  return r.json() as { receipts: unknown[]; rejected: Array<{ code: string }> };
}

async function eventLeaves(type: string) {
  const leaves = await node.store.db.selectFrom('ledger_leaves').select('leaf').execute();
  return leaves.map((l) => parseLeaf(l.leaf)).filter((l) => l.leaf === 'event' && l.type === type);
}

describe('alarms', () => {
  test('a batch of 256 equivocations from Beijing makes one alarm counted 256, one ledger leaf', async () => {
    const [first] = await envelopesFromCn([{ id: uuidv7(), seq: 1 }]);
    expect((await postBatch([first as Envelope])).receipts).toHaveLength(1);
    // 256 other messages, each claiming Beijing's seq 1 toward Washington: each is equivocation.
    const forged = await envelopesFromCn(
      Array.from({ length: 256 }, () => ({ id: uuidv7(), seq: 1 })),
    );
    const answer = await postBatch(forged);
    expect(answer.rejected.map((r) => r.code)).toEqual(Array(256).fill('E_EQUIVOCATION'));

    const open = (
      await api<Array<{ type: string; count: number; party: string }>>('GET', '/api/v1/alarms')
    ).body;
    expect(open.filter((a) => a.type === 'equivocation')).toEqual([
      expect.objectContaining({ type: 'equivocation', party: 'cn', count: 256, category: 'fault' }),
    ]);
    expect(await eventLeaves('equivocation')).toHaveLength(1);
    expect(await eventLeaves('alarm-repeated')).toHaveLength(0);
  }, 60_000);

  test('a fork stays first in the status, the alarm list and `hotline status` behind 5,000 messages awaiting a person', async () => {
    const fork = await node.alarms.raise('fork', 'cn', 'Beijing signed two roots for size 7');
    await node.store.transaction(async (tx) => {
      for (let i = 0; i < 5000; i++)
        await node.store.raiseAlarm(
          'escalation',
          'cn',
          `message ${i} waits for an acknowledgement`,
          tx,
          {
            ref: `cn/${i}`,
            category: 'waiting',
          },
        );
    });

    const status = (await api<NodeStatus>('GET', '/api/v1/status')).body;
    expect(status.counts).toEqual({ fault: 1, waiting: 5000 });
    expect(status.alarms.map((a) => a.id)).toEqual([fork.id]);
    expect(status.waiting).toHaveLength(100);
    expect(
      (await api<Array<{ id: number }>>('GET', '/api/v1/alarms')).body.map((a) => a.id),
    ).toEqual([fork.id]);

    const lines: string[] = [];
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void lines.push(line));
    try {
      printStatus(status as unknown as Status);
    } finally {
      log.mockRestore();
    }
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}ALARM \S+ fork \(cn\): Beijing signed two roots/),
    );
    expect(lines).toContain('  awaiting a person (5000; hotline ack / remind):');
    expect(lines).toContain('    … and 4900 more');
  }, 60_000);

  test('every open fault is listed, page by page, never cut at 100', async () => {
    for (let i = 0; i < 250; i++)
      await node.alarms.raise('bad-receipt', 'cn', `receipt ${i} failed`, { cause: `E_${i}` });
    const status = (await api<NodeStatus>('GET', '/api/v1/status')).body;
    expect(status.counts.fault).toBe(250);
    expect(status.alarms).toHaveLength(100);
    const seen = new Set<number>();
    let page = status.alarms;
    for (const a of page) seen.add(a.id);
    while (page.length) {
      const last = page[page.length - 1]?.id;
      page = (await api<Array<{ id: number }>>('GET', `/api/v1/alarms?before=${last}&limit=100`))
        .body as never;
      for (const a of page) seen.add(a.id);
    }
    expect(seen.size).toBe(250);
    const bad = await api<{ error: { code: string } }>('GET', '/api/v1/alarms?limit=0');
    expect(bad.body.error.code).toBe('E_MALFORMED');
  }, 60_000);

  test('a repeat is counted; the ledger and the live feed hear of it again only after the window', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z');
    const alarms = new Alarms({ ...node, clock: () => new Date(now) });
    const emitted: number[] = [];
    node.events.on('alarm', (a) => emitted.push(a.count));
    const raise = (message: string) =>
      alarms.raise('rejected-by-peer', 'cn', message, { cause: 'E_STALE' });
    await raise('"cn" rejected m1: E_STALE');
    for (let i = 0; i < 5; i++) await raise('"cn" rejected m1: E_STALE (a retry)');
    expect(emitted).toEqual([1]);
    now += REPEAT_WINDOW_MS;
    await raise('"cn" rejected m1: E_STALE (a later retry)');
    expect(emitted).toEqual([1, 7]);
    const [row] = await node.store.openAlarms();
    expect(row).toMatchObject({ count: 7, message: '"cn" rejected m1: E_STALE' });
    expect(await eventLeaves('rejected-by-peer')).toHaveLength(1);
    expect(await eventLeaves('alarm-repeated')).toEqual([
      expect.objectContaining({
        detail: { alarm: row?.id, type: 'rejected-by-peer', party: 'cn', count: 7 },
      }),
    ]);
    // Another cause is another alarm.
    await alarms.raise('rejected-by-peer', 'cn', '"cn" rejected m2: E_TOO_LARGE', {
      cause: 'E_TOO_LARGE',
    });
    expect((await node.store.openAlarms()).map((a) => a.cause)).toEqual(['E_TOO_LARGE', 'E_STALE']);
  });
  test('a log line about a peer says this node as party and the peer as peer, once each', async () => {
    const lines: string[] = [];
    const logger = pino({ base: { party: 'us' } }, { write: (line: string) => lines.push(line) });
    const alarms = new Alarms({ ...node, logger });
    const raised = await alarms.raise('rejected-by-peer', 'cn', '"cn" rejected m1: E_STALE');
    await alarms.clear(raised.id, 'operator', 'seen');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.match(/"party":/g)).toHaveLength(1);
      expect(JSON.parse(line)).toMatchObject({ party: 'us', peer: 'cn' });
    }
  });
});
