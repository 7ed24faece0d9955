import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FaultProxy } from '../../../test/support/faultproxy.ts';
import { createPair, draft, eventually, type Pair, type Site } from '../../../test/support/pair.ts';
import { federationRequest, proxyTls, tlsOf } from '../../../test/support/tls.ts';
import { signHeartbeat } from '../../crypto/statements.ts';
import { signCheckpoint } from '../../ledger/checkpoint.ts';
import {
  cosignatureSigner,
  cosignatureVerifier,
  cosignCheckpoint,
} from '../../ledger/cosignature.ts';
import { eventLeaf } from '../../ledger/leaves.ts';
import { checkTree, storedHashIndex } from '../../ledger/merkle.ts';
import { ed25519NoteSigner, formatSignatureLine, openNote } from '../../ledger/note.ts';
import { openPeerCheckpoint } from '../../ledger/receipt.ts';
import { fromBase64url, fromHex, fromUtf8, toHex, utf8 } from '../../protocol/encoding.ts';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import { FORMAT_VERSION } from '../../protocol/version.ts';
import { LEDGER_PAGE_HASHES } from '../../store/migrations.ts';
import type { Store } from '../../store/store.ts';
import { readConfig, writeConfig } from '../core/config.ts';
import { openNodeStore, readNodeKeys, readOwnCard, readToken } from '../core/data.ts';
import { ACK_ALARMS } from '../incidents/escalation.ts';
import { Ledger } from './ledger.ts';

/**
 * Washington and Beijing witness each other's logs: each accepts the other's checkpoints only
 * with a consistency proof from the last one it accepted, co-signs them, and raises a durable
 * alarm when the other's log forks or a co-signature is forged.
 */
let pair: Pair;
beforeEach(async () => {
  pair = await createPair({ heartbeatMs: 200 });
});
afterEach(async () => {
  await pair.close();
});

function running(site: Site) {
  const node = site.running;
  if (!node) throw new Error(`${site.party} is not running`);
  return node;
}

/** Waits until `site` holds `peer`'s co-signature of its own latest checkpoint, and returns it. */
async function cosignedLatest(site: Site, peer: string) {
  return eventually(
    async () => {
      const store = running(site).store;
      const latest = await store.latestCheckpoint();
      const cosig = await store.latestCosignature(peer);
      return latest && cosig?.size === latest.size && latest.size === running(site).ledger.size
        ? { latest, cosig }
        : undefined;
    },
    10_000,
    `${site.party} co-signed by ${peer}`,
  );
}

/** Sends a message from `site` to `to` and waits for its verified receipt: both logs stop growing. */
async function exchange(site: Site, to: string, text = 'Link test.') {
  const node = running(site);
  const { id } = await node.node.release([to], draft({ text: { lang: 'en', body: text } }));
  await eventually(
    async () => ((await node.store.getOutbox(to, id))?.status === 'receipted' ? true : undefined),
    10_000,
    `a verified receipt for ${id}`,
  );
  return id;
}

/** Open alarms other than people asked to acknowledge a message. */
async function faultAlarms(node: { store: Store }) {
  return (await node.store.openAlarms()).filter((a) => !ACK_ALARMS.has(a.type));
}

async function alarm(site: Site, type: string) {
  return eventually(
    async () => (await running(site).store.openAlarms()).find((a) => a.type === type),
    10_000,
    `a ${type} alarm on ${site.party}`,
  );
}

/**
 * Starts both nodes, sends Beijing → Washington, and waits until each side holds the other's
 * co-signature: answers Beijing's latest checkpoint and Washington's record of witnessing it.
 */
async function witnessedExchange() {
  await pair.start(pair.us);
  await pair.start(pair.cn);
  await exchange(pair.cn, 'us');
  const { latest } = await cosignedLatest(pair.cn, 'us');
  const witnessedBefore = await running(pair.us).store.witnessed('cn');
  expect(witnessedBefore?.size).toBe(latest.size);
  return { latest, witnessedBefore };
}

/** Changes a stopped node's database behind its back. */
async function rewrite(site: Site, change: (store: Store) => Promise<void>) {
  const store = await openNodeStore(site.dir);
  await change(store);
  await store.close();
}

/** Replaces the stored hash at `index` (in its page of ledger_pages) with random bytes. */
async function overwriteStoredHash(store: Store, index: number) {
  const page = Math.floor(index / LEDGER_PAGE_HASHES);
  const row = await store.db
    .selectFrom('ledger_pages')
    .select('hashes')
    .where('page', '=', page)
    .executeTakeFirstOrThrow();
  const hashes = new Uint8Array(row.hashes);
  hashes.set(randomBytes(32), (index % LEDGER_PAGE_HASHES) * 32);
  await store.db.updateTable('ledger_pages').set({ hashes }).where('page', '=', page).execute();
}

/** Drops the stored hashes from `index` on, as if the log had never grown past them. */
async function truncateStoredHashes(store: Store, index: number) {
  const page = Math.floor(index / LEDGER_PAGE_HASHES);
  await store.db.deleteFrom('ledger_pages').where('page', '>', page).execute();
  const keep = (index % LEDGER_PAGE_HASHES) * 32;
  if (keep === 0) await store.db.deleteFrom('ledger_pages').where('page', '=', page).execute();
  else
    await store.db
      .updateTable('ledger_pages')
      .set((eb) => ({ hashes: eb.fn('substr', ['hashes', eb.lit(1), eb.lit(keep)]) }))
      .where('page', '=', page)
      .execute();
}

/** A heartbeat from Beijing to Washington, made and signed by hand with Beijing's keys. */
function heartbeatFromCn(fields: Partial<Heartbeat> & Pick<Heartbeat, 'checkpoint'>) {
  const keys = readNodeKeys(pair.cn.dir);
  const signer = keys.signer('signing');
  const usCard = readOwnCard(pair.us.dir).card;
  return signHeartbeat(
    {
      v: FORMAT_VERSION,
      from: 'cn',
      to: 'us',
      path: usCard.endpoints[0]?.id ?? 'direct',
      kid: signer.kid,
      sent: new Date().toISOString(),
      nonce: randomBytes(16).toString('base64url'),
      received: { contiguous: 0, ranges: [] },
      card: readOwnCard(pair.cn.dir).card.serial,
      ...fields,
    },
    signer.key,
  );
}

/** A checkpoint of `size` over a random root, validly signed with Beijing's log key. */
function forgedCheckpoint(size: number) {
  const logKey = readNodeKeys(pair.cn.dir).get('log');
  return fromUtf8(
    signCheckpoint(
      { origin: 'hotline/cn/log', size, root: randomBytes(32), extensions: [] },
      ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret),
    ),
  );
}

/** A request to `site`'s federation listener as its peer would make it: with the peer's certificate. */
function post(site: Site, path: string, body: unknown) {
  const peer = site.party === 'us' ? pair.cn : pair.us;
  return federationRequest(site.listen, path, tlsOf(peer.dir), body);
}

describe('mutual witnessing', () => {
  test('after an exchange and a few heartbeats, each node holds the other’s co-signature of its latest checkpoint', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    await Promise.all([exchange(pair.cn, 'us'), exchange(pair.us, 'cn')]);

    for (const [site, peer] of [
      [pair.us, pair.cn],
      [pair.cn, pair.us],
    ] as const) {
      const { latest, cosig } = await cosignedLatest(site, peer.party);
      // The co-signature is a C2SP cosignature/v1 line by the peer's witness key on our note.
      const witnessKey = readOwnCard(peer.dir).card.keys.find((k) => k.purpose === 'witness');
      const verifier = cosignatureVerifier(
        witnessKey?.name ?? '',
        fromBase64url(witnessKey?.pub ?? ''),
      );
      const text = latest.note.slice(0, latest.note.indexOf('\n\n') + 1);
      const opened = openNote(utf8(`${text}\n${cosig.line}`), [verifier]);
      expect(opened.verified.map((s) => s.name)).toEqual([`hotline/${peer.party}/witness`]);
      expect(cosig.time).toBeLessThanOrEqual(Date.now() / 1000);
      // And the peer accepted exactly that checkpoint.
      const witnessed = await running(peer).store.witnessed(site.party);
      expect(witnessed?.size).toBe(latest.size);
    }
    expect(await faultAlarms(us)).toEqual([]);
    expect(await faultAlarms(cn)).toEqual([]);

    // The operator sees it in the status.
    const response = await fetch(`${us.operatorUrl}/api/v1/status`, {
      headers: { authorization: `Bearer ${readToken(pair.us.dir)}` },
    });
    const status = (await response.json()) as {
      peers: {
        party: string;
        witness: { witnessed: { size: number }; cosigned: { size: number; time: string } };
      }[];
    };
    const peer = status.peers.find((p) => p.party === 'cn');
    expect(peer?.witness.cosigned.size).toBe((await us.store.latestCheckpoint())?.size);
    expect(Date.parse(peer?.witness.cosigned.time ?? '')).toBeGreaterThan(0);
    expect(peer?.witness.witnessed.size).toBe((await cn.store.latestCheckpoint())?.size);
  });

  test('a node whose stored ledger hash was changed is caught by its peer at the next heartbeat', async () => {
    const { latest, witnessedBefore } = await witnessedExchange();

    // Beijing's operator, node stopped, edits the hash of the largest complete subtree: every
    // root from now on differs from the one Washington witnessed.
    await pair.stop(pair.cn);
    const level = Math.floor(Math.log2(latest.size));
    await rewrite(pair.cn, (store) => overwriteStoredHash(store, storedHashIndex(level, 0)));
    const restarted = await pair.start(pair.cn);
    const started = Date.now();
    await restarted.node.release(['us'], draft({ text: { lang: 'en', body: 'after the edit' } }));

    const fork = await alarm(pair.us, 'fork');
    expect(fork.party).toBe('cn');
    // One heartbeat (200 ms here) after the new checkpoint; typically ~250 ms on loopback.
    expect(Date.now() - started).toBeLessThan(5000);
    // Nothing from the forked log was accepted.
    expect(await running(pair.us).store.witnessed('cn')).toEqual(witnessedBefore);
  });

  test('a node that truncated its log and appended other leaves is caught: same size, another root', async () => {
    await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    const { latest } = await cosignedLatest(pair.cn, 'us');
    const size = latest.size;

    await pair.stop(pair.cn);
    await rewrite(pair.cn, async (store) => {
      await store.db
        .deleteFrom('ledger_leaves')
        .where('idx', '>=', size - 1)
        .execute();
      await truncateStoredHashes(store, storedHashIndex(0, size - 1));
      await store.db.deleteFrom('checkpoints').where('size', '>=', size).execute();
      await store.setMeta('ledger_size', String(size - 1));
    });
    const restarted = await pair.start(pair.cn);
    // One new leaf brings the log back to the witnessed size, with a different last leaf.
    await restarted.node.release(['us'], draft({ text: { lang: 'en', body: 'rewritten' } }));

    const fork = await alarm(pair.us, 'fork');
    expect(fork.message).toContain(`size ${size}`);
    expect((await running(pair.us).store.witnessed('cn'))?.note).toBe(latest.note);
  });

  test('a forged co-signature raises an alarm and is not kept', async () => {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    const { cosig } = await cosignedLatest(pair.us, 'cn');
    const witnessed = await us.store.witnessed('cn');
    await pair.stop(pair.cn);

    // Signed with a witness key of the right name that is not Beijing's.
    const ours = await us.store.latestCheckpoint();
    const checkpoint = openPeerCheckpoint(readOwnCard(pair.us.dir).card, ours?.note ?? '');
    const forger = cosignatureSigner('hotline/cn/witness', randomBytes(32), () =>
      Math.floor(Date.now() / 1000),
    );
    const line = formatSignatureLine(cosignCheckpoint(checkpoint, forger));
    const answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({
        checkpoint: witnessed?.note ?? '',
        cosignature: { size: checkpoint.size, line },
      }),
    );
    expect(answer.status).toBe(200);

    const raised = await alarm(pair.us, 'bad-cosignature');
    expect(raised.party).toBe('cn');
    expect(await us.store.latestCosignature('cn')).toEqual(cosig);
  });

  test('a heartbeat with a bad consistency proof raises an alarm, and the accepted checkpoint stays', async () => {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    await cosignedLatest(pair.cn, 'us');
    const witnessed = await us.store.witnessed('cn');
    if (!witnessed) throw new Error('Washington has not witnessed Beijing');
    await pair.stop(pair.cn);

    // A larger checkpoint, validly signed by Beijing's log key, over some other tree.
    const logKey = readNodeKeys(pair.cn.dir).get('log');
    const m = witnessed.size;
    const forked = fromUtf8(
      signCheckpoint(
        { origin: 'hotline/cn/log', size: m + 1, root: randomBytes(32), extensions: [] },
        ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret),
      ),
    );
    const proof = [toHex(randomBytes(32))];

    // A proof from a size Washington never accepted is not taken: Washington asks Beijing for
    // one, which is down; one unanswered request is no evidence yet, so no alarm, nothing accepted.
    let answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: forked, consistency: { from: m - 1, proof } }),
    );
    expect(answer.status).toBe(200);
    expect(await faultAlarms(us)).toEqual([]);

    // From the accepted size, it is checked, and it does not verify.
    answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: forked, consistency: { from: m, proof } }),
    );
    expect(answer.status).toBe(200);
    const fork = await alarm(pair.us, 'fork');
    expect(fork.message).toContain(`size ${m + 1}`);
    expect(await us.store.witnessed('cn')).toEqual(witnessed);
    // The alarm is durable: in the log as an event leaf too.
    const leaves = await us.store.readLeaves(0, us.ledger.size);
    expect(leaves.some((l) => l.includes('"type":"fork"'))).toBe(true);
  });

  test('a heartbeat whose own proof does not verify, from a peer whose log does extend, is no fork: the proof is fetched', async () => {
    // Heartbeats only by hand here: a node's own rounds would carry Beijing's checkpoints first.
    await pair.close();
    pair = await createPair({ heartbeatMs: 600_000 });
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const grow = (n: number) =>
      cn.ledger.commit(async (_tx, log) => {
        const at = new Date().toISOString();
        await log.append(Array.from({ length: n }, (_, i) => eventLeaf('test', at, { i })));
        return log.checkpoint();
      });
    const first = await grow(2);
    let answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: first.note }),
    );
    expect(answer.status).toBe(200);
    expect((await us.store.witnessed('cn'))?.size).toBe(first.size);

    // Beijing's next checkpoint does extend it; the heartbeat pairs it with a proof of another.
    const next = await grow(3);
    const wrong = await cn.ledger.proveConsistency(first.size, first.size + 1);
    answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: next.note, consistency: { from: first.size, proof: wrong } }),
    );
    expect(answer.status).toBe(200);
    expect((await us.store.witnessed('cn'))?.size).toBe(next.size);
    expect(await faultAlarms(us)).toEqual([]);
  });

  test('a smaller signed checkpoint the witnessed log does not contain is a fork, not stale', async () => {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    await cosignedLatest(pair.cn, 'us');
    const witnessed = await us.store.witnessed('cn');
    if (!witnessed) throw new Error('Washington has not witnessed Beijing');
    // A reordered heartbeat carrying a real, smaller checkpoint of Beijing's is stale: no alarm.
    const earlier = (await running(pair.cn).store.listCheckpoints())
      .filter((c) => c.size > 0 && c.size < witnessed.size)
      .at(-1);
    if (!earlier) throw new Error('Beijing signed no smaller checkpoint');
    const stale = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: earlier.note }),
    );
    expect(stale.status).toBe(200);
    expect(await faultAlarms(us)).toEqual([]);
    // One of that size over another tree, validly signed: Beijing's real proof does not fit it.
    const answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: forgedCheckpoint(earlier.size) }),
    );
    expect(answer.status).toBe(200);
    const fork = await alarm(pair.us, 'fork');
    expect(fork.message).toContain(`size ${earlier.size}`);
    expect(fork.message).toContain('is not contained in');
    expect(await us.store.witnessed('cn')).toEqual(witnessed);
  });

  test('a stale checkpoint is no fork when the proof request is garbled on the way: only a log the peer states smaller is', async () => {
    // Washington reaches Beijing through a proxy that can garble what it forwards.
    const proxy = await FaultProxy.start({
      targetPort: Number(pair.cn.listen.split(':').pop()),
      seed: 1,
      tls: proxyTls(pair.cn.dir, pair.us.dir),
    });
    try {
      writeConfig(pair.us.dir, {
        ...readConfig(pair.us.dir),
        paths: { cn: [{ id: 'direct', kind: 'direct', url: proxy.url, priority: 0 }] },
      });
      const { witnessedBefore } = await witnessedExchange();
      const us = running(pair.us);
      const witnessed = witnessedBefore as NonNullable<typeof witnessedBefore>;
      const earlier = (await running(pair.cn).store.listCheckpoints())
        .filter((c) => c.size > 0 && c.size < witnessed.size)
        .at(-1);
      if (!earlier) throw new Error('Beijing signed no smaller checkpoint');
      const asked = `from=${earlier.size}&to=${witnessed.size}`;
      // The proof request reaches another route (a flipped byte in its path), then asks past the
      // log (a flipped digit): Beijing answers 404 to both, stating no size or a larger one.
      for (const garble of [
        (line: string) => line.replace('/consistency?', '/consistuncy?'),
        (line: string) => line.replace(`to=${witnessed.size}`, `to=${witnessed.size + 1000}`),
      ]) {
        const logged = pair.us.logs.length;
        proxy.rewriteLine = (line) => (line.includes(asked) ? garble(line) : line);
        const answer = await post(
          pair.us,
          '/federation/v1/heartbeat',
          heartbeatFromCn({ checkpoint: earlier.note }),
        );
        expect(answer.status).toBe(200);
        await eventually(async () =>
          pair.us.logs
            .slice(logged)
            .some((l) => l.includes('no consistency proof for a smaller checkpoint'))
            ? true
            : undefined,
        );
        expect((await faultAlarms(us)).map((a) => a.type)).toEqual([]);
      }
      expect(await us.store.witnessed('cn')).toEqual(witnessed);
    } finally {
      await proxy.close();
    }
  });

  test('a node that rewrote its log and leaves the consistency proof out of its heartbeats is caught: its witness asks for the proof', async () => {
    const { latest, witnessedBefore } = await witnessedExchange();

    // Beijing's operator edits the log, grows it by one leaf past the witnessed size, and drops
    // its checkpoints and the co-signatures it holds: its heartbeats now carry a larger
    // checkpoint and never a consistency proof (it knows of no size Washington co-signed).
    await pair.stop(pair.cn);
    const level = Math.floor(Math.log2(latest.size));
    await rewrite(pair.cn, async (store) => {
      await overwriteStoredHash(store, storedHashIndex(level, 0));
      const logKey = readNodeKeys(pair.cn.dir).get('log');
      const log = await Ledger.open(
        store,
        ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret),
      );
      await log.commit((_tx, ledger) =>
        ledger.append([{ leaf: 'event', type: 'note', at: new Date().toISOString(), detail: {} }]),
      );
      await store.db.deleteFrom('checkpoints').execute();
      await store.db.deleteFrom('cosignatures').execute();
    });
    await pair.start(pair.cn);

    const fork = await alarm(pair.us, 'fork');
    expect(fork.party).toBe('cn');
    expect(fork.message).toContain(`size ${latest.size + 1}`);
    expect(await running(pair.us).store.witnessed('cn')).toEqual(witnessedBefore);
  });

  test('a larger checkpoint whose peer answers without a proof raises bad-proof at once', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    await cosignedLatest(pair.cn, 'us');
    const witnessed = await us.store.witnessed('cn');
    if (!witnessed) throw new Error('Washington has not witnessed Beijing');
    cn.heartbeats.stop();

    // Signed by Beijing's log key, beyond Beijing's log: Beijing answers the proof request 404.
    const size = cn.ledger.size + 5;
    const answer = await post(
      pair.us,
      '/federation/v1/heartbeat',
      heartbeatFromCn({ checkpoint: forgedCheckpoint(size) }),
    );
    expect(answer.status).toBe(200);
    const raised = await alarm(pair.us, 'bad-proof');
    expect(raised.party).toBe('cn');
    expect(raised.message).toContain(`size ${size}`);
    expect(raised.message).toContain('HTTP 404');
    expect(await us.store.witnessed('cn')).toEqual(witnessed);
  });

  test('a larger checkpoint without a proof from an unreachable peer raises bad-proof at the third heartbeat', async () => {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    await cosignedLatest(pair.cn, 'us');
    const witnessed = await us.store.witnessed('cn');
    if (!witnessed) throw new Error('Washington has not witnessed Beijing');
    await pair.stop(pair.cn);

    const note = forgedCheckpoint(witnessed.size + 1);
    for (let beat = 1; beat <= 3; beat++) {
      expect(await us.store.hasOpenAlarm('bad-proof', 'cn')).toBe(false);
      const answer = await post(
        pair.us,
        '/federation/v1/heartbeat',
        heartbeatFromCn({ checkpoint: note }),
      );
      expect(answer.status).toBe(200);
    }
    const raised = await alarm(pair.us, 'bad-proof');
    expect(raised.message).toContain('3 heartbeats in a row');
    expect(await us.store.witnessed('cn')).toEqual(witnessed);

    // Beijing is back and its log grows: its next checkpoint comes with a proof that verifies,
    // so the unfetched proof was a fault of the link, cleared by the node and recorded so.
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    await eventually(
      async () => ((await us.store.hasOpenAlarm('bad-proof', 'cn')) ? undefined : true),
      10_000,
      'the bad-proof alarm to clear itself',
    );
    const cleared = await us.store.getAlarm(raised.id);
    expect(cleared).toMatchObject({ cleared_by: 'hotline', cause: 'unfetched' });
    expect(cleared?.cleared_note).toContain('proven and witnessed');
    expect((await us.store.witnessed('cn'))?.size).toBeGreaterThan(witnessed.size);
  });

  test('a receipt whose checkpoint does not extend the witnessed log is refused with a fork alarm', async () => {
    await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    const { latest } = await cosignedLatest(pair.us, 'cn');
    await eventually(
      async () => ((await cn.store.witnessed('us'))?.size === latest.size ? true : undefined),
      5000,
      'Beijing witnessing Washington',
    );

    // Washington's log is edited while it is down; heartbeats are silenced so that only the
    // receipt can tell Beijing.
    await pair.stop(pair.us);
    const level = Math.floor(Math.log2(latest.size));
    await rewrite(pair.us, (store) => overwriteStoredHash(store, storedHashIndex(level, 0)));
    cn.heartbeats.stop();
    const us = await pair.start(pair.us);
    us.heartbeats.stop();
    const { id } = await cn.node.release(
      ['us'],
      draft({ text: { lang: 'en', body: 'to the edited' } }),
    );

    const fork = await alarm(pair.cn, 'fork');
    expect(fork.party).toBe('us');
    // Retries bring the same answer: the message stays unreceipted.
    await new Promise((r) => setTimeout(r, 600));
    const row = await cn.store.getOutbox('us', id);
    expect(row?.status).toBe('pending');
    expect(row?.attempts).toBeGreaterThan(0);
    expect((await cn.store.witnessed('us'))?.size).toBe(latest.size);
  });
});

describe('a co-signature after a group-committed receipt', () => {
  test('leaves only once the receipt record that accepted its checkpoint is made durable', async () => {
    // No heartbeat during the test: the only sync is the one the co-signature asks for.
    for (const site of [pair.us, pair.cn])
      writeConfig(site.dir, { ...readConfig(site.dir), heartbeatMs: 600_000 });
    await pair.start(pair.cn);
    const us = await pair.start(pair.us);
    await exchange(pair.us, 'cn');
    // The record that accepted Beijing's checkpoint was group-committed: nothing synced it yet.
    expect(await us.store.getMeta('synced_at')).toBeUndefined();
    const outgoing = await us.witness.outgoing('cn', us.ledger.size);
    expect(outgoing.cosignature?.size).toBe(await us.witness.witnessedSize('cn'));
    expect(await us.store.getMeta('synced_at')).toBeDefined();
  });
});

describe('GET /federation/v1/proof/consistency', () => {
  test('proves that a later checkpoint extends an earlier one, and refuses impossible ranges', async () => {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await exchange(pair.cn, 'us');
    const first = await us.store.latestCheckpoint();
    await exchange(pair.cn, 'us');
    const second = await us.store.latestCheckpoint();
    if (!first || !second) throw new Error('Washington signed no checkpoint');
    const card = readOwnCard(pair.us.dir).card;
    const a = openPeerCheckpoint(card, first.note);
    const b = openPeerCheckpoint(card, second.note);
    const get = async (query: string) => {
      const answer = await federationRequest(
        pair.us.listen,
        `/federation/v1/proof/consistency?${query}`,
        tlsOf(pair.cn.dir),
      );
      return { status: answer.status, json: async () => answer.body };
    };

    const response = await get(`from=${a.size}&to=${b.size}`);
    expect(response.status).toBe(200);
    const { proof } = (await response.json()) as { proof: string[] };
    expect(checkTree(proof.map(fromHex), b.size, b.root, a.size, a.root)).toBe(true);

    expect((await get(`from=${b.size}&to=${a.size}`)).status).toBe(400);
    // Past the log: 404, stating the log's size (what a witness takes a smaller log from).
    const past = await get(`from=0&to=${us.ledger.size + 1}`);
    expect(past.status).toBe(404);
    expect(await past.json()).toMatchObject({
      error: { code: 'E_NOT_FOUND', size: us.ledger.size },
    });
    expect((await get('from=-1&to=2')).status).toBe(400);
    expect((await get('from=1')).status).toBe(400);
  });
});
