/**
 * The events of every replica on every replica: what one replica's services emit (a message
 * received, a receipt, an alarm, a release…) is published on the party's PostgreSQL channel
 * (src/store/postgres/notify.ts) and emitted again on the other replicas' `NodeEvents`. So a
 * console connected to any replica sees every event; the leader's outbox is kicked by a release
 * made on a follower, and its escalation by a timer a follower made due.
 *
 * Events are published after their commit (they are emitted then), so a replica hearing one
 * reads what it names. An event too large for one notification is published in parts (ids) or,
 * failing that, dropped with a warning: the console reads the state again at its next event.
 */
import type { Logger } from 'pino';
import type { PostgresChannel } from '../../store/postgres/notify.ts';
import { MAX_PAYLOAD_BYTES } from '../../store/postgres/notify.ts';
import type { NodeEventMap, NodeEvents } from './events.ts';

/** Every event another replica needs: the console's feed, and the wake-ups of the leader. */
const RELAYED = [
  'received',
  'receipted',
  'alarm',
  'alarm-cleared',
  'incident',
  'escalation',
  'acknowledged',
  'draft',
  'link',
  'released',
  'timers-due',
] as const satisfies ReadonlyArray<keyof NodeEventMap>;

type Relayed = (typeof RELAYED)[number];

/** Ids per notification of a `received` or `receipted` event. */
const IDS_PER_PART = 100;

interface Notice {
  /** The replica that published it. */
  r: string;
  e: Relayed;
  a: unknown[];
}

export class ReplicaFeed {
  readonly #events: NodeEvents;
  readonly #replica: string;
  readonly #logger: Logger;
  readonly #learn: (party: string, ids: string[]) => Promise<void>;
  #channel: PostgresChannel | undefined;
  /** True while an event heard from another replica is emitted here: it is not published again. */
  #relaying = false;

  /**
   * `learn`: what to do with messages another replica stored (the seqs received, which this
   * replica's heartbeats and status report, take them in: `Peers.learn`).
   */
  constructor(
    events: NodeEvents,
    replica: string,
    logger: Logger,
    learn: (party: string, ids: string[]) => Promise<void>,
  ) {
    this.#events = events;
    this.#replica = replica;
    this.#logger = logger;
    this.#learn = learn;
  }

  /** What the channel hears: an event of another replica, emitted here. */
  readonly hear = (payload: string): void => {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (notice.r === this.#replica || !RELAYED.includes(notice.e) || !Array.isArray(notice.a))
      return;
    if (notice.e === 'received') {
      const [party, ids] = notice.a as [string, string[]];
      this.#learn(party, ids).catch((err: unknown) =>
        this.#logger.warn({ err }, 'reading the seqs another replica received failed'),
      );
    }
    this.#relaying = true;
    try {
      this.#events.emit(notice.e, ...(notice.a as never as NodeEventMap[typeof notice.e]));
    } catch (err) {
      this.#logger.error({ err, event: notice.e }, 'an event of another replica failed here');
    } finally {
      this.#relaying = false;
    }
  };

  /** Listens on `channel`, and publishes this replica's events on it from now on. */
  async start(channel: PostgresChannel): Promise<void> {
    await channel.listen();
    this.#channel = channel;
    for (const event of RELAYED)
      this.#events.on(event, (...args: unknown[]) => {
        if (!this.#relaying) this.#publish(event, args);
      });
  }

  async stop(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close();
  }

  #publish(event: Relayed, args: unknown[]): void {
    const parts =
      (event === 'received' || event === 'receipted') && Array.isArray(args[1])
        ? chunks(args[1] as string[], IDS_PER_PART).map((ids) => [args[0], ids])
        : [args];
    for (const a of parts) {
      const payload = JSON.stringify({ r: this.#replica, e: event, a } satisfies Notice);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
        this.#logger.warn({ event }, 'an event too large for the replicas’ channel was not sent');
        continue;
      }
      this.#channel
        ?.publish(payload)
        .catch((err: unknown) =>
          this.#logger.warn({ err, event }, 'publishing an event to the other replicas failed'),
        );
    }
  }
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
