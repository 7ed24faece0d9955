import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import { EpochCache } from '../../src/crypto/epochs.ts';
import type { PrivateKey } from '../../src/crypto/keys.ts';
import { receiveEnvelope } from '../../src/crypto/receive.ts';
import type { SuiteName } from '../../src/crypto/seal.ts';
import { parseCheckpoint, signCheckpoint } from '../../src/ledger/checkpoint.ts';
import { ed25519NoteSigner, parseNote } from '../../src/ledger/note.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { readNodeKeys, readOwnCard, readToken } from '../../src/node/core/data.ts';
import { exportLedgerToFile } from '../../src/node/record/export.ts';
import type { KeyPurpose } from '../../src/protocol/card.ts';
import { fromUtf8, utf8 } from '../../src/protocol/encoding.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import type { NodeStatus } from '../../src/protocol/views.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { REPO } from './nodes.ts';

/**
 * Every online key rotated: Washington rotates its identity, signing, log, witness and sealing
 * keys while Beijing has a message for it in flight, sealed to the old sealing key. Beijing
 * switches to the new keys once it has verified the rotation; the message sealed to the old key
 * still opens; both sides keep exchanging; and both ledgers, exported, verify offline with
 * `hotline verify`, checkpoints before the rotation by the old log key and after by the new.
 */
let pair: Pair;

beforeAll(async () => {
  pair = await createPair();
});
afterAll(async () => {
  await pair.close();
});

const ONLINE: KeyPurpose[] = ['identity', 'signing', 'log', 'witness', 'sealing'];
const kidsOf = (site: 'us' | 'cn', purpose: KeyPurpose) =>
  readOwnCard(pair[site].dir)
    .card.keys.filter((k) => k.purpose === purpose)
    .map((k) => k.kid);

/** What `hotline status` shows: GET /api/v1/status with the admin's token. */
async function statusOf(site: 'us' | 'cn'): Promise<NodeStatus> {
  const response = await fetch(`http://${pair[site].operatorListen}/api/v1/status`, {
    headers: { authorization: `Bearer ${readToken(pair[site].dir)}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as NodeStatus;
}

async function delivered(site: 'us' | 'cn', id: string) {
  await eventually(
    async () => {
      const running = pair[site].running;
      if (!running) throw new Error(`${site} is not running`);
      return (await running.store.listInbox(100)).some((m) => m.id === id) ? true : undefined;
    },
    20_000,
    `message ${id} at ${site}`,
  );
}

describe('a rotation of every online key', () => {
  let queued: string;
  const before = new Map<KeyPurpose, string[]>();
  let oldLogKey: PrivateKey;

  test('leaves a message sealed to the old key openable', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const first = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Before.' } }));
    const reply = await cn.node.release(['us'], draft({ text: { lang: 'en', body: 'Seen.' } }));
    await delivered('cn', first.id);
    await delivered('us', reply.id);
    for (const purpose of ONLINE) before.set(purpose, kidsOf('us', purpose));
    oldLogKey = readNodeKeys(pair.us.dir).get('log');
    await pair.stop(pair.us);
    // Beijing seals this one to Washington's current sealing key; it waits in Beijing's outbox.
    queued = (await cn.node.release(['us'], draft({ text: { lang: 'en', body: 'Queued.' } }))).id;
    const result = await rotateDataDir(pair.us.dir, { reason: 'routine' });
    expect(result.signed.card.serial).toBe(2);
    for (const purpose of ONLINE) {
      const now = kidsOf('us', purpose);
      expect(now.some((kid) => before.get(purpose)?.includes(kid))).toBe(false);
    }
    expect(kidsOf('us', 'recovery')).toHaveLength(1);
    // The replaced sealing keys are kept aside, not erased: Beijing's queued message needs one.
    expect(readdirSync(join(pair.us.dir, 'keys')).filter((f) => f.startsWith('retired-'))).toEqual(
      before
        .get('sealing')
        ?.map((kid) => expect.stringContaining(kid))
        .sort(),
    );
    await pair.start(pair.us);
    await delivered('us', queued);
  }, 90_000);

  test('is applied by the peer, and both sides keep exchanging under the new keys', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('both nodes run');
    await eventually(
      async () => (cn.peers.pinned('us').card.serial === 2 ? true : undefined),
      20_000,
      'Beijing pinned serial 2',
    );
    const pinned = cn.peers.pinned('us').card;
    expect(pinned).toEqual(readOwnCard(pair.us.dir).card);
    const retired = cn.peers.pinned('us').retired.map((r) => r.key.purpose);
    expect(retired.sort()).toEqual(['identity', 'log', 'sealing', 'sealing', 'signing', 'witness']);
    const after = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'After.' } }));
    const answer = await cn.node.release(['us'], draft({ text: { lang: 'en', body: 'Also.' } }));
    await delivered('cn', after.id);
    await delivered('us', answer.id);
    for (const site of [us, cn]) {
      const peer = site === us ? 'cn' : 'us';
      await eventually(
        async () => ((await site.store.outboxStats(peer)).pending === 0 ? true : undefined),
        20_000,
        'an empty outbox',
      ).catch(async (e: Error) => {
        // Which message waits, and why: what a failure here needs to be understood.
        const waiting = await site.store.db
          .selectFrom('outbox')
          .select(['id', 'attempts', 'next_attempt_at', 'last_error'])
          .where('party', '=', peer)
          .where('status', '=', 'pending')
          .execute();
        const pair_ = site === us ? pair.us : pair.cn;
        const warnings = pair_.logs.filter((l) => /"level":(40|50|60)/.test(l)).slice(-15);
        throw new Error(
          `${e.message} at ${site.config.party}: ${JSON.stringify(waiting)}\n${warnings.join('')}`,
        );
      });
    }
    // No side took the new keys for an attack or a fault.
    for (const site of [us, cn])
      expect((await site.store.openAlarms()).map((a) => a.type)).toEqual([]);
  }, 60_000);

  test('and both exports verify offline with hotline verify', async () => {
    const files = { us: join(pair.root, 'us.jsonl'), cn: join(pair.root, 'cn.jsonl') };
    await exportLedgerToFile(pair.us.dir, files.us);
    await exportLedgerToFile(pair.cn.dir, files.cn);
    const cli = spawnSync(
      process.execPath,
      [
        join(REPO, 'bin', 'hotline.js'),
        'verify',
        files.us,
        '--peer-export',
        files.cn,
        '--json',
        '--threads',
        '0',
      ],
      { encoding: 'utf8', cwd: REPO },
    );
    const report = JSON.parse(cli.stdout) as {
      ok: boolean;
      bundles: Array<{ party: string; failures: unknown[]; counts: { cards: number } }>;
      views: { failures: unknown[]; matched: number };
    };
    expect(report.bundles.flatMap((b) => b.failures)).toEqual([]);
    expect(report.views.failures).toEqual([]);
    // Each bundle carries both of Washington's cards: the keys before the rotation and after.
    expect(report.bundles.map((b) => b.counts.cards)).toEqual([3, 3]);
    // Before, Seen, Queued, the rotation, After, Also: each logged alike on both sides.
    expect(report.views.matched).toBe(6);
    expect(report.ok).toBe(true);
    expect(cli.status).toBe(0);
  }, 60_000);

  test('where a checkpoint after the rotation signed by the old log key is refused', () => {
    const lines = readFileSync(join(pair.root, 'us.jsonl'), 'utf8').trimEnd().split('\n');
    const last = lines.findLastIndex((l) => l.includes('"type":"checkpoint"'));
    const record = JSON.parse(lines[last] as string) as { note: string };
    const checkpoint = parseCheckpoint(parseNote(utf8(record.note)).text);
    // A thief holding the replaced log key signs the newest tree head as if nothing had changed.
    const signer = ed25519NoteSigner(oldLogKey.entry.name ?? '', oldLogKey.secret);
    lines[last] = JSON.stringify({ ...record, note: fromUtf8(signCheckpoint(checkpoint, signer)) });
    const { report } = verifyBundle(lines);
    expect(report.failures).toMatchObject([
      { kind: 'checkpoint', message: expect.stringContaining('does not verify') },
      { kind: 'checkpoint', message: expect.stringContaining('not covered by any signed') },
    ]);
  });

  test('whose old sealing keys are destroyed once nothing sealed to them can arrive', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('both nodes run');
    const row = (await us.store.listInbox(100)).find((m) => m.id === queued);
    expect(row?.body.text?.body).toBe('Queued.');
    const sealedToOld = (await us.store.getInbox('cn', queued))?.envelope as Envelope;
    /** Opens the envelope as a receiver new to its epoch would, with the keys us holds now. */
    const opens = async () =>
      receiveEnvelope(sealedToOld, {
        me: 'us',
        peer: (party) => us.peers.get(party),
        sealingSecrets: (suite) => us.keys.sealingKeys(suite as SuiteName).map((k) => k.secret),
        epochs: new EpochCache(),
        seenId: () => undefined,
        seqOwner: () => undefined,
      });
    expect((await opens()).status).toBe('accepted');
    // Beijing took the rotation in, but nothing it sent since proves it sealed to the new key late
    // enough: the old keys are kept, and hotline status says why.
    expect(await us.sealingKeys.check()).toEqual([]);
    const held = await statusOf('us');
    expect(held.sealingKeys.map((k) => k.state)).toEqual(['held', 'held']);
    expect(held.sealingKeys[0]?.waiting[0]).toContain('no message from "cn" sent after');
    // A message Beijing released two minutes on (its clock) was sealed to the new key.
    const later = new Date(Date.now() + 120_000);
    const fresh = await cn.node.release(
      ['us'],
      draft({ text: { lang: 'en', body: 'Later.' } }),
      later,
    );
    await delivered('us', fresh.id);
    const destroyed = await us.sealingKeys.check();
    expect(destroyed.sort()).toEqual([...(before.get('sealing') ?? [])].sort());
    expect(readdirSync(join(pair.us.dir, 'keys')).filter((f) => f.startsWith('retired-'))).toEqual(
      [],
    );
    const shown = await statusOf('us');
    expect(shown.sealingKeys.map((k) => k.state)).toEqual(['destroyed', 'destroyed']);
    const leaves = await us.store.readLeaves(0, us.ledger.size);
    expect(leaves.filter((l) => l.includes('"type":"sealing-key-destroyed"'))).toHaveLength(2);
    // What was sealed to the old key no longer opens; what it carried was kept.
    expect(await opens()).toMatchObject({ status: 'rejected', code: 'E_BAD_SEAL' });
    expect((await us.store.listInbox(100)).find((m) => m.id === queued)?.body.text?.body).toBe(
      'Queued.',
    );
  }, 60_000);
});
