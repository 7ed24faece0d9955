/**
 * More than two parties: eight nodes on loopback, each having pinned every other's card. Every
 * party sends a routine message to every other; the first party sends one flash to all seven,
 * each of whom receives the very same signed header and acknowledges it, and the sender sees who
 * received and acknowledged it, party by party. An incident reported to two parties is shared by
 * those three only. Every party witnesses every other's log (co-signs its checkpoints).
 */
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findKey } from '../../src/crypto/card.ts';
import { signedBytes } from '../../src/crypto/context.ts';
import { ed25519Verify } from '../../src/crypto/ed25519.ts';
import { fromBase64url, sha256, toHex } from '../../src/protocol/encoding.ts';
import { jcsBytes } from '../../src/protocol/jcs.ts';
import type {
  InboxItem,
  IncidentDetail,
  NodeStatus,
  OutboxItem,
  Released,
} from '../../src/protocol/views.ts';
import { createMesh, type Mesh, type Party } from '../support/mesh.ts';
import { draft, eventually } from '../support/pair.ts';

const PARTIES = 8;
/**
 * Eight nodes in one process on a shared two-core machine: a wait is long enough for a loaded
 * machine (they take seconds when it is quiet), and bounded.
 */
const WAIT_MS = 120_000;
const TEST_MS = 300_000;

describe(`a full mesh of ${PARTIES} parties`, () => {
  let mesh: Mesh;
  let parties: Party[];
  let first: Party;

  beforeAll(async () => {
    mesh = await createMesh(PARTIES);
    parties = mesh.parties;
    first = parties[0] as Party;
    await mesh.startAll();
  }, TEST_MS);

  afterAll(async () => {
    await mesh?.close();
  });

  const others = (p: Party) => parties.filter((q) => q !== p);
  const text = (from: Party, to: Party) => `Routine from ${from.party} to ${to.party}.`;

  test(
    'every party reaches every other, each message once',
    async () => {
      await Promise.all(
        parties.flatMap((from) =>
          others(from).map((to) =>
            mesh.api<Released>(from, 'POST', '/api/v1/messages', {
              to: [to.party],
              message: draft({ text: { lang: 'en', body: text(from, to) } }),
            }),
          ),
        ),
      );
      for (const to of parties) {
        const inbox = await eventually(
          async () => {
            const items = await mesh.api<InboxItem[]>(to, 'GET', '/api/v1/inbox?limit=1000');
            return items.length >= PARTIES - 1 ? items : undefined;
          },
          WAIT_MS,
          `${to.party}'s inbox`,
        );
        expect(inbox.map((i) => i.body.text?.body).sort()).toEqual(
          others(to)
            .map((from) => text(from, to))
            .sort(),
        );
        // Each channel numbers its own messages from 1.
        expect(inbox.every((i) => i.seq === 1)).toBe(true);
      }
      for (const from of parties) {
        const outbox = await eventually(
          async () => {
            const rows = await mesh.api<OutboxItem[]>(from, 'GET', '/api/v1/outbox?limit=1000');
            return rows.every((r) => r.status === 'receipted') ? rows : undefined;
          },
          WAIT_MS,
          `${from.party}'s receipts`,
        );
        expect(outbox.map((r) => r.to).sort()).toEqual(others(from).map((p) => p.party));
      }
    },
    TEST_MS,
  );

  test(
    'one flash to seven parties: the same signed header for each, acknowledged by each',
    async () => {
      const recipients = others(first);
      const sent = await mesh.api<Released>(first, 'POST', '/api/v1/messages', {
        to: recipients.map((p) => p.party),
        message: draft({
          type: 'query',
          precedence: 'flash',
          text: { lang: 'en', body: 'Flash to every party.' },
        }),
      });
      // One seq per recipient: the second message on each channel.
      expect(sent.seq).toEqual(Object.fromEntries(recipients.map((p) => [p.party, 2])));

      // Each recipient holds the same header (same hash, same body hash), signed by the sender.
      const senderCard = mesh.running(first).card;
      const hashes = new Set<string>();
      for (const to of recipients) {
        const row = await eventually(
          async () => mesh.running(to).store.getInbox(first.party, sent.id),
          WAIT_MS,
          `the flash at ${to.party}`,
        );
        const { header, sig } = row.envelope;
        expect(header.to).toEqual(recipients.map((p) => p.party));
        expect(header.seq[to.party]).toBe(2);
        const key = findKey(senderCard.card, header.kid);
        expect(key).toBeDefined();
        const signed = signedBytes('envelope', jcsBytes(header));
        expect(ed25519Verify(fromBase64url(key?.pub ?? ''), signed, fromBase64url(sig))).toBe(true);
        hashes.add(toHex(sha256(jcsBytes(header))));
      }
      expect(hashes.size).toBe(1);

      // Before anyone acknowledges, the sender sees it received but unacknowledged by each.
      const rowsOf = async () =>
        (await mesh.api<OutboxItem[]>(first, 'GET', '/api/v1/outbox?limit=1000')).filter(
          (r) => r.id === sent.id,
        );
      const received = await eventually(
        async () => {
          const rows = await rowsOf();
          return rows.length === recipients.length && rows.every((r) => r.peerReceivedAt)
            ? rows
            : undefined;
        },
        WAIT_MS,
        'receipts from every recipient',
      );
      expect(received.every((r) => r.followup?.acknowledged === null)).toBe(true);

      // Each recipient's ops desk acknowledges; the sender sees each acknowledgement, party by party.
      for (const [i, to] of recipients.entries()) {
        await mesh.api(to, 'POST', `/api/v1/messages/${first.party}/${sent.id}/ack`, {
          desk: 'ops',
        });
        const rows = await eventually(
          async () => {
            const rows = await rowsOf();
            const acked = rows.filter((r) => r.followup?.acknowledged);
            return acked.length === i + 1 ? rows : undefined;
          },
          WAIT_MS,
          `${to.party}'s acknowledgement`,
        );
        const mine = rows.find((r) => r.to === to.party);
        expect(mine?.followup?.acknowledged).toMatchObject({ desk: 'ops' });
        // Nobody else's acknowledgement is credited to a party that has not sent one.
        for (const later of recipients.slice(i + 1))
          expect(rows.find((r) => r.to === later.party)?.followup?.acknowledged).toBeNull();
      }
    },
    TEST_MS,
  );

  test(
    'an incident is shared by its participants only',
    async () => {
      const [owner, a, b, outsider] = parties as [Party, Party, Party, Party];
      const incident = uuidv7();
      const report = await mesh.api<Released>(owner, 'POST', '/api/v1/messages', {
        to: [a.party, b.party],
        message: draft({
          type: 'incident.report',
          incident,
          precedence: 'immediate',
          status: 'exercise',
          text: { lang: 'en', body: 'Exercise: a model exfiltrating its weights.' },
          report: {
            nature: 'incident',
            category: 'category.loss-of-control',
            actionsTaken: [],
            actionsRequested: [],
          },
        }),
      });
      const detailAt = (p: Party) =>
        mesh.api<IncidentDetail>(p, 'GET', `/api/v1/incidents/${incident}`);
      for (const p of [a, b])
        await eventually(
          async () => (await mesh.running(p).store.getInbox(owner.party, report.id)) ?? undefined,
          WAIT_MS,
          `the report at ${p.party}`,
        );
      // Each participant sees the same three parties: the owner and both recipients.
      for (const p of [owner, a, b]) {
        const view = await detailAt(p);
        expect(view.owner).toBe(owner.party);
        expect(view.peers).toEqual(
          [owner, a, b]
            .filter((q) => q !== p)
            .map((q) => q.party)
            .sort(),
        );
      }
      // The owner's timeline shows the report recipient by recipient: both nodes have it.
      const sentReport = await eventually(
        async () => {
          const entry = (await detailAt(owner)).timeline.find((e) => e.id === report.id);
          return entry?.recipients.every((r) => r.status === 'receipted' && r.received)
            ? entry
            : undefined;
        },
        WAIT_MS,
        'both receipts of the report at its owner',
      );
      expect(sentReport.recipients.map((r) => r.party).sort()).toEqual([a.party, b.party]);
      expect(sentReport.recipients.every((r) => r.followup?.acknowledged === null)).toBe(true);
      // A request by one recipient goes to the owner; the owner's change reaches both recipients.
      const asked = await mesh.api<Released>(a, 'POST', `/api/v1/incidents/${incident}/requests`, {
        desk: 'ops',
        to: 'mitigating',
      });
      expect(Object.keys(asked.seq)).toEqual([owner.party]);
      await eventually(
        async () => ((await detailAt(owner)).pendingRequests.length === 1 ? true : undefined),
        WAIT_MS,
        'the request at the owner',
      );
      const decided = await mesh.api<Released>(
        owner,
        'POST',
        `/api/v1/incidents/${incident}/requests/${asked.id}/decision`,
        { desk: 'ops', decision: 'accepted' },
      );
      expect(Object.keys(decided.seq).sort()).toEqual([a.party, b.party]);
      for (const p of [owner, a, b])
        await eventually(
          async () => ((await detailAt(p)).state === 'mitigating' ? true : undefined),
          WAIT_MS,
          `the new state at ${p.party}`,
        );
      // The outsider holds nothing of it.
      await expect(detailAt(outsider)).rejects.toThrow(/HTTP 404/);
    },
    TEST_MS,
  );

  test(
    "every party witnesses every other's log",
    async () => {
      await eventually(
        async () => {
          for (const p of parties) {
            const status = await mesh.api<NodeStatus>(p, 'GET', '/api/v1/status');
            if (status.peers.length !== PARTIES - 1) return undefined;
            for (const peer of status.peers) {
              // Its log after the exchange (> 0) accepted here, and ours co-signed there.
              if (!peer.witness.witnessed || peer.witness.witnessed.size === 0) return undefined;
              if (!peer.witness.cosigned || peer.witness.cosigned.size === 0) return undefined;
            }
          }
          return true;
        },
        WAIT_MS,
        'every pair witnessing',
      );
      // Nobody saw a fork, a bad proof or a bad co-signature among the 56 witness relations.
      for (const p of parties) {
        const status = await mesh.api<NodeStatus>(p, 'GET', '/api/v1/status');
        expect(status.alarms.filter((a) => a.type !== 'escalation')).toEqual([]);
      }
    },
    TEST_MS,
  );
});
