/**
 * The relay: a mailbox that carries sealed envelopes and signed receipts between two nodes that
 * cannot reach each other, and that can neither forge nor silently lose what it holds.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, describe, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair, type Site } from '../../test/support/pair.ts';
import { freePort } from '../../test/support/ports.ts';
import { tlsOf, tlsRequest } from '../../test/support/tls.ts';
import type { Ed25519SigningKey } from '../crypto/ed25519.ts';
import { relayAuthHeaders, signRelayRequest } from '../crypto/relay-auth.ts';
import { spkiPin } from '../crypto/tls.ts';
import { type Config, readConfig, writeConfig } from '../node/core/config.ts';
import { initDataDir, readNodeKeys, readOwnCard } from '../node/core/data.ts';
import { ACK_ALARMS } from '../node/incidents/escalation.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { type RunningRelay, startRelay } from './server.ts';

/** Headers signing a relay request as `party` (its node's signing key). */
let signedAs: (
  party: 'us' | 'cn',
  method: 'GET' | 'POST',
  url: string,
  body?: string,
) => Record<string, string>;
let usSigner: () => { kid: string; key: Ed25519SigningKey };

function configure(site: Site, extra: Partial<Config>): void {
  writeConfig(site.dir, { ...readConfig(site.dir), ...extra });
}

describe('the relay', () => {
  let pair: Pair;
  let relay: RunningRelay;

  afterEach(async () => {
    await pair?.close();
    await relay?.stop();
  });

  /**
   * Washington's direct path to Beijing is cut (its card's endpoint overridden by a dead port), so
   * only the relay carries; Beijing collects its mail there.
   */
  async function relayOnly(
    limits = { maxBytes: 64 * 1024 * 1024, maxItemsPerBox: 10_000 },
    /** Washington deposits nothing itself: the test plays the relay by hand. */
    senderCut = false,
  ) {
    pair = await createPair({ relayPollMs: 100 });
    relay = await startRelay(
      {
        data: join(pair.root, 'relay'),
        limits,
        cards: [readOwnCard(pair.us.dir).card, readOwnCard(pair.cn.dir).card],
        logger: pino({ level: 'silent' }),
      },
      '127.0.0.1:0',
    );
    configure(pair.us, {
      paths: {
        cn: [
          { id: 'direct', kind: 'direct', url: 'http://127.0.0.1:9', priority: 0 },
          senderCut
            ? { id: 'relay-geneva', kind: 'relay', url: 'http://127.0.0.1:9', priority: 50 }
            : { id: 'relay-geneva', kind: 'relay', url: relay.url, priority: 50, pin: relay.pin },
        ],
      },
    });
    configure(pair.cn, { relays: [{ url: relay.url, pin: relay.pin }] });
    const sites = { us: pair.us, cn: pair.cn };
    signedAs = (party, method, url, body) =>
      relayAuthHeaders(party, readNodeKeys(sites[party].dir).signer('signing'), method, url, body);
    usSigner = () => readNodeKeys(pair.us.dir).signer('signing');
  }

  test('carries messages one way and their receipts back, then holds nothing', async () => {
    await relayOnly();
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await us.node.release(['cn'], draft())).id);
    await eventually(
      async () => {
        const rows = await Promise.all(ids.map((id) => us.store.getOutbox('cn', id)));
        return rows.every((r) => r?.status === 'receipted') || undefined;
      },
      20_000,
      'receipts through the relay',
    );
    expect((await cn.store.listInbox(10)).map((r) => r.id).sort()).toEqual([...ids].sort());
    await eventually(async () => (relay.boxes.boxes().cn === undefined ? true : undefined), 10_000);
    expect(relay.boxes.stored.envelope).toBeGreaterThanOrEqual(5);
    expect(relay.boxes.stored.answer).toBeGreaterThanOrEqual(1);
    // Beijing's people are asked to acknowledge what arrived; nothing else is alarmed.
    expect((await cn.store.openAlarms()).filter((a) => !ACK_ALARMS.has(a.type))).toEqual([]);
  });

  test('cannot forge: an envelope it altered is refused by the receiver and stored nowhere', async () => {
    await relayOnly(undefined, true);
    const us = await pair.start(pair.us);
    const { id } = await us.node.release(
      ['cn'],
      draft({ text: { lang: 'en', body: 'Stand by.' } }),
    );
    const envelope = (await us.store.getOutbox('cn', id))?.envelope as Envelope;
    await pair.stop(pair.us);
    // The relay rewrites the claimed send time and files it under a fresh id first.
    const forged = structuredClone(envelope);
    forged.header.sent = '2020-01-01T00:00:00.000Z';
    relay.boxes.deposit('cn', [
      { kind: 'envelope', from: 'us', key: 'forged', data: JSON.stringify(forged) },
    ]);
    const cn = await pair.start(pair.cn);
    await eventually(async () => (relay.boxes.boxes().cn === undefined ? true : undefined), 10_000);
    expect(await cn.store.listInbox(10)).toEqual([]);
    const metrics = await cn.metrics.registry.metrics();
    expect(metrics).toMatch(/hotline_rejections_total\{[^}]*code="E_BAD_SIGNATURE"[^}]*\} 1/);
    // The genuine envelope, deposited later, goes through.
    relay.boxes.deposit('cn', [
      { kind: 'envelope', from: 'us', key: id, data: JSON.stringify(envelope) },
    ]);
    await eventually(async () => ((await cn.store.listInbox(10)).length === 1 ? true : undefined));
  });

  test('forged answers claiming to be from Beijing are dropped and counted: no alarm, no leaf', async () => {
    await relayOnly();
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    const { id } = await us.node.release(['cn'], draft());
    await eventually(
      async () => ((await us.store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined),
      20_000,
      'a receipt through the relay',
    );
    await pair.stop(pair.cn);
    // A genuine receipt of Beijing's, copied 50 times with random signatures, as a stranger would
    // leave it in Washington's box; and a pending message it could claim to settle.
    const row = await us.store.db
      .selectFrom('receipts')
      .select('receipt')
      .where('dir', '=', 'in')
      .executeTakeFirstOrThrow();
    const genuine = JSON.parse(row.receipt) as { receipt: unknown; sig: string };
    await us.node.release(['cn'], draft());
    const sizeBefore = us.ledger.size;
    const forged = Array.from({ length: 50 }, () => ({
      ...genuine,
      sig: randomBytes(64).toString('base64url'),
    }));
    const data = JSON.stringify({ result: { receipts: forged, rejected: [] }, proofs: [] });
    relay.boxes.deposit('us', [{ kind: 'answer', from: 'cn', key: 'forged', data }]);
    await eventually(async () => (relay.boxes.boxes().us === undefined ? true : undefined), 10_000);
    const blamed = (await us.store.openAlarms()).filter((a) => a.type === 'bad-receipt');
    expect(blamed).toEqual([]);
    const leaves = await us.store.db
      .selectFrom('ledger_leaves')
      .select('leaf')
      .where('idx', '>=', sizeBefore)
      .execute();
    expect(leaves.filter((l) => /"bad-receipt"|"leaf":"receipt"/.test(l.leaf))).toEqual([]);
    expect(await us.metrics.registry.metrics()).toMatch(
      /hotline_relay_dropped_total\{[^}]*reason="unsigned"[^}]*\} 50/,
    );
  });

  test('a reordered, duplicated delivery is stored once, in every seq', async () => {
    await relayOnly(undefined, true);
    const us = await pair.start(pair.us);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await us.node.release(['cn'], draft())).id);
    const envelopes = await Promise.all(
      ids.map(async (id) => (await us.store.getOutbox('cn', id))?.text as string),
    );
    await pair.stop(pair.us);
    // Newest first, and each twice (a relay cannot dedupe what it files under other keys).
    const reversed = [...envelopes].reverse();
    relay.boxes.deposit(
      'cn',
      [...reversed, ...reversed].map((data, i) => ({
        kind: 'envelope' as const,
        from: 'us',
        key: `copy-${i}`,
        data,
      })),
    );
    const cn = await pair.start(pair.cn);
    await eventually(async () => ((await cn.store.listInbox(10)).length === 4 ? true : undefined));
    await eventually(async () => (relay.boxes.boxes().cn === undefined ? true : undefined), 10_000);
    const inbox = await cn.store.listInbox(10);
    expect(inbox.map((r) => r.seq).sort()).toEqual([1, 2, 3, 4]);
    expect(cn.peers.received('us').contiguous).toBe(4);
  });

  test('when full it refuses deposits with E_RELAY_FULL; the sender keeps the messages and alarms once', async () => {
    await relayOnly({ maxBytes: 64 * 1024 * 1024, maxItemsPerBox: 2 });
    const us = await pair.start(pair.us);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await us.node.release(['cn'], draft())).id);
    const url = `${relay.url}/relay/v1/boxes/cn/envelopes`;
    const body = JSON.stringify({
      envelopes: await Promise.all(
        ids.map(async (id) => (await us.store.getOutbox('cn', id))?.envelope),
      ),
    });
    const answer = await tlsRequest(url, tlsOf(pair.us.dir), {
      body,
      headers: signedAs('us', 'POST', url, body),
    });
    expect(answer.status).toBe(507);
    const { error } = answer.body as { error: { code: string; message: string } };
    expect(error.code).toBe('E_RELAY_FULL');
    expect(error.message).toMatch(/limit is 2/);
    const row = await eventually(async () => {
      const r = await us.store.getOutbox('cn', ids[2] as string);
      return r?.last_error?.includes('E_RELAY_FULL') || r?.last_error?.includes('507')
        ? r
        : undefined;
    });
    expect(row.status).toBe('pending');
    // Every retry is refused again: one alarm, counted, recorded once in the ledger.
    const alarm = await eventually(
      async () => {
        const open = (await us.store.openAlarms()).filter((a) => a.type === 'relay-refused');
        return open.length === 1 && (open[0]?.count ?? 0) >= 3 ? open[0] : undefined;
      },
      20_000,
      'retries refused by the relay',
    );
    expect(alarm).toMatchObject({ party: 'cn', cause: 'relay-geneva E_RELAY_FULL' });
    const leaves = await us.store.db.selectFrom('ledger_leaves').select('leaf').execute();
    expect(leaves.filter((l) => l.leaf.includes('"type":"relay-refused"'))).toHaveLength(1);
  }, 60_000);

  test('strangers can neither fill nor empty a box: every request is signed by a party it serves', async () => {
    await relayOnly();
    // Over a connection with Washington's certificate: what the signatures alone guard.
    const us = tlsOf(pair.us.dir);
    const envelope = (from: string, to: string) => ({ header: { id: uuidv7(), from, to: [to] } });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      tlsRequest(`${relay.url}${path}`, us, { body: JSON.stringify(body), headers });
    const refused = (answer: { status: number; body: unknown }, status: number, code: string) => {
      expect(answer.status).toBe(status);
      expect((answer.body as { error: { code: string } }).error.code).toBe(code);
    };
    const box = `${relay.url}/relay/v1/boxes/cn/envelopes`;
    // Unsigned; signed by a key not on Washington's card; by a party it does not serve (which
    // Washington's certificate cannot speak for either).
    const deposit = { envelopes: [envelope('us', 'cn')] };
    await refused(await post('/relay/v1/boxes/cn/envelopes', deposit), 401, 'E_UNAUTHORIZED');
    const text = JSON.stringify(deposit);
    const stranger = {
      kid: randomBytes(16).toString('hex'),
      key: generateKeyPairSync('ed25519').privateKey,
    };
    for (const [party, status, code] of [
      ['us', 401, 'E_BAD_SIGNATURE'],
      ['fr', 403, 'E_TLS_PEER'],
    ] as const)
      await refused(
        await post(
          '/relay/v1/boxes/cn/envelopes',
          deposit,
          relayAuthHeaders(party, stranger, 'POST', box, text),
        ),
        status,
        code,
      );
    // Washington cannot leave envelopes claiming to be Beijing's, nor a box for a stranger.
    const asCn = { envelopes: [envelope('cn', 'us')] };
    await refused(
      await post(
        '/relay/v1/boxes/us/envelopes',
        asCn,
        signedAs('us', 'POST', `${relay.url}/relay/v1/boxes/us/envelopes`, JSON.stringify(asCn)),
      ),
      403,
      'E_FORBIDDEN',
    );
    const forFr = { envelopes: [envelope('us', 'fr')] };
    await refused(
      await post(
        '/relay/v1/boxes/fr/envelopes',
        forFr,
        signedAs('us', 'POST', `${relay.url}/relay/v1/boxes/fr/envelopes`, JSON.stringify(forFr)),
      ),
      403,
      'E_UNKNOWN_PARTY',
    );
    // Nor collect or acknowledge Beijing's box.
    const collect = `${relay.url}/relay/v1/boxes/cn?after=0&limit=256`;
    await refused(
      await tlsRequest(collect, us, { headers: signedAs('us', 'GET', collect) }),
      403,
      'E_FORBIDDEN',
    );
    await refused(await tlsRequest(collect, us), 401, 'E_UNAUTHORIZED');
    expect(relay.boxes.bytes).toBe(0);

    // Signed by Washington now: taken once; the same request again is a replay.
    const headers = signedAs('us', 'POST', box, text);
    expect((await post('/relay/v1/boxes/cn/envelopes', deposit, headers)).status).toBe(200);
    await refused(
      await post('/relay/v1/boxes/cn/envelopes', deposit, headers),
      401,
      'E_UNAUTHORIZED',
    );
    // Signed an hour ago, or for another body: refused.
    const old = {
      'hotline-relay-auth': signRelayRequest(
        'us',
        usSigner(),
        'POST',
        '/relay/v1/boxes/cn/envelopes',
        text,
        Date.now() - 3_600_000,
      ),
    };
    await refused(await post('/relay/v1/boxes/cn/envelopes', deposit, old), 401, 'E_UNAUTHORIZED');
    const other = { envelopes: [envelope('us', 'cn')] };
    await refused(
      await post('/relay/v1/boxes/cn/envelopes', other, signedAs('us', 'POST', box, text)),
      401,
      'E_BAD_SIGNATURE',
    );
    expect(relay.boxes.boxes()).toEqual({ cn: 1 });
    const misaddressed = { envelopes: [envelope('us', 'us')] };
    const wrong = await post(
      '/relay/v1/boxes/cn/envelopes',
      misaddressed,
      signedAs('us', 'POST', box, JSON.stringify(misaddressed)),
    );
    expect(wrong.status).toBe(421);
    const malformed = await post('/relay/v1/boxes/cn/envelopes', { envelopes: [] });
    expect(malformed.status).toBe(400);
  });

  test('`hotline relay` makes its TLS key at first start, prints its pin, serves its parties over pinned TLS, and refuses a key others may read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-relay-'));
    const listen = `127.0.0.1:${await freePort()}`;
    const usDir = join(dir, 'us');
    const card = await initDataDir(usDir, {
      party: 'us',
      names: { en: 'Washington' },
      endpoints: ['https://127.0.0.1:9'],
    });
    const cardFile = join(dir, 'us.card.json');
    writeFileSync(cardFile, JSON.stringify(card));
    const data = join(dir, 'relay');
    const keyFile = join(data, 'keys', 'tls.key');
    const relay = () =>
      spawn(
        process.execPath,
        ['bin/hotline.js', 'relay', '--listen', listen, '--data', data, '--max-items', '5'].concat([
          '--card',
          cardFile,
        ]),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    const child = relay();
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    try {
      // The pin and the line to give parties are two writes: wait for the last of them.
      const printed = await eventually(
        async () =>
          /#spki=[0-9a-f]{64}\n/.test(out)
            ? /pin \(SPKI SHA-256\): ([0-9a-f]{64})/.exec(out)?.[1]
            : undefined,
        45_000,
        'the relay to print its pin',
      );
      expect(printed).toBe(spkiPin(readFileSync(join(data, 'keys', 'tls.crt'), 'utf8')));
      expect(out).toContain(`--relay https://${listen}#spki=${printed}`);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const health = await eventually(() =>
        tlsRequest(`https://${listen}/relay/v1/health`, tlsOf(usDir)).catch(() => undefined),
      );
      expect(health).toMatchObject({
        status: 200,
        body: { relay: 'hotline', maxItemsPerBox: 5, bytes: 0 },
      });
      const anonymous = await tlsRequest(`https://${listen}/relay/v1/health`, undefined).then(
        () => 'answered',
        () => 'refused',
      );
      expect(anonymous).toBe('refused');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    try {
      // A key file its group may read is refused, with the node's code and the remedy.
      chmodSync(keyFile, 0o640);
      const again = relay();
      let err = '';
      again.stderr.on('data', (chunk) => {
        err += chunk;
      });
      const code = await new Promise((resolve) => again.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(err).toMatch(/E_KEY_FILE_EXPOSED.*chmod 600/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
