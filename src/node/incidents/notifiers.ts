/**
 * How escalation reaches a person beyond the console: a webhook (a JSON POST signed with
 * HMAC-SHA256, retried with capped backoff), e-mail over SMTP (nodemailer), and Web Push to the
 * browsers and phones the person subscribed (./push.ts). Notifications
 * carry what a person needs to go to the console — party, message id, precedence, type, step,
 * desk — never the message's text, which stays on the node.
 *
 * Webhook signature: `X-Hotline-Signature: sha256=<hex>` over `<timestamp>.<body>`, where
 * `X-Hotline-Timestamp` is the sending time in epoch seconds: a receiver recomputes it with the
 * shared secret and refuses old timestamps, so a captured notification cannot be replayed later.
 */
import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { backoffMs } from '../delivery/outbox.ts';
import type { PushNotifier } from './push.ts';

export interface Notice {
  /**
   * escalation: a received message awaits acknowledgement; unanswered: ours went unanswered;
   * standing: the ladder ended unacknowledged; held: a draft of ours awaits a second officer
   * (`party` is then our own, `id` the draft's).
   */
  kind: 'escalation' | 'unanswered' | 'standing' | 'held';
  node: string;
  party: string;
  id: string;
  incident: string | null;
  precedence: string;
  status: string;
  type: string;
  step: number;
  desk: string;
  user: string | null;
  fired: number;
  at: string;
}

/** A channel a notice goes out on: for `push`, the target is the person (all their devices). */
export type Channel = 'webhook' | 'email' | 'push';

export interface Delivery {
  kind: Channel;
  target: string;
  ok: boolean;
  attempts: number;
  detail?: string;
}

/** The signature header value for a webhook body sent at `timestamp` (epoch seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Waits `ms`, or less if `signal` aborts (the node is stopping). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export class Notifiers {
  readonly #config: Config['notify'];
  readonly #logger: Logger;
  readonly #mailer: Transporter | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Aborted on close: retries stop waiting, requests in flight end. */
  readonly #stop = new AbortController();
  /** Called with each delivery's outcome (the live feed, tests). */
  onDelivery: (notice: Notice, delivery: Delivery) => void = () => {};

  /** Web Push, when the node has a VAPID key (absent in tests that build a node without one). */
  readonly push: PushNotifier | undefined;

  constructor(config: Config['notify'], logger: Logger, push?: PushNotifier) {
    this.#config = config;
    this.#logger = logger;
    this.push = push;
    const smtp = config.smtp;
    this.#mailer = smtp
      ? nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          requireTLS: smtp.requireTLS,
          connectionTimeout: smtp.timeoutMs,
          greetingTimeout: smtp.timeoutMs,
          socketTimeout: smtp.timeoutMs,
          ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
        })
      : undefined;
  }

  /** Why a channel cannot be used, or undefined when it can. */
  unavailable(kind: Channel): string | undefined {
    if (kind === 'webhook' && !this.#config.webhook.secret)
      return 'no notify.webhook.secret configured';
    if (kind === 'email' && !this.#mailer) return 'no notify.smtp configured';
    if (kind === 'push') return this.push ? this.push.unavailable() : 'no Web Push on this node';
    return undefined;
  }

  /** Starts a delivery in the background; its outcome goes to `onDelivery` and the log. */
  dispatch(kind: Channel, target: string, notice: Notice): void {
    const run: Promise<Delivery[]> =
      kind === 'webhook'
        ? this.webhook(target, notice).then((d) => [d])
        : kind === 'email'
          ? this.email(target, notice).then((d) => [d])
          : (this.push?.send(target, notice, this.#stop.signal) ?? Promise.resolve([]));
    const p: Promise<void> = run
      .then((deliveries) => {
        for (const delivery of deliveries) {
          const log = {
            channel: kind,
            peer: notice.party,
            id: notice.id,
            attempts: delivery.attempts,
            ...(kind === 'push' ? { target: delivery.target } : {}),
          };
          if (delivery.ok) this.#logger.info(log, 'notification delivered');
          else this.#logger.error({ ...log, reason: delivery.detail }, 'notification failed');
          this.onDelivery(notice, delivery);
        }
      })
      .catch((err) => this.#logger.error({ err, channel: kind }, 'notification error'))
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  async webhook(url: string, notice: Notice): Promise<Delivery> {
    const { secret, timeoutMs, attempts, backoffBaseMs, backoffMaxMs } = this.#config.webhook;
    if (!secret)
      return { kind: 'webhook', target: url, ok: false, attempts: 0, detail: 'no secret' };
    const body = JSON.stringify({ event: `hotline.${notice.kind}`, ...notice });
    let detail = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hotline-timestamp': String(timestamp),
            'x-hotline-signature': webhookSignature(secret, timestamp, body),
          },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stop.signal]),
        });
        await response.body?.cancel();
        if (response.ok) return { kind: 'webhook', target: url, ok: true, attempts: attempt };
        detail = `HTTP ${response.status}`;
      } catch (e) {
        detail = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      }
      if (this.#stop.signal.aborted)
        return { kind: 'webhook', target: url, ok: false, attempts: attempt, detail };
      if (attempt < attempts)
        await sleep(backoffMs(attempt, backoffBaseMs, backoffMaxMs), this.#stop.signal);
    }
    return { kind: 'webhook', target: url, ok: false, attempts, detail };
  }

  async email(address: string, notice: Notice): Promise<Delivery> {
    const mailer = this.#mailer;
    const smtp = this.#config.smtp;
    if (!mailer || !smtp)
      return { kind: 'email', target: address, ok: false, attempts: 0, detail: 'no smtp' };
    const { subject, text } = mailOf(notice);
    try {
      await mailer.sendMail({ from: smtp.from, to: address, subject, text });
      return { kind: 'email', target: address, ok: true, attempts: 1 };
    } catch (e) {
      return {
        kind: 'email',
        target: address,
        ok: false,
        attempts: 1,
        detail: (e as Error).message.slice(0, 300),
      };
    }
  }

  /** Waits for deliveries in flight (retries stop waiting), then closes the SMTP pool. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#inFlight);
    this.#mailer?.close();
  }
}

const WHAT: Record<Notice['kind'], [string, string]> = {
  escalation: ['needs acknowledgement', '需要确认'],
  unanswered: ['was not acknowledged in time', '未在时限内得到确认'],
  standing: [
    'is still not acknowledged: end of the escalation ladder',
    '仍未确认：升级已到最后一级',
  ],
  held: ['is held for a second officer’s approval', '待第二名值班官批准'],
};

/** The e-mail of a notice, in English and Chinese; never the message's own text. */
export function mailOf(n: Notice): { subject: string; text: string } {
  const [en, zh] = WHAT[n.kind];
  const mark = n.status === 'actual' ? '' : ` [${n.status.toUpperCase()}]`;
  const direction =
    n.kind === 'held'
      ? 'drafted here'
      : n.kind === 'unanswered'
        ? `to ${n.party}`
        : `from ${n.party}`;
  const subject = `[Hotline ${n.precedence.toUpperCase()}]${mark} message ${direction} ${en} / ${zh}`;
  const text = [
    `Hotline ${n.node}: a ${n.precedence} ${n.type} message ${direction} ${en}.`,
    `Hotline ${n.node}：${n.party} 的 ${n.precedence} 级 ${n.type} 消息${zh}。`,
    '',
    n.kind === 'held' ? `draft / 草稿: ${n.id}` : `message / 消息: ${n.party}/${n.id}`,
    ...(n.incident ? [`incident / 事件: ${n.incident}`] : []),
    `status / 状态: ${n.status}`,
    `desk / 席位: ${n.desk} (step / 级别 ${n.step + 1}, notice / 通知 ${n.fired})`,
    `at / 时间: ${n.at}`,
    '',
    n.kind === 'held'
      ? `Open the console's Approvals page to approve or reject it: hotline approve ${n.id}`
      : n.kind === 'unanswered'
        ? `Open the console, or send a reminder: hotline remind ${n.party} ${n.id} --desk ${n.desk}`
        : `Open the console to read and acknowledge it: hotline ack ${n.party} ${n.id} --desk ${n.desk}`,
    n.kind === 'held' ? '请在控制台"审批"页批准或驳回。' : '请在控制台阅读并确认。',
  ].join('\n');
  return { subject, text };
}
