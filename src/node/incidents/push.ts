/**
 * Web Push (RFC 8030) to the browsers and phones a person subscribed from the console: each
 * notification is encrypted for the subscription (RFC 8291, `aes128gcm`) and signed for the push
 * service with the node's VAPID key (RFC 8292), by the `web-push` package; this module sends the
 * request itself (fetch, with a timeout and bounded retries), so a push service answering 404 or
 * 410 — the subscription expired or was withdrawn — is seen and the subscription removed.
 *
 * A notification says what a person needs to open the message, in the language the browser was
 * subscribed in: precedence, category, status, sender and a short id, and the console address of
 * the message, where Acknowledge is the same audited action as anywhere else. Never the text.
 */

import type { Logger } from 'pino';
import webpush from 'web-push';
import { PRECEDENCE_TERMS, STATUS_TERMS } from '../../protocol/glossary.ts';
import type { Precedence, Status } from '../../protocol/values.ts';
import type { Vocabulary } from '../../protocol/vocabulary.ts';
import type { PushStore, PushSubscriptionRow } from '../../store/push.ts';
import type { Executor } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { VapidKey } from '../core/vapid.ts';
import { backoffMs } from '../delivery/outbox.ts';
import type { Delivery, Notice } from './notifiers.ts';

/** What the service worker receives (web/public/sw.js shows it). */
export interface PushPayload {
  title: string;
  body: string;
  /** The console page that opens on a tap. */
  url: string;
  /** One notification per message on a device: a later step replaces the earlier one. */
  tag: string;
  lang: string;
  party: string;
  id: string;
  precedence: string;
  status: string;
  kind: Notice['kind'];
}

/** Whether `endpoint` points at one of the configured push services (see config.ts). */
export function allowedPushService(endpoint: string, services: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  return services.some((s) => {
    if (s.includes('://')) return url.origin === s.replace(/\/+$/, '');
    if (url.protocol !== 'https:') return false;
    return s.startsWith('.') ? url.hostname.endsWith(s) : url.hostname === s;
  });
}

const WHAT: Record<Notice['kind'], { en: string; zh: string }> = {
  escalation: { en: 'awaits acknowledgement', zh: '待确认' },
  unanswered: { en: 'was not acknowledged in time', zh: '未在时限内得到确认' },
  standing: { en: 'is still not acknowledged', zh: '仍未确认' },
  held: { en: 'awaits a second officer’s approval', zh: '待第二名值班官批准' },
};

/** Names the reader sees: a party's name and a vocabulary code's text in `lang`. */
export interface PushWords {
  vocabulary: Vocabulary;
  partyName(party: string, lang: string): string;
}

/** The notification of a notice in `lang` (en or zh; anything else reads English). */
export function pushPayload(
  n: Notice,
  lang: string,
  words: PushWords,
  category: string | null,
): PushPayload {
  const zh = lang.startsWith('zh');
  const l = zh ? 'zh' : 'en';
  const precedence = PRECEDENCE_TERMS[n.precedence as Precedence]?.[l] ?? n.precedence;
  const status = n.status === 'actual' ? '' : (STATUS_TERMS[n.status as Status]?.[l] ?? n.status);
  const sender = words.partyName(n.party, l);
  const what = category ? words.vocabulary.render(category, l).text : n.type;
  const short = n.id.slice(-8);
  const mark = status ? (zh ? `【${status}】` : `[${status.toUpperCase()}] `) : '';
  const held = n.kind === 'held';
  const whose = zh
    ? held
      ? '待批准'
      : `${n.kind === 'unanswered' ? '发往' : '来自'}${sender}`
    : held
      ? 'held for approval'
      : `${n.kind === 'unanswered' ? 'to' : 'from'} ${sender}`;
  const title = `${mark}${precedence} · ${what} · ${whose}`;
  const step = n.step + 1;
  const body = held
    ? zh
      ? `草稿 …${short} ${WHAT.held.zh}（第 ${step} 级，席位 ${n.desk}）。点按打开审批。`
      : `Draft …${short} ${WHAT.held.en} (step ${step}, desk ${n.desk}). Tap to open it.`
    : zh
      ? `消息 ${n.party}/…${short} ${WHAT[n.kind].zh}（第 ${step} 级，席位 ${n.desk}）。点按打开并确认。`
      : `Message ${n.party}/…${short} ${WHAT[n.kind].en} (step ${step}, desk ${n.desk}). Tap to open and acknowledge.`;
  return {
    title,
    body,
    url: held
      ? `/approvals/${encodeURIComponent(n.id)}`
      : `/message/${encodeURIComponent(n.party)}/${encodeURIComponent(n.id)}`,
    tag: `hotline-${n.party}-${n.id}`,
    lang: l,
    party: n.party,
    id: n.id,
    precedence: n.precedence,
    status: n.status,
    kind: n.kind,
  };
}

export interface PushParts {
  config: Config['notify']['push'];
  /** Undefined when the node has no VAPID key (push is then unavailable). */
  vapid: VapidKey | undefined;
  subscriptions: PushStore;
  words: PushWords;
  /** The category of a received message, when it has one (for the notification's title). */
  categoryOf: (party: string, id: string) => Promise<string | null>;
  logger: Logger;
  clock: () => Date;
}

/** Waits `ms`, or less if `signal` aborts (the node is stopping). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
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

export class PushNotifier {
  readonly #parts: PushParts;

  constructor(parts: PushParts) {
    this.#parts = parts;
  }

  get publicKey(): string | undefined {
    return this.#parts.vapid?.publicKey;
  }

  unavailable(): string | undefined {
    return this.#parts.vapid ? undefined : 'the node has no VAPID key';
  }

  /** The subscriptions notifications to `user` go to (read through `q` inside a commit). */
  subscriptionsOf(user: string, q?: Executor): Promise<PushSubscriptionRow[]> {
    return this.#parts.subscriptions.ofUser(user, q);
  }

  /** Pushes `notice` to every subscription of `user`; one delivery per subscription. */
  async send(user: string, notice: Notice, signal: AbortSignal): Promise<Delivery[]> {
    const rows = await this.#parts.subscriptions.ofUser(user);
    if (!rows.length) return [];
    const category = await this.#parts.categoryOf(notice.party, notice.id).catch(() => null);
    return Promise.all(rows.map((row) => this.#sendOne(row, notice, category, signal)));
  }

  async #sendOne(
    row: PushSubscriptionRow,
    notice: Notice,
    category: string | null,
    signal: AbortSignal,
  ): Promise<Delivery> {
    const { config, vapid, subscriptions, words, logger, clock } = this.#parts;
    const target = `${row.user_name}/${row.id}`;
    if (!vapid) return { kind: 'push', target, ok: false, attempts: 0, detail: 'no VAPID key' };
    const payload = JSON.stringify(pushPayload(notice, row.lang, words, category));
    let detail = '';
    let tried = 0;
    for (let attempt = 1; attempt <= config.attempts; attempt++) {
      tried = attempt;
      // Encrypted afresh each attempt: a new salt and key, and a JWT that has not expired.
      const request = webpush.generateRequestDetails(
        { endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } },
        payload,
        {
          TTL: config.ttlSeconds,
          urgency:
            notice.precedence === 'flash' || notice.precedence === 'immediate' ? 'high' : 'normal',
          vapidDetails: { subject: config.subject, ...vapid },
          topic: notice.id.replaceAll('-', '').slice(0, 32),
        },
      );
      try {
        const response = await fetch(request.endpoint, {
          method: 'POST',
          headers: Object.fromEntries(
            Object.entries(request.headers).map(([k, v]) => [k, String(v)]),
          ),
          body: request.body ?? new Uint8Array(),
          signal: AbortSignal.any([AbortSignal.timeout(config.timeoutMs), signal]),
        });
        await response.body?.cancel();
        if (response.ok) {
          await subscriptions.outcome(row.id, clock().toISOString(), null);
          return { kind: 'push', target, ok: true, attempts: attempt };
        }
        detail = `HTTP ${response.status}`;
        if (response.status === 404 || response.status === 410) {
          // RFC 8030 §7.3: the subscription is gone; it is removed, not tried again.
          await subscriptions.remove(row.id);
          logger.warn(
            { user: row.user_name, subscription: row.id, status: response.status },
            'push subscription expired: removed',
          );
          return {
            kind: 'push',
            target,
            ok: false,
            attempts: attempt,
            detail: `${detail}: subscription removed`,
          };
        }
        if (response.status < 500 && response.status !== 429) break;
      } catch (e) {
        detail = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      }
      if (signal.aborted) break;
      if (attempt < config.attempts) await pause(backoffMs(attempt, 200, 2000), signal);
    }
    await subscriptions.outcome(row.id, clock().toISOString(), detail.slice(0, 200));
    return { kind: 'push', target, ok: false, attempts: tried, detail };
  }
}
