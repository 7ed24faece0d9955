/**
 * The node's events: one typed emitter, built once by the composition root and handed to what
 * emits and what listens. The console's live feed relays the `FeedEvents` among them.
 */
import { EventEmitter } from 'node:events';
import type { AckInfo, EscalationStep, PathState } from '../../protocol/views.ts';
import type { AlarmRow } from '../../store/store.ts';

/** What the console's live feed pushes. */
export interface FeedEvents {
  /** A batch from a peer was stored and receipted. */
  received: [party: string, ids: string[]];
  /** A peer's receipt for our envelopes was verified and recorded. */
  receipted: [party: string, ids: string[]];
  /** An alarm was raised (the stored row), after its commit. */
  alarm: [alarm: AlarmRow];
  /** Something changed in an incident: a message of it sent or received, its state, an ack. */
  incident: [incident: string];
  /** Escalation fired a notification (src/node/incidents/escalation.ts). */
  escalation: [step: EscalationStep];
  /**
   * A message was acknowledged by a person: `dir` out, the peer acknowledged ours; in, one of our
   * people acknowledged the peer's. `party` is the peer, `id` the message.
   */
  acknowledged: [party: string, id: string, ack: AckInfo];
  /**
   * A draft held by the two-person rule entered the queue (`pending`) or left it (`released`,
   * `rejected`): the console's banner and Approvals count follow it at once.
   */
  draft: [id: string, state: 'pending' | 'released' | 'rejected'];
  /** A durable alarm was cleared. */
  'alarm-cleared': [id: number];
  /** A path to a peer changed state (up, degraded, down). */
  link: [party: string, path: string, state: PathState];
}

export interface NodeEventMap extends FeedEvents {
  /** A message to `party` was released (committed to the outbox): delivery starts at once. */
  released: [party: string, rank: number];
  /**
   * A peer's rotated card was pinned: what waits for a receipt from it is retried at once (its
   * receipts signed by the new keys now verify).
   */
  repinned: [party: string];
  /** A follow-up timer became due now: escalation looks at once instead of at its next tick. */
  'timers-due': [];
}

export class NodeEvents extends EventEmitter<NodeEventMap> {}
