/**
 * The two-person rule (docs/operators.md § Two-person rule): a draft the policy names waits in the
 * approvals queue until an officer other than its author approves it; only then is it released
 * and numbered, so a rejected draft leaves no seq gap. Break-glass releases without the second
 * approval on a stated reason, raising an alarm and recording an event leaf; templates agreed in
 * advance release at once when the policy marks them pre-approved.
 *
 * The author can never approve or reject their own draft: the check is on the account, whatever
 * the credential (token, session, a second session), and is repeated in the claiming statement.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { eventLeaf } from '../../ledger/leaves.ts';
import type { Body, Draft } from '../../protocol/body.ts';
import { sha256, toHex, utf8 } from '../../protocol/encoding.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { DraftView, Released, Submitted } from '../../protocol/views.ts';
import { type DraftRow, type DraftState, DraftStore } from '../../store/approvals.ts';
import { type FollowupStore, newFollowup } from '../../store/followups.ts';
import type { Executor, Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { ApprovalRule, Config, Template } from '../core/config.ts';
import type { NodeEvents } from '../core/events.ts';
import type { Node } from '../core/node.ts';
import type { Peers } from '../core/peers.ts';
import type { People } from '../people/people.ts';
import type { Actor, AuditAction } from '../people/trail.ts';
import { incidentActProblem, loadIncident } from './incidents.ts';

/** Who acts: their account and role, and how the audit trail names them. */
/** A last check of a decision, run after every other has passed (a second factor). */
export type Confirm = (draft: DraftView) => Promise<void>;

export interface Decider {
  user: string;
  role: string;
  actor: Actor;
}

/** What the rules see of a message: its type, precedence and status, and a state change's. */
export type Ruled = Pick<Body, 'type' | 'precedence' | 'status'> & Partial<Pick<Body, 'state'>>;

/**
 * The type a rule matches a message as: a state change to closed (the owner's, or its acceptance
 * of a request) closes the incident as an `incident.close` does, and is held as one.
 */
function ruledType(message: Ruled): Body['type'] {
  const state = message.state;
  const closes =
    message.type === 'state' &&
    state?.to === 'closed' &&
    !state.request &&
    state.decision !== 'declined';
  return closes ? 'incident.close' : message.type;
}

/** Whether a message matches a rule: every list the rule gives contains the message's value. */
export function matches(rule: ApprovalRule, message: Ruled) {
  return (
    (rule.types?.includes(ruledType(message)) ?? true) &&
    (rule.precedences?.includes(message.precedence) ?? true) &&
    (rule.statuses?.includes(message.status) ?? true)
  );
}

const ROLES_THAT_DECIDE = new Set(['officer', 'admin']);

/** `E_FORBIDDEN` unless `by`'s role may decide drafts (`what`: "approve a draft", …). */
function decidingRole(by: Decider, what: string): void {
  if (!ROLES_THAT_DECIDE.has(by.role))
    throw new ProtocolError(
      'E_FORBIDDEN',
      `${by.role} "${by.user}" may not ${what}: it needs the role officer or admin`,
    );
}

export interface ApprovalsParts {
  config: Config;
  store: Store;
  /** Checks and releases messages. */
  node: Node;
  peers: Peers;
  people: People;
  events: NodeEvents;
  logger: Logger;
  /** Where a held draft's escalation timer is kept (src/node/incidents/escalation.ts, `held`). */
  followups: FollowupStore;
  alarms: Alarms;
}

const MINUTE = 60_000;

export class Approvals {
  readonly #parts: ApprovalsParts;
  readonly #node: Node;
  readonly #people: People;
  readonly #policy: Config['approvals'];
  readonly #drafts: DraftStore;

  constructor(parts: ApprovalsParts) {
    this.#parts = parts;
    this.#node = parts.node;
    this.#people = parts.people;
    this.#policy = parts.config.approvals;
    this.#drafts = new DraftStore(parts.store);
  }

  get templates(): readonly Template[] {
    return this.#policy.templates;
  }

  template(id: string): Template {
    const found = this.#policy.templates.find((t) => t.id === id);
    if (!found)
      throw new ProtocolError(
        'E_NOT_FOUND',
        `there is no template "${id}" (approvals.templates in hotline.yaml)`,
      );
    return found;
  }

  /** The indexes of the rules that hold this message for a second officer. */
  rulesFor(message: Ruled): number[] {
    return this.#policy.rules.flatMap((rule, i) => (matches(rule, message) ? [i] : []));
  }

  /**
   * What a draft refers to must be here, so the peer is never sent a pointer to nothing: the
   * message it answers (`inReplyTo`) is one this node sent or received, and the incident it is
   * about is one this node knows, unless it reports a new one, whose id then may not be a
   * message's or another incident's; a state change follows a message of its incident. A wrong
   * act on a known incident is `incidentActProblem`'s.
   */
  async #references(message: Draft): Promise<void> {
    const { store, config } = this.#parts;
    const cited = message.inReplyTo;
    if (cited !== undefined && !(await store.holdsMessage(cited)))
      throw new ProtocolError(
        'E_NOT_FOUND',
        `there is no message ${cited} sent or received here for this one to answer (inReplyTo): check the id in the inbox or outbox`,
      );
    const incident = message.incident;
    if (incident === undefined) return;
    const known = await loadIncident(store, config.party, incident);
    const previous = message.state?.previous;
    if (known && previous && !known.messages.some((m) => m.id === previous))
      throw new ProtocolError(
        'E_NOT_FOUND',
        `there is no message ${previous} in incident ${incident} for this state change to follow (state.previous)`,
      );
    const problem = incidentActProblem(known?.view, message);
    if (problem) throw new ProtocolError('E_CONFLICT', problem);
    if (known) return;
    if (message.type !== 'incident.report')
      throw new ProtocolError(
        'E_NOT_FOUND',
        `there is no incident ${incident} here: a message about an incident follows its report (type incident.report)`,
      );
    if (await store.holdsMessage(incident))
      throw new ProtocolError(
        'E_CONFLICT',
        `${incident} is the id of a message already: a new incident needs an id of its own (a fresh UUIDv7)`,
      );
  }

  /**
   * A held draft is checked again when it is decided: its incident may have moved on while it
   * waited (closed by a state change, retracted), and a draft that would now contradict it is
   * refused, so the officer rejects it rather than release it.
   */
  async #stillFits(row: DraftRow): Promise<void> {
    try {
      await this.#references(row.message);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      throw new ProtocolError(
        e.code,
        `draft ${row.id} can no longer be released: ${e.message}; reject it`,
      );
    }
  }

  /** Puts back in the queue drafts whose release a stopped node never committed. */
  async recover(before?: Date): Promise<void> {
    const requeued = await this.#drafts.requeueInterrupted(before);
    if (requeued)
      this.#parts.logger.warn(
        { drafts: requeued },
        'drafts interrupted mid-release are pending again',
      );
  }

  /**
   * A message from an operator: released at once unless the policy holds it (then a pending
   * draft), or released with `breakGlass` by an officer who states why it cannot wait.
   */
  async submit(
    by: Decider,
    to: string[],
    message: Draft,
    options: { template?: Template; breakGlass?: string; confirm?: Confirm } = {},
  ): Promise<Submitted> {
    if (message.approvals.length)
      throw new ProtocolError(
        'E_MALFORMED',
        'approvals are recorded by the node when an officer approves a draft, not given by its author',
      );
    for (const party of to) this.#parts.peers.pinned(party);
    // Withdrawing a report is an officer's act, whichever route the message takes.
    if (message.type === 'incident.retract') decidingRole(by, 'retract an incident');
    await this.#references(message);
    const rules = options.template?.preApproved ? [] : this.rulesFor(message);
    // A held draft is checked now as its release will check it, so an approval never meets a bad
    // body; a message released at once is checked by the release itself.
    if (rules.length) this.#node.check(message);
    if (options.breakGlass !== undefined && !rules.length)
      throw new ProtocolError(
        'E_MALFORMED',
        'this message needs no second approval: send it without breakGlass',
      );
    const now = this.#people.clock();
    const row: DraftRow = {
      id: uuidv7(),
      created_at: now.toISOString(),
      author: by.user,
      desk: message.author.desk,
      recipients: to,
      message,
      template: options.template?.id ?? null,
      rules,
      state: 'pending',
      decided_by: null,
      decided_at: null,
      note: null,
      break_glass: null,
      message_id: null,
      seq: null,
    };
    if (!rules.length) {
      const released = await this.#release(row, by, []);
      return { state: 'released', draft: null, ...released };
    }
    if (options.breakGlass !== undefined) {
      decidingRole(by, 'break glass');
      await options.confirm?.(viewOf(row));
      await this.#drafts.add({
        ...row,
        state: 'releasing',
        decided_by: by.user,
        decided_at: now.toISOString(),
      });
      await this.#audit(by, 'draft.submit', row, { rules, breakGlass: true });
      return this.#releaseClaimed(row, by, { breakGlass: options.breakGlass });
    }
    // Held, it waits for a person like a received message does: its timer fires at once (the
    // first desk of the ladder is told) and climbs the ladder at its precedence's deadlines.
    const { ackMinutes } = this.#parts.config.incidents.precedence[message.precedence];
    await this.#parts.store.transaction(async (tx) => {
      await this.#drafts.add(row, tx);
      await this.#parts.followups.add(
        [
          newFollowup({
            dir: 'held',
            party: this.#parts.config.party,
            id: row.id,
            incident: message.incident ?? null,
            type: message.type,
            precedence: message.precedence,
            status: message.status,
            desk: row.desk,
            started_at: row.created_at,
            deadline_at: new Date(now.getTime() + ackMinutes * MINUTE).toISOString(),
            next_at: now.getTime(),
          }),
        ],
        tx,
      );
    });
    await this.#audit(by, 'draft.submit', row, { rules });
    this.#parts.logger.info({ draft: row.id, rules }, 'draft held for a second officer');
    this.#parts.events.emit('draft', row.id, 'pending');
    this.#parts.events.emit('timers-due');
    return { state: 'pending', draft: row.id, rules };
  }

  async list(state: DraftState | undefined, limit: number): Promise<DraftView[]> {
    return (await this.#drafts.list(state, limit)).map(viewOf);
  }

  async get(id: string): Promise<DraftView> {
    return viewOf(await this.#load(id));
  }

  /**
   * A second officer approves: the draft is released and numbered now. `confirm` (the decider's
   * second factor) runs once every other check has passed, so a refused approval spends no
   * one-time code.
   */
  async approve(
    id: string,
    by: Decider,
    options: { desk?: string; note?: string; confirm?: Confirm } = {},
  ) {
    const { row, desk } = await this.#mayDecide(id, by, 'approve', options.desk);
    await this.#stillFits(row);
    await options.confirm?.(viewOf(row));
    const at = this.#people.clock().toISOString();
    if (!(await this.#drafts.claim(id, by.user, at, true))) throw await this.#whyNot(id, by);
    return this.#releaseClaimed(row, by, { desk, note: options.note ?? null, at });
  }

  /**
   * A second officer rejects: nothing is released, no seq is used. Rejecting takes the authority
   * approving does (a desk the officer staffs): a report nobody may release is not stopped by
   * someone who could not have released it.
   */
  async reject(id: string, by: Decider, note: string): Promise<DraftView> {
    const { row, desk } = await this.#mayDecide(id, by, 'reject', undefined);
    const at = this.#people.clock().toISOString();
    if (!(await this.#drafts.reject(id, by.user, at, note))) throw await this.#whyNot(id, by);
    await this.#decided(id, row.desk, by.user, at, 'rejected');
    await this.#audit(by, 'draft.reject', row, { note, desk });
    this.#parts.events.emit('draft', id, 'rejected');
    return this.get(id);
  }

  /**
   * Break-glass: an officer, the author included, releases a pending draft without the second
   * approval. Alarmed locally and recorded in the ledger and the audit trail.
   */
  async breakGlass(
    id: string,
    by: Decider,
    reason: string,
    options: { desk?: string; confirm?: Confirm } = {},
  ) {
    const { row, desk } = await this.#mayDecide(id, by, 'break-glass', options.desk);
    await this.#stillFits(row);
    await options.confirm?.(viewOf(row));
    const at = this.#people.clock().toISOString();
    if (!(await this.#drafts.claim(id, by.user, at, false))) throw await this.#whyNot(id, by);
    return this.#releaseClaimed(row, by, { desk, breakGlass: reason, at });
  }

  /**
   * Whether `by` may decide draft `id` (`verb`): an officer or admin, acting as a desk they staff
   * (`desk`, else their first), on a pending draft they did not write — break-glass excepted.
   * A refusal of the person (`E_FORBIDDEN`, `E_SELF_APPROVAL`) is recorded as a denied
   * `draft.<verb>`, as the authorization table records what it refuses.
   */
  async #mayDecide(
    id: string,
    by: Decider,
    verb: 'approve' | 'reject' | 'break-glass',
    desk: string | undefined,
  ): Promise<{ row: DraftRow; desk: string }> {
    const what = verb === 'break-glass' ? 'break glass' : verb;
    try {
      decidingRole(by, verb === 'break-glass' ? what : `${what} a draft`);
      const row = await this.#load(id);
      if (verb !== 'break-glass' && row.author === by.user)
        throw new ProtocolError(
          'E_SELF_APPROVAL',
          `"${by.user}" wrote draft ${id} and cannot ${verb} it: another officer must (or break glass with a reason)`,
        );
      if (row.state !== 'pending') throw await this.#whyNot(id, by);
      return { row, desk: await this.#people.roster.deskFor(by.user, desk, what) };
    } catch (e) {
      const code = e instanceof ProtocolError ? e.code : undefined;
      if (code === 'E_FORBIDDEN' || code === 'E_SELF_APPROVAL')
        await this.#people.trail.record({
          ...by.actor,
          action: `draft.${verb}`,
          target: id,
          outcome: 'denied',
          detail: { code, reason: (e as Error).message },
        });
      throw e;
    }
  }

  async #load(id: string): Promise<DraftRow> {
    const row = await this.#drafts.get(id);
    if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no draft ${id}`);
    return row;
  }

  async #whyNot(id: string, by: Decider): Promise<Error> {
    const row = await this.#load(id);
    if (row.state === 'pending' && row.author === by.user)
      return new ProtocolError('E_SELF_APPROVAL', `"${by.user}" wrote draft ${id}`);
    return new ProtocolError(
      'E_CONFLICT',
      `draft ${id} is ${row.state}${row.decided_by ? ` (by "${row.decided_by}" at ${row.decided_at})` : ''}`,
    );
  }

  /** The desk an approval is recorded under: the one asked for, else the first the person staffs. */
  #deskOf(by: Decider, desk: string | undefined): Promise<string> {
    return this.#people.roster.deskFor(by.user, desk, 'approve');
  }

  /** Releases a claimed draft with its approval, or gives it back to the queue on failure. */
  async #releaseClaimed(
    row: DraftRow,
    by: Decider,
    decision: { desk?: string; note?: string | null; breakGlass?: string; at?: string },
  ): Promise<Released & { draft: string; state: 'released' }> {
    const at = decision.at ?? this.#people.clock().toISOString();
    try {
      const desk = decision.desk ?? (await this.#deskOf(by, undefined));
      const approval = {
        desk,
        ...(this.#people.policy.disclosePersons ? { person: by.user } : {}),
        at,
        ...(decision.breakGlass !== undefined ? { breakGlass: true } : {}),
      };
      const released = await this.#release(row, by, [approval], decision);
      await this.#audit(
        by,
        decision.breakGlass !== undefined ? 'draft.break-glass' : 'draft.approve',
        row,
        {
          message: released.id,
          desk,
          ...(decision.note ? { note: decision.note } : {}),
          ...(decision.breakGlass !== undefined ? { reason: decision.breakGlass } : {}),
        },
      );
      await this.#parts.alarms.clearAbout([`draft/${row.id}`], 'released');
      this.#parts.events.emit('draft', row.id, 'released');
      return { state: 'released', draft: row.id, ...released };
    } catch (e) {
      await this.#drafts.unclaim(row.id);
      throw e;
    }
  }

  /** Numbers and releases a draft; with an approval, the draft row is marked in the same commit. */
  async #release(
    row: DraftRow,
    by: Decider,
    approvals: Body['approvals'],
    decision: { note?: string | null; breakGlass?: string } = {},
  ): Promise<Released> {
    const message = row.message;
    const to = row.recipients;
    const { policy } = this.#people;
    const body: Draft = {
      ...message,
      author: policy.disclosePersons ? { desk: row.desk, person: row.author } : { desk: row.desk },
      approvals,
    };
    const held = approvals.length > 0;
    const breakGlass = decision.breakGlass;
    const released = await this.#node.release(
      to,
      body,
      this.#people.clock(),
      held
        ? {
            leaves: (r, at) => [
              eventLeaf(breakGlass !== undefined ? 'break-glass' : 'approval', at, {
                draft: row.id,
                message: r.id,
                to,
                type: message.type,
                precedence: message.precedence,
                status: message.status,
                desk: approvals[0]?.desk ?? null,
                ...(breakGlass !== undefined
                  ? { reasonSha256: toHex(sha256(utf8(breakGlass))) }
                  : {}),
              }),
            ],
            write: async (tx, r) => {
              await this.#drafts.released(
                row.id,
                r.id,
                r.seq,
                { note: decision.note ?? null, breakGlass: breakGlass ?? null },
                tx,
              );
              const [approval] = approvals;
              if (approval)
                await this.#stopEscalation(row.id, approval.desk, by.user, approval.at, tx);
              if (breakGlass !== undefined)
                await this.#parts.store.raiseAlarm(
                  'break-glass',
                  null,
                  `"${by.user}" released ${message.precedence} ${message.type} ${r.id} to ${to.join(', ')} without a second approval: ${breakGlass}`,
                  tx,
                  { cause: r.id },
                );
            },
          }
        : undefined,
    );
    if (breakGlass !== undefined)
      this.#parts.logger.error(
        { alarm: 'break-glass', draft: row.id, message: released.id },
        'break-glass release',
      );
    await this.#people.trail.record({
      ...by.actor,
      action: 'message.release',
      target: released.id,
      detail: {
        to,
        desk: row.desk,
        type: message.type,
        precedence: message.precedence,
        status: message.status,
        ...(held ? { draft: row.id, author: row.author } : {}),
        ...(row.template ? { template: row.template } : {}),
      },
    });
    return released;
  }

  /** A decided draft's escalation stops: its timer, with who decided, from which desk, when. */
  async #stopEscalation(id: string, desk: string, user: string, at: string, q?: Executor) {
    await this.#parts.followups.update(
      'held',
      this.#parts.config.party,
      id,
      { next_at: null, acked_at: at, acked_desk: desk, acked_person: user },
      q,
    );
  }

  async #decided(id: string, desk: string, user: string, at: string, how: string) {
    await this.#stopEscalation(id, desk, user, at);
    await this.#parts.alarms.clearAbout([`draft/${id}`], how);
  }

  async #audit(by: Decider, action: AuditAction, row: DraftRow, detail: Record<string, unknown>) {
    const message = row.message;
    await this.#people.trail.record({
      ...by.actor,
      action,
      target: row.id,
      detail: {
        author: row.author,
        to: row.recipients,
        type: message.type,
        precedence: message.precedence,
        status: message.status,
        ...detail,
      },
    });
  }
}

function viewOf(row: DraftRow): DraftView {
  return {
    id: row.id,
    createdAt: row.created_at,
    author: row.author,
    desk: row.desk,
    to: row.recipients,
    message: row.message,
    template: row.template,
    rules: row.rules,
    state: row.state,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    note: row.note,
    breakGlass: row.break_glass,
    messageId: row.message_id,
    seq: row.seq,
  };
}
