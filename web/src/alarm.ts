/**
 * The alarm a person cannot miss: a generated two-tone (Web Audio, no sound file) repeated every
 * few seconds while anything is unacknowledged, and a browser notification for each new item,
 * repeated until it is dealt with. Browsers keep audio locked until the person interacts with the
 * page, which is why login ends with a sound check (`unlock`).
 */
import type { Precedence } from '../../src/protocol/values.ts';

/** Messages that sound the alarm until a person acknowledges them. */
export const ALARMING: readonly Precedence[] = ['flash', 'immediate'];

let context: AudioContext | undefined;

/** Starts (or resumes) audio; call from a click or key press. */
export async function unlockAudio(): Promise<boolean> {
  context ??= new AudioContext();
  if (context.state !== 'running') await context.resume().catch(() => undefined);
  return context.state === 'running';
}

export function audioReady(): boolean {
  return context?.state === 'running';
}

/** One alarm phrase: two short high-low tones, loud enough to wake someone. */
export function playTone(): void {
  if (context?.state !== 'running') return;
  const start = context.currentTime;
  for (const [i, frequency] of [880, 660, 880, 660].entries()) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'square';
    oscillator.frequency.value = frequency;
    const t = start + i * 0.25;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(t);
    oscillator.stop(t + 0.24);
  }
}

export async function askNotifications(): Promise<NotificationPermission | 'unsupported'> {
  if (!('Notification' in window)) return 'unsupported';
  if (Notification.permission === 'default') return Notification.requestPermission();
  return Notification.permission;
}

export interface AlarmItem {
  /** `msg:<party>/<id>`, `out:<party>/<id>`, `draft:<id>`, `alarm:<id>` or `feed`. */
  key: string;
  /** Bumped when the item says something new (an escalation step): it notifies again. */
  version?: number;
  /** A stored alarm this console may mute (faults of the system, never a message). */
  silence?: number;
  title: string;
  detail: string;
  /** Where the console opens it. */
  href?: string;
}

const REPEAT_TONE_MS = 3000;
const REPEAT_NOTIFICATION_MS = 30_000;
/** More new items than this at once (a login after a busy night) make one notification. */
const NOTIFY_EACH_UP_TO = 3;

/**
 * Keeps sounding and notifying while `items` is not empty. `update` is called whenever the set of
 * unacknowledged items changes; new items notify at once.
 */
export class Alarmer {
  readonly #summarize: (fresh: AlarmItem[]) => AlarmItem;
  #items: AlarmItem[] = [];
  #notified = new Map<string, number>();
  #versions = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `summarize` makes the one notification that stands for many new items. */
  constructor(summarize: (fresh: AlarmItem[]) => AlarmItem) {
    this.#summarize = summarize;
  }

  update(items: AlarmItem[]): void {
    const fresh = items.filter(
      (i) => !this.#notified.has(i.key) || (this.#versions.get(i.key) ?? 0) !== (i.version ?? 0),
    );
    this.#items = items;
    for (const i of items) this.#versions.set(i.key, i.version ?? 0);
    for (const key of this.#notified.keys())
      if (!items.some((i) => i.key === key)) {
        this.#notified.delete(key);
        this.#versions.delete(key);
      }
    if (!items.length) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (fresh.length) {
      playTone();
      if (fresh.length <= NOTIFY_EACH_UP_TO) for (const item of fresh) this.#notify(item);
      else this.#coalesce(fresh);
    }
    this.#timer ??= setInterval(() => this.#tick(), REPEAT_TONE_MS);
  }

  get sounding(): boolean {
    return this.#timer !== undefined;
  }

  #tick(): void {
    playTone();
    const now = Date.now();
    const due = this.#items.filter(
      (item) => now - (this.#notified.get(item.key) ?? 0) >= REPEAT_NOTIFICATION_MS,
    );
    if (due.length <= NOTIFY_EACH_UP_TO) for (const item of due) this.#notify(item);
    else this.#coalesce(due);
  }

  /** One notification for many items, each counted as notified. */
  #coalesce(items: AlarmItem[]): void {
    const now = Date.now();
    for (const item of items) this.#notified.set(item.key, now);
    this.#show(this.#summarize(items));
  }

  #notify(item: AlarmItem): void {
    this.#notified.set(item.key, Date.now());
    this.#show(item);
  }

  #show(item: AlarmItem): void {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(item.title, {
        body: item.detail,
        tag: item.key,
        requireInteraction: true,
      });
      n.onclick = () => {
        window.focus();
        if (item.href)
          window.dispatchEvent(new CustomEvent('hotline:navigate', { detail: item.href }));
      };
    } catch {
      // a browser that refuses notifications still has the banner and the tone
    }
  }
}
