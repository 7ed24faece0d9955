/**
 * Replicas: Washington (us) runs three `hotline serve` processes over one PostgreSQL schema, each
 * an endpoint of its card; Beijing (cn) is one node on SQLite. Messages stream both ways while the
 * leader (the replica holding the lease) is SIGKILLed, and then the next leader is SIGSTOPped and,
 * once a third has taken over, resumed. Afterwards every message is in the peer's inbox exactly
 * once with contiguous seqs, no seq was given twice, the resumed former leader's writes were
 * refused by the database's fencing check, and both ledgers, exported, verify together.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';
import {
  BEIJING,
  draft,
  HotlineNode,
  HttpError,
  hotline,
  type InboxItem,
  killAll,
  type OutboxItem,
  removeUnlessKept,
  type Settings,
  type Status,
  sleep,
  until,
} from './nodes.ts';

const SCHEMA = `hotline_replicas_${randomBytes(4).toString('hex')}`;
/** Messages each way. */
const MESSAGES = 40;
const PATIENCE_MS = 90_000;

const SETTINGS: Settings = {
  heartbeatMs: 500,
  logLevel: 'info',
  outbox: { backoffBaseMs: 100, backoffMaxMs: 1000, sendTimeoutMs: 2000, failoverMs: 500 },
};

describe('three replicas of one party over PostgreSQL: SIGKILL and SIGSTOP of the leader', () => {
  let root: string;
  let cn: HotlineNode;
  const replicas: HotlineNode[] = [];
  const dead = new Set<HotlineNode>();
  const paused = new Set<HotlineNode>();
  const sent = { us: [] as string[], cn: [] as string[] };
  const takeovers: number[] = [];
  let formerLeader: HotlineNode;

  const serving = () => replicas.filter((r) => !dead.has(r) && !paused.has(r));

  /** The replica that leads now among those serving, once one does. */
  const leader = (timeoutMs = 20_000) =>
    until(
      'a replica to lead',
      async () => {
        for (const r of serving()) {
          const m = await r.replicaMetrics().catch(() => undefined);
          if (m?.leading) return r;
        }
        return undefined;
      },
      timeoutMs,
      100,
    );

  /**
   * Releases through a replica that serves and does not lead (so the test never waits on a
   * process about to be frozen). Should the chosen one be killed with the answer in flight,
   * the shared outbox, read through another replica, says whether it was released.
   */
  const releaseOnReplicas = async (text: string, precedence: 'flash' | 'routine') => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const lead = await leader().catch(() => undefined);
      const via = serving().find((r) => r !== lead) ?? (serving()[0] as HotlineNode);
      try {
        const { id } = await via.api<{ id: string }>('POST', '/api/v1/messages', {
          to: ['cn'],
          message: draft(text, precedence),
        });
        return id;
      } catch (e) {
        if (e instanceof HttpError && e.status < 500) throw e;
        await sleep(500);
        for (const r of serving()) {
          const outbox = await r
            .api<OutboxItem[]>('GET', '/api/v1/outbox?limit=1000')
            .catch(() => undefined);
          if (!outbox) continue;
          const found = outbox.find((o) => o.body.text?.body === text);
          if (found) return found.id;
          break;
        }
      }
    }
    throw new Error(`${text}: not released after 10 attempts`);
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-replicas-'));
    replicas.push(
      ...(await HotlineNode.replicas(root, 3, SETTINGS, { url: TEST_POSTGRES, schema: SCHEMA })),
    );
    const first = replicas[0] as HotlineNode;
    cn = await HotlineNode.init(root, BEIJING, SETTINGS);
    await first.pin(cn);
    await cn.pin(first);
    // One after the other, so the first is the first leader.
    for (const r of replicas) await r.start();
    await cn.start();
  }, 240_000);

  afterAll(async () => {
    for (const r of paused) r.resume();
    await killAll();
    await dropSchemas(SCHEMA);
    removeUnlessKept(root);
  });

  test(
    'a stream both ways survives the leader killed, then the next one frozen',
    async () => {
      const first = await leader();
      expect(first).toBe(replicas[0]);
      let stop = false;
      const usToCn = (async () => {
        for (let i = 0; i < MESSAGES; i++) {
          // Any replica serves operators: the release goes through one that serves and (so the
          // test never waits on a frozen process) is not about to be frozen.
          sent.us.push(await releaseOnReplicas(`us to cn ${i}`, i % 5 ? 'routine' : 'flash'));
          await sleep(150);
        }
      })();
      const cnToUs = (async () => {
        for (let i = 0; i < MESSAGES; i++) {
          const { id } = await cn.api<{ id: string }>('POST', '/api/v1/messages', {
            to: ['us'],
            message: draft(`cn to us ${i}`, i % 5 ? 'routine' : 'flash'),
          });
          sent.cn.push(id);
          await sleep(150);
        }
      })();
      const receiptedAt = async (id: string) => {
        for (const r of serving()) {
          const outbox = await r
            .api<OutboxItem[]>('GET', '/api/v1/outbox?limit=1000')
            .catch(() => undefined);
          const row = outbox?.find((o) => o.id === id);
          if (row) return row.status === 'receipted' ? true : undefined;
        }
        return undefined;
      };
      const chaos = (async () => {
        await until('a quarter of the stream', () => sent.us.length >= MESSAGES / 4, 60_000);
        // SIGKILL the leader mid-stream; time until a message released after the kill is
        // receipted by the peer.
        const killedAt = Date.now();
        await first.kill();
        dead.add(first);
        const second = await leader();
        const after = sent.us.length;
        await until('a message after the kill', () => sent.us.length > after, 30_000);
        await until('it receipted', () => receiptedAt(sent.us[after] as string), 30_000);
        takeovers.push(Date.now() - killedAt);
        await until('half of the stream', () => sent.us.length >= MESSAGES / 2, 60_000);
        // SIGSTOP the next leader; the third takes over; then the frozen one runs on.
        second.pause();
        paused.add(second);
        await leader();
        await sleep(1500);
        second.resume();
        paused.delete(second);
        formerLeader = second;
        stop = true;
      })();
      await Promise.all([usToCn, cnToUs, chaos]);
      expect(stop).toBe(true);
      console.info(`takeover after SIGKILL (kill → next message receipted): ${takeovers[0]} ms`);
    },
    PATIENCE_MS * 2,
  );

  test('the resumed former leader had its writes refused by the fencing check, and follows', async () => {
    const m = await until(
      'the former leader to be refused',
      async () => {
        const metrics = await formerLeader.replicaMetrics();
        return metrics.fenced > 0 ? metrics : undefined;
      },
      20_000,
    );
    expect(m.leading).toBe(false);
    const log = readFileSync(formerLeader.logFile, 'utf8');
    expect(log).toMatch(/"fenced":"(renewal|commit)"/);
    // A follower serves operators: a release through it is taken in.
    const { id } = await formerLeader.api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft('us to cn through the former leader', 'routine'),
    });
    sent.us.push(id);
  });

  test('every replica’s console feed shows a message, whichever replica stored it', async () => {
    const feeds = serving().map((r) => {
      const frames: Array<{ type?: string; ids?: string[] }> = [];
      const socket = new WebSocket(`${r.operatorUrl.replace('http', 'ws')}/api/v1/feed`, {
        headers: { authorization: `Bearer ${r.token}` },
      });
      socket.on('message', (data) => frames.push(JSON.parse(String(data))));
      return { socket, frames };
    });
    try {
      expect(feeds.length).toBe(2);
      await until(
        'every feed to open',
        () => feeds.every((f) => f.frames.some((x) => x.type === 'hello')),
        10_000,
      );
      const { id } = await cn.api<{ id: string }>('POST', '/api/v1/messages', {
        to: ['us'],
        message: draft('cn to us, on every console', 'flash'),
      });
      sent.cn.push(id);
      await until(
        'every replica’s feed to show it received',
        () =>
          feeds.every((f) => f.frames.some((x) => x.type === 'received' && x.ids?.includes(id))),
        20_000,
      );
    } finally {
      for (const f of feeds) f.socket.close();
    }
  });

  test(
    'every message is in the peer’s inbox exactly once, with contiguous seqs',
    async () => {
      const us = serving()[0] as HotlineNode;
      await until(
        'both outboxes to drain',
        async () => {
          const [a, b] = await Promise.all([
            us.api<Status>('GET', '/api/v1/status'),
            cn.api<Status>('GET', '/api/v1/status'),
          ]);
          return a.peers[0]?.outbox.pending === 0 && b.peers[0]?.outbox.pending === 0;
        },
        PATIENCE_MS,
        250,
      );
      for (const [to, from, ids] of [
        [cn, 'us', sent.us],
        [us, 'cn', sent.cn],
      ] as const) {
        const inbox = (await to.api<InboxItem[]>('GET', '/api/v1/inbox?limit=1000')).filter(
          (m) => m.from === from,
        );
        expect(inbox.map((m) => m.id).sort()).toEqual([...ids].sort());
        expect(inbox.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: ids.length }, (_, i) => i + 1),
        );
      }
      // No seq was given twice by the replicas: the outbox holds one row per seq.
      const outbox = await us.api<OutboxItem[]>('GET', '/api/v1/outbox?limit=1000');
      expect(outbox.map((o) => o.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: sent.us.length }, (_, i) => i + 1),
      );
      // Every replica counts what any of them received (the seqs each reports in heartbeats).
      for (const r of serving())
        await until(
          `${r.dir} to count every message received`,
          async () =>
            (await r.api<Status>('GET', '/api/v1/status')).peers[0]?.received === sent.cn.length,
          20_000,
        );
      for (const node of [us, cn]) {
        const { alarms } = await node.api<Status>('GET', '/api/v1/status');
        expect(alarms.filter((a) => a.type === 'equivocation' || a.type === 'fork')).toEqual([]);
      }
    },
    PATIENCE_MS + 10_000,
  );

  test('one ledger for the party: exported beside the peer’s, both verify', async () => {
    const us = serving()[0] as HotlineNode;
    // Stopped, so no heartbeat adds to a log while it is read.
    await Promise.all([...serving(), cn].map((n) => n.stop()));
    const files = [];
    for (const node of [us, cn]) {
      const out = join(root, `${node.party}.bundle.jsonl`);
      const result = await hotline(['export', '--data', node.dir, '--out', out], 120_000);
      expect(result.code, result.stderr).toBe(0);
      files.push(out);
    }
    const result = await hotline(
      ['verify', files[0] as string, '--peer-export', files[1] as string, '--json'],
      180_000,
    );
    expect(result.code, result.stdout.slice(0, 2000)).toBe(0);
    expect((JSON.parse(result.stdout) as { ok: boolean }).ok).toBe(true);
  }, 400_000);
});
