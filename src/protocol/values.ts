/**
 * The values a body's enumerated fields take (docs/protocol.md § Body), and the orders the node
 * and the console give them. No imports: the console takes this module at run time, the schemas
 * in body.ts build on it.
 */

export const BODY_TYPES = [
  'incident.report',
  'incident.update',
  'incident.close',
  'incident.retract',
  'query',
  'reply',
  'ack',
  'reminder',
  'notice',
  'presence',
  'conference',
  'state',
  'test',
  'rotation',
] as const;
export type BodyType = (typeof BODY_TYPES)[number];

/** Most urgent first. */
/** "a query", "an ack", "an incident.report": a message type (or any word) with its article. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

export const PRECEDENCES = ['flash', 'immediate', 'priority', 'routine'] as const;
export type Precedence = (typeof PRECEDENCES)[number];

/** The serving order: 0 flash … 3 routine (the outbox's `rank`, the incident list's sort). */
export const RANK: Readonly<Record<Precedence, number>> = {
  flash: 0,
  immediate: 1,
  priority: 2,
  routine: 3,
};

/** As OASIS CAP 1.2 `status`: drills and tests never look real. */
export const STATUSES = ['actual', 'exercise', 'test'] as const;
export type Status = (typeof STATUSES)[number];

/** FIRST TLP 2.0 labels. */
export const TLPS = ['red', 'amber+strict', 'amber', 'green', 'clear'] as const;
export type Tlp = (typeof TLPS)[number];

export const INCIDENT_STATES = [
  'reported',
  'acknowledged',
  'investigating',
  'mitigating',
  'resolved',
  'closed',
] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/**
 * Types no person acknowledges (docs/operators.md § Precedence and deadlines): escalation starts
 * no timer for them, and the console sounds no alarm for them.
 */
export const NO_ACK: ReadonlySet<BodyType> = new Set<BodyType>([
  'ack',
  'rotation',
  'reminder',
  'incident.retract',
]);

/**
 * The alarms escalation raises: a message waiting for a person (a console notice, the end of the
 * ladder, one of ours unanswered), cleared by the acknowledgement; not a fault of the system.
 */
export const ACK_ALARMS: ReadonlySet<string> = new Set([
  'escalation',
  'unacknowledged',
  'unanswered',
]);
