import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import type { NodeKeys } from '../../src/crypto/keys.ts';
import { compareViews, verifyBundle } from '../../src/ledger/verify.ts';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { readOwnCard, readToken } from '../../src/node/core/data.ts';
import type { MessageView, Rotations } from '../../src/protocol/views.ts';
import { loadVocabulary } from '../../src/protocol/vocabulary.ts';
import { createPair, draft, eventually, exportedLines, type Pair } from '../support/pair.ts';
import { forge as forgeAs, stealKeys } from '../support/thief.ts';
import { REPO } from './nodes.ts';

const PREVIOUS_VOCABULARY = fileURLToPath(
  new URL('../vectors/vocabulary/hotline-2026.2.json', import.meta.url),
);

/**
 * The stolen-key attack and its recovery. A thief holding a copy of Washington's key files forges
 * a message that takes Washington's next seq to Beijing; Washington's honest message with that
 * seq is refused as an equivocation. Washington's operator brings the recovery key back from
 * offline storage and runs a compromise rotation: Beijing re-pins Washington's new card, marks
 * the forgery disputed (kept, never deleted), and accepts the honest message under the new key;
 * the thief's keys are refused from then on; both nodes show what happened.
 */
let pair: Pair;
let stolen: NodeKeys;

beforeAll(async () => {
  pair = await createPair();
  await pair.start(pair.us);
  await pair.start(pair.cn);
  stolen = stealKeys(pair);
});
afterAll(async () => {
  await pair.close();
});

/** What the thief sends Beijing as Washington, signed with the stolen key. */
const forge = (seq: number, text: string, kind: 'message' | 'rotation' = 'message') =>
  forgeAs(pair, stolen, seq, text, kind);

/** What a console of `site` is shown: GET /api/v1/rotations with the admin's token. */
async function rotationsShown(site: 'us' | 'cn'): Promise<Rotations> {
  const response = await fetch(`http://${pair[site].operatorListen}/api/v1/rotations`, {
    headers: { authorization: `Bearer ${readToken(pair[site].dir)}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Rotations;
}

const inboxOf = async (site: 'us' | 'cn') => {
  const running = pair[site].running;
  if (!running) throw new Error(`${site} is not running`);
  return running.store.listInbox(100);
};

describe('a stolen signing key', () => {
  let first: string;
  let honest: string;
  let forged: string;

  test('lets a thief take the next seq, and the honest message is refused', async () => {
    const us = pair.us.running;
    if (!us) throw new Error('us is not running');
    first = (await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Before.' } }))).id;
    await eventually(
      async () => ((await inboxOf('cn')).some((m) => m.id === first) ? true : undefined),
      10_000,
      'the first message',
    );
    const forgery = await forge(2, 'Incident closed, stand down.');
    expect(forgery.answer.rejected).toEqual([]);
    expect(forgery.answer.receipts).toHaveLength(1);
    forged = forgery.id;
    honest = (await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Honest.' } }))).id;
    const refused = await eventually(async () =>
      (await us.store.openAlarms()).find((a) => a.type === 'rejected-by-peer'),
    );
    expect(refused.message).toContain(`rejected ${honest}: E_EQUIVOCATION`);
    expect(refused.message).toContain(`seq 2 from "us" already belongs to ${forged}`);
    // Beijing, taking the forgery for real, is escalating it to its desks.
    const cn = pair.cn.running;
    if (!cn) throw new Error('cn is not running');
    await eventually(async () => {
      const open = await cn.store.openAlarmsAbout(`us/${forged}`);
      return open.length ? open : undefined;
    });
  }, 30_000);

  test('is answered by a compromise rotation signed with the offline recovery key', async () => {
    await pair.stop(pair.us);
    const result = await rotateDataDir(pair.us.dir, {
      reason: 'compromise',
      recoveryKeyFile: join(pair.us.dir, 'keys', 'recovery-OFFLINE.key'),
    });
    expect(result.untrusted).toEqual({ cn: 2 });
    expect(result.resigned).toEqual([{ party: 'cn', id: honest, seq: 2 }]);
    expect(result.signed.card.serial).toBe(2);
    await pair.start(pair.us);
    const cn = pair.cn.running;
    if (!cn) throw new Error('cn is not running');
    // Beijing took the honest message under the new key, in the seq the forgery held.
    const inbox = await eventually(async () => {
      const rows = await inboxOf('cn');
      return rows.some((m) => m.id === honest) ? rows : undefined;
    }, 20_000);
    expect(inbox.find((m) => m.id === honest)?.seq).toBe(2);
    expect(inbox.some((m) => m.id === first)).toBe(true);
    expect(inbox.some((m) => m.id === forged)).toBe(false);
    // The forgery is kept, disputed, and an alarm says what happened.
    const disputed = await cn.rotations.listDisputed(10);
    expect(disputed.map((d) => [d.id, d.seq])).toEqual([[forged, 2]]);
    const alarm = (await cn.store.openAlarms()).find((a) => a.type === 'compromise');
    expect(alarm?.party).toBe('us');
    expect(alarm?.message).toContain(forged);
    // The forgery waits for nobody: the alarms asking for its acknowledgement are cleared.
    await eventually(
      async () => ((await cn.store.openAlarmsAbout(`us/${forged}`)).length ? undefined : true),
      10_000,
      'the forgery’s alarms cleared',
    );
    expect(cn.peers.pinned('us').card.serial).toBe(2);
    // Washington's outbox is clear: everything receipted under the new key.
    const us = pair.us.running;
    if (!us) throw new Error('us is not running');
    await eventually(
      async () => ((await us.store.outboxStats('cn')).pending === 0 ? true : undefined),
      20_000,
      'an empty outbox',
    );
    // Both consoles show what happened.
    const ours = await rotationsShown('us');
    expect(ours.rotations).toMatchObject([
      { dir: 'out', party: 'us', reason: 'compromise', serial: 2, untrusted: { cn: 2 } },
    ]);
    expect(ours.rotations[0]?.resigned).toEqual([{ party: 'cn', id: honest, seq: 2 }]);
    const theirs = await rotationsShown('cn');
    expect(theirs.rotations).toMatchObject([
      { dir: 'in', party: 'us', reason: 'compromise', serial: 2, untrusted: { cn: 2 } },
    ]);
    expect(theirs.rotations[0]?.disputed).toEqual([{ id: forged, seq: 2 }]);
    expect(theirs.disputed).toMatchObject([{ from: 'us', id: forged, seq: 2 }]);
    expect(theirs.disputed[0]?.body.text?.body).toBe('Incident closed, stand down.');
    // A link to the forgery opens it, marked disputed; the honest message is not.
    const viewOf = async (id: string) => {
      const response = await fetch(
        `http://${pair.cn.operatorListen}/api/v1/messages/us/${id}?lang=en`,
        { headers: { authorization: `Bearer ${readToken(pair.cn.dir)}` } },
      );
      expect(response.status).toBe(200);
      return (await response.json()) as MessageView;
    };
    const forgery = await viewOf(forged);
    expect(forgery.disputed?.rotation).toBe(theirs.rotations[0]?.id);
    expect(forgery.body.text?.body).toBe('Incident closed, stand down.');
    expect((await viewOf(honest)).disputed).toBeUndefined();
  }, 60_000);

  test('after which the stolen keys are refused and the channel works', async () => {
    const again = await forge(10, 'Forged again.');
    expect(again.answer.receipts).toEqual([]);
    expect(again.answer.rejected[0]?.code).toBe('E_UNKNOWN_KEY');
    const rotation = await forge(11, 'Forged rotation.', 'rotation');
    expect(rotation.answer.rejected[0]?.code).toBe('E_UNKNOWN_KEY');
    const us = pair.us.running;
    if (!us) throw new Error('us is not running');
    const after = (await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'After.' } })))
      .id;
    await eventually(
      async () => ((await inboxOf('cn')).some((m) => m.id === after) ? true : undefined),
      10_000,
      'a message after the rotation',
    );
  }, 30_000);

  test('and both ledgers verify offline, the forgery standing out as never sent', async () => {
    const results = [
      verifyBundle(await exportedLines(pair.us.dir)),
      verifyBundle(await exportedLines(pair.cn.dir)),
    ];
    for (const { report } of results) expect(report.failures).toEqual([]);
    const [us, cn] = results;
    if (!us?.view || !cn?.view) throw new Error('both bundles have a view');
    // Beijing logged the thief's message as received from Washington, which never sent it.
    const cross = compareViews(us.view, cn.view);
    expect(cross.failures.map((f) => [f.party, f.dir, f.id])).toEqual([['cn', 'in', forged]]);
  }, 60_000);
});

describe('a routine rotation', () => {
  let routine: Pair;

  beforeAll(async () => {
    // Washington starts on the previous vocabulary, as a site does before it upgrades.
    routine = await createPair({}, (party) =>
      party === 'us' ? { vocabularyFile: PREVIOUS_VOCABULARY } : {},
    );
  });
  afterAll(async () => {
    await routine.close();
  });

  test('by the CLI: a message signed before it still arrives, and the new key signs after', async () => {
    // Washington releases while Beijing is down, so the message is still queued at the rotation.
    const us = await routine.start(routine.us);
    const before = (
      await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Old key.' } }))
    ).id;
    await routine.stop(routine.us);
    // The site installs the shipped vocabulary, then rotates: the new card announces it.
    const { vocabularyFile: _previous, ...config } = readConfig(routine.us.dir);
    writeConfig(routine.us.dir, config);
    const cli = spawnSync(
      process.execPath,
      [join(REPO, 'bin', 'hotline.js'), 'rotate', '--data', routine.us.dir, '--json'],
      { encoding: 'utf8', cwd: REPO },
    );
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const printed = JSON.parse(cli.stdout) as { id: string; signed: { card: { serial: number } } };
    expect(printed.signed.card.serial).toBe(2);
    expect(cli.stdout).not.toContain('secret');
    const cn = await routine.start(routine.cn);
    const us2 = await routine.start(routine.us);
    const after = (
      await us2.node.release(['cn'], draft({ text: { lang: 'en', body: 'New key.' } }))
    ).id;
    const inbox = await eventually(async () => {
      const rows = await cn.store.listInbox(10);
      return rows.some((m) => m.id === after) ? rows : undefined;
    }, 20_000);
    const byId = new Map(inbox.map((m) => [m.id, m]));
    expect(byId.get(before)?.seq).toBe(1);
    expect(byId.get(printed.id)?.seq).toBe(2);
    expect(byId.get(after)?.seq).toBe(3);
    // Nothing is disputed, no alarm.
    const pinned = cn.peers.pinned('us');
    expect(pinned.card.serial).toBe(2);
    // Beijing pinned the new card, and with it Washington's new vocabulary: the mismatch is gone.
    expect(pinned.card.vocabulary).toEqual(loadVocabulary().ref);
    expect(cn.language.peer('us').same).toBe(true);
    const newSigning = readOwnCard(routine.us.dir).card.keys.find((k) => k.purpose === 'signing');
    // Every online key was replaced; each stays valid for seq 1 only.
    expect(pinned.retired.map((r) => r.untilSeq)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(pinned.retired.some((r) => r.key.kid === newSigning?.kid)).toBe(false);
    expect(await cn.rotations.listDisputed(10)).toEqual([]);
    expect((await cn.store.openAlarms()).filter((a) => a.type === 'compromise')).toEqual([]);
    expect((await cn.rotations.list()).map((r) => [r.dir, r.reason, r.serial])).toEqual([
      ['in', 'routine', 2],
    ]);
  }, 60_000);
});
