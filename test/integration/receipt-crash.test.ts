/**
 * The sender's record of a receipt is group-committed: it waits for no fsync of its own, so a
 * crash may lose it (docs/architecture.md § What is durable before something leaves the node).
 * What such a loss leaves — Beijing has stored the message and sent its receipt, Washington still
 * holds the message as pending with no receipt — is made here by a proxy that lets Beijing answer
 * and then kills Washington with SIGKILL before the answer reaches it. Served again, Washington
 * resends, and Beijing answers with the very receipt it signed the first time: one copy at
 * Beijing, the same signed receipt on both sides. A record that was group-committed survives a
 * SIGKILL after it (the process dies, the written WAL does not).
 */

import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spkiPin } from '../../src/crypto/tls.ts';
import type { ProxyTls } from '../support/faultproxy.ts';
import { freePort } from '../support/ports.ts';
import { proxyTls } from '../support/tls.ts';
import {
  BEIJING,
  draft,
  HotlineNode,
  killAll,
  type OutboxItem,
  receiptsInFile,
  removeUnlessKept,
  type Status,
  until,
  WASHINGTON,
} from './nodes.ts';

/**
 * Beijing's envelopes listener behind a proxy that can kill the sender once Beijing answered. It
 * stands in the middle of pinned mutual TLS as the fault proxy does (test/support/faultproxy.ts):
 * it serves Beijing's own certificate and calls Beijing with Washington's.
 */
class CuttingProxy {
  /** Batch posts forwarded, with their bodies. */
  readonly posts: string[] = [];
  /** Set: the next batch post is answered by Beijing, then the sender is killed, unanswered. */
  cutNext: (() => Promise<void>) | undefined;
  /** Settles once a cut has been made. */
  cut: Promise<void>;
  #cutDone = () => {};
  readonly #server: Server;

  constructor(
    readonly port: number,
    target: number,
    tls: ProxyTls,
  ) {
    this.cut = new Promise((resolve) => {
      this.#cutDone = resolve;
    });
    const [client] = tls.clients;
    if (!client) throw new Error('the proxy needs the identity of the node that calls it');
    const options = {
      key: tls.target.key,
      cert: tls.target.cert,
      requestCert: true,
      // The caller's certificate is matched against the one identity it may have, not CAs.
      rejectUnauthorized: false,
    };
    this.#server = createServer(options, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isBatch = req.method === 'POST' && req.url?.startsWith('/federation/v1/envelopes');
        if (isBatch) this.posts.push(body.toString('utf8'));
        const upstream = request(
          {
            host: '127.0.0.1',
            port: target,
            method: req.method,
            path: req.url,
            headers: req.headers,
            key: client.key,
            cert: client.cert,
            rejectUnauthorized: false,
          },
          (answer) => {
            const back: Buffer[] = [];
            answer.on('data', (c: Buffer) => back.push(c));
            answer.on('end', async () => {
              const cut = isBatch ? this.cutNext : undefined;
              if (cut) {
                this.cutNext = undefined;
                // Beijing has committed and answered: the sender dies before it hears of it.
                await cut();
                res.destroy();
                this.#cutDone();
                return;
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(back));
            });
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(body);
      });
    });
    this.#server.on('secureConnection', (socket: TLSSocket) => {
      const raw = socket.getPeerCertificate()?.raw;
      if (!raw || spkiPin(raw) !== client.pin) socket.destroy();
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('a receipt record lost in a crash is had again by resending', () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  let proxy: CuttingProxy;
  let id: string;

  const outboxRow = async (node: HotlineNode, messageId: string) =>
    (await node.api<OutboxItem[]>('GET', '/api/v1/outbox?limit=1000')).find(
      (r) => r.id === messageId,
    );
  const send = async (text: string) =>
    (
      await us.api<{ id: string }>('POST', '/api/v1/messages', {
        to: ['cn'],
        message: draft(text, 'flash'),
      })
    ).id;
  const receipted = (messageId: string) =>
    until(
      `${messageId} receipted`,
      async () => (await outboxRow(us, messageId))?.status === 'receipted',
      60_000,
    );
  /** Beijing's own signed receipts (dir out) naming `messageId`, as stored. */
  const signedAtBeijing = (messageId: string) => {
    const file = new Database(cn.db, { readonly: true, fileMustExist: true });
    try {
      return (
        file
          .prepare("SELECT receipt FROM receipts WHERE dir = 'out' AND party = 'us'")
          .all() as Array<{ receipt: string }>
      )
        .map((r) => r.receipt)
        .filter((r) => r.includes(messageId));
    } finally {
      file.close();
    }
  };
  /** Washington's stored receipts from Beijing (dir in) naming `messageId`. */
  const heldAtWashington = (messageId: string) => {
    const file = new Database(us.db, { readonly: true, fileMustExist: true });
    try {
      return (
        file
          .prepare("SELECT receipt FROM receipts WHERE dir = 'in' AND party = 'cn'")
          .all() as Array<{ receipt: string }>
      )
        .map((r) => r.receipt)
        .filter((r) => r.includes(messageId));
    } finally {
      file.close();
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-receipt-crash-'));
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, { heartbeatMs: 60_000 }),
      HotlineNode.init(root, BEIJING, { heartbeatMs: 60_000 }),
    ]);
    await Promise.all([us.exportCard(), cn.exportCard()]);
    await Promise.all([us.pin(cn), cn.pin(us)]);
    await cn.start();
    proxy = new CuttingProxy(
      await freePort(),
      Number(cn.listen.split(':').pop()),
      proxyTls(cn.dir, us.dir),
    );
    await proxy.listen();
    us.configure({
      paths: {
        cn: [{ id: 'direct', kind: 'direct', url: `https://127.0.0.1:${proxy.port}`, priority: 0 }],
      },
    });
    await us.start();
    // Washington has witnessed Beijing's log once, as any running pair has.
    await receipted(await send('first'));
  }, 180_000);

  afterAll(async () => {
    await killAll();
    await proxy?.close();
    removeUnlessKept(root);
  });

  test('killed after Beijing answered, before its record: the message is pending and unreceipted', async () => {
    proxy.cutNext = () => us.kill();
    id = await send('cut');
    await proxy.cut;
    // Beijing stored it and signed its receipt; Washington holds it pending, with no receipt.
    expect(signedAtBeijing(id)).toHaveLength(1);
    const cardFile = join(root, 'cn.card.json');
    const atUs = receiptsInFile(us.db, 'us', 'cn', cardFile);
    expect(atUs.outbox.find((r) => r.id === id)?.status).toBe('pending');
    expect(atUs.covered.has(id)).toBe(false);
  }, 120_000);

  test('served again, it resends and records the receipt Beijing signed the first time', async () => {
    const posts = proxy.posts.filter((p) => p.includes(id)).length;
    await us.start();
    await receipted(id);
    expect(proxy.posts.filter((p) => p.includes(id)).length).toBeGreaterThan(posts);
    // The same signed receipt on both sides, and it verifies against Beijing's card.
    const original = signedAtBeijing(id);
    expect(original).toHaveLength(1);
    expect(heldAtWashington(id).map((r) => JSON.parse(r))).toEqual(
      original.map((r) => JSON.parse(r)),
    );
    const atUs = receiptsInFile(us.db, 'us', 'cn', join(root, 'cn.card.json'));
    expect(atUs.covered.get(id)).toBe(atUs.outbox.find((r) => r.id === id)?.header_hash);
    // Beijing holds it once.
    const inbox = await cn.api<Array<{ id: string }>>('GET', '/api/v1/inbox?limit=1000');
    expect(inbox.filter((m) => m.id === id)).toHaveLength(1);
  }, 120_000);

  test('a group-committed record outlives a SIGKILL right after it', async () => {
    const next = await send('after');
    await receipted(next);
    const size = (await us.api<Status>('GET', '/api/v1/status')).ledger.size;
    await us.kill();
    await us.start();
    expect((await outboxRow(us, next))?.status).toBe('receipted');
    expect(heldAtWashington(next)).toHaveLength(1);
    const status = await us.api<Status>('GET', '/api/v1/status');
    expect(status.ledger.size).toBeGreaterThanOrEqual(size);
    expect(status.alarms).toEqual([]);
  }, 120_000);
});
