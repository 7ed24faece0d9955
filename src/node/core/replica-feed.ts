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
 *
 * A notice can be lost (its replica killed between commit and publish, the channel listening
 * again after a drop): the seqs received, which status and heartbeats report, are also read
 * from the shared store every `CATCH_UP_MS`, so every replica counts every stored message.
 */
import type { Logger } from 'pino';
import type { PostgresChannel } from '../../store/postgres/notify.ts';
import { MAX_PAYLOAD_BYTES } from '../../store/postgres/notify.ts';
import type { NodeEventMap, NodeEvents } from './events.ts';
import type { Peers } from './peers.ts';

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
  'repinned',
] as const satisfies ReadonlyArray<keyof NodeEventMap>;

type Relayed = (typeof RELAYED)[number];

/** Ids per notification of a `received` or `receipted` event. */
const IDS_PER_PART = 100;

/** How often the seqs received are read again from the store, whatever was heard. */
const CATCH_UP_MS = 2000;

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
  readonly #seqs: Pick<Peers, 'catchUp'>;
  #channel: PostgresChannel | undefined;
  #catchUp: NodeJS.Timeout | undefined;
  /** True while an event heard from another replica is emitted here: it is not published again. */
  #relaying = false;

  /** `seqs`: the seqs received, which take in what other replicas stored (`Peers`). */
  constructor(events: NodeEvents, replica: string, logger: Logger, seqs: Pick<Peers, 'catchUp'>) {
    this.#events = events;
    this.#replica = replica;
    this.#logger = logger;
    this.#seqs = seqs;
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
      const [party] = notice.a as [string];
      this.#seqs
        .catchUp(party)
        .catch((err: unknown) =>
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
    this.#catchUp = setInterval(() => {
      this.#seqs
        .catchUp()
        .catch((err: unknown) =>
          this.#logger.warn({ err }, 'reading the seqs the replicas received failed'),
        );
    }, CATCH_UP_MS);
    this.#catchUp.unref();
    for (const event of RELAYED)
      this.#events.on(event, (...args: unknown[]) => {
        if (!this.#relaying) this.#publish(event, args);
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.#catchUp);
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
