/**
 * Web Push (issue 17): from Washington's release of a flash report until Beijing's push to the
 * duty officer's phone reaches the push service (played on loopback), beside its floors measured
 * in the same run:
 *   - release → escalation step on Beijing (delivery, receipt, the timer firing);
 *   - one push request made alone: RFC 8291 encryption and the RFC 8292 VAPID signature;
 *   - a bare loopback POST to the same push service.
 * One in-process node pair on loopback, default settings, one subscription.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import webpush from 'web-push';
import { generateVapidKey } from '../src/node/core/vapid.ts';
import { dataFolderActor } from '../src/node/people/people.ts';
import { toBase64url } from '../src/protocol/encoding.ts';
import { createPair, flashReport } from '../test/support/pair.ts';

const SAMPLES = 30;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    max: r(s.at(-1) ?? 0),
  };
}

export async function benchPush() {
  const arrived: number[] = [];
  let wake: (() => void) | undefined;
  const service = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      arrived.push(performance.now());
      response.writeHead(201).end();
      wake?.();
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  // Exercise flash reports are not held: each release reaches Beijing at once.
  const pair = await createPair({ notify: { push: { services: [base] } } } as never);
  try {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const by = dataFolderActor();
    await cn.people.roster.addShift(by, {
      desk: 'ops',
      user: 'admin',
      startsAt: new Date(Date.now() - 3_600_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const subscription = {
      endpoint: `${base}/push/bench`,
      keys: { p256dh: toBase64url(ecdh.getPublicKey()), auth: toBase64url(randomBytes(16)) },
    };
    await cn.pushSubscriptions.put({
      user_name: 'admin',
      endpoint: subscription.endpoint,
      ...subscription.keys,
      lang: 'zh',
      label: 'bench',
      created_at: new Date().toISOString(),
    });
    const stepAt = new Map<string, number>();
    cn.events.on('escalation', (e) => stepAt.set(e.id, performance.now()));

    const toPush: number[] = [];
    const toStep: number[] = [];
    for (let i = 0; i < SAMPLES + 3; i++) {
      const before = arrived.length;
      const reached = new Promise<void>((resolve) => {
        wake = () => arrived.length > before && resolve();
      });
      const t0 = performance.now();
      const released = await us.node.release(['cn'], flashReport({ status: 'exercise' }));
      await Promise.race([reached, new Promise((r) => setTimeout(r, 10_000))]);
      const t1 = arrived[before];
      const step = stepAt.get(released.id);
      if (i >= 3 && t1 !== undefined && step !== undefined) {
        toPush.push(t1 - t0);
        toStep.push(step - t0);
      }
    }

    const vapid = generateVapidKey();
    const make: number[] = [];
    const post: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      webpush.generateRequestDetails(subscription, JSON.stringify({ title: 'x'.repeat(80) }), {
        TTL: 600,
        vapidDetails: { subject: 'mailto:bench@example.invalid', ...vapid },
      });
      make.push(performance.now() - t0);
      const t1 = performance.now();
      const response = await fetch(`${base}/floor`, { method: 'POST', body: 'x' });
      await response.body?.cancel();
      post.push(performance.now() - t1);
    }
    return {
      releaseToPush: summary(toPush),
      releaseToStep: summary(toStep),
      pushRequestAlone: summary(make),
      barePost: summary(post),
    };
  } finally {
    await pair.close();
    service.closeAllConnections();
    await new Promise<void>((resolve) => service.close(() => resolve()));
  }
}

export function printPush(f: Awaited<ReturnType<typeof benchPush>>): void {
  const line = (name: string, s: { p50: number; p90: number; max: number; n: number }) =>
    console.log(`${name.padEnd(52)} p50 ${s.p50} ms  p90 ${s.p90} ms  max ${s.max} ms  (n=${s.n})`);
  console.log('\n## push');
  line('release → push at the push service (loopback)', f.releaseToPush);
  line('  floor: release → escalation step at the peer', f.releaseToStep);
  line('  floor: one push request made (RFC 8291 + VAPID)', f.pushRequestAlone);
  line('  floor: bare loopback POST', f.barePost);
}
