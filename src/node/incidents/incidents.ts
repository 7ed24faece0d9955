/**
 * An incident's state, derived from its messages in both directions — so both nodes, holding the
 * same messages, compute the same state. Pure: no store, no clock.
 *
 * The party that sent the first `incident.report` owns the state. Each change is an owner's
 * `state` message citing the change it follows (`state.previous`, null for the first); the chain
 * is followed from null, taking the smallest id (UUIDv7: the earliest) where two cite the same
 * change, so a change that cites a stale one is ignored by both sides alike. The other side sends
 * requests (`request: true`); the owner answers with `decision` (inReplyTo the request): an
 * accepted request is itself the change, a declined one changes nothing. `closed` is final. An
 * owner's `incident.retract` marks the incident withdrawn (a false alarm), shown above the rest.
 */
import type { Body } from '../../protocol/body.ts';
import { INCIDENT_STATES, type IncidentState, RANK } from '../../protocol/values.ts';
import type { IncidentView, StateEntry } from '../../protocol/views.ts';
import type { Store } from '../../store/store.ts';

export interface IncidentMessage {
  dir: 'in' | 'out';
  /** The peer: the sender of `in`, the recipient of `out`. */
  party: string;
  id: string;
  /** Received at (in) or released at (out), this node's clock. */
  at: string;
  /** Every recipient the message's header names (us among them for `in`), when known. */
  to?: readonly string[];
  body: Body;
}

/** The party that wrote a message. */
const fromOf = (m: IncidentMessage, me: string) => (m.dir === 'out' ? me : m.party);

/** One copy of each message (a message to several peers is one message). */
function unique(messages: readonly IncidentMessage[]): IncidentMessage[] {
  const seen = new Map<string, IncidentMessage>();
  for (const m of messages) if (!seen.has(m.id)) seen.set(m.id, m);
  return [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function deriveIncident(
  incident: string,
  me: string,
  all: readonly IncidentMessage[],
): IncidentView | undefined {
  const mine = all.filter((m) => m.body.incident === incident);
  const messages = unique(mine);
  const first = messages.find((m) => m.body.type === 'incident.report') ?? messages[0];
  if (!first) return undefined;
  const owner = fromOf(first, me);
  const byOwner = (m: IncidentMessage) => fromOf(m, me) === owner;
  const history: StateEntry[] = [];
  for (const m of messages) {
    const s = m.body.state;
    if (m.body.type !== 'state' || !s) continue;
    const from = fromOf(m, me);
    const kind: StateEntry['kind'] =
      s.decision !== undefined ? 'decision' : s.request ? 'request' : 'change';
    // A request from the owner, or a change or decision from the other side, is not valid.
    const valid = kind === 'request' ? from !== owner : from === owner;
    if (!valid) continue;
    history.push({
      id: m.id,
      from,
      desk: m.body.author.desk,
      at: m.at,
      kind,
      to: s.to,
      previous: s.previous,
      ...(s.decision ? { decision: s.decision } : {}),
      ...(kind === 'decision' && m.body.inReplyTo ? { request: m.body.inReplyTo } : {}),
      applied: false,
    });
  }
  // Follow the chain of changes from null.
  const candidates = history.filter(
    (e) => e.kind === 'change' || (e.kind === 'decision' && e.decision === 'accepted'),
  );
  let state: IncidentState = 'reported';
  let head: string | null = null;
  for (;;) {
    if (state === 'closed') break;
    const next = candidates.find((e) => e.previous === head && !e.applied);
    if (!next) break;
    next.applied = true;
    state = next.to;
    head = next.id;
  }
  const close = messages.find((m) => m.body.type === 'incident.close' && byOwner(m));
  if (close) state = 'closed';
  const decided = new Set(history.filter((e) => e.kind === 'decision').map((e) => e.request));
  const pendingRequests =
    state === 'closed'
      ? []
      : history.filter((e) => e.kind === 'request' && !decided.has(e.id) && e.to !== state);
  const retract = messages.find((m) => m.body.type === 'incident.retract' && byOwner(m));
  const report = messages.find((m) => m.body.report)?.body.report;
  const precedence = messages
    .map((m) => m.body.precedence)
    .reduce((a, b) => (RANK[b] < RANK[a] ? b : a), first.body.precedence);
  return {
    incident,
    owner,
    ours: owner === me,
    // Everyone the incident's messages went between: the senders and all the recipients they
    // named, so each participant addresses the same parties (and no one else).
    peers: [...new Set(mine.flatMap((m) => [m.party, ...(m.to ?? [])]))]
      .filter((p) => p !== me)
      .sort(),
    state,
    head,
    precedence,
    status: first.body.status,
    category: report?.category ?? null,
    nature: report?.nature ?? null,
    reportedAt: first.at,
    updatedAt:
      messages
        .map((m) => m.at)
        .sort()
        .at(-1) ?? first.at,
    retracted: retract
      ? {
          id: retract.id,
          at: retract.at,
          desk: retract.body.author.desk,
          text: retract.body.text?.body ?? null,
        }
      : null,
    pendingRequests,
    history,
  };
}

/** Acts only the incident's owner sends: the peer ignores them from the other side. */
const OWNERS_ACTS: ReadonlySet<Body['type']> = new Set([
  'incident.update',
  'incident.close',
  'incident.retract',
]);

/** Acts a closed incident takes no more: closed is final. */
const CLOSED_ACTS: ReadonlySet<Body['type']> = new Set([
  'incident.update',
  'incident.close',
  'state',
]);

/**
 * Why this node may not send `body` about an incident it knows, or undefined: a report of an
 * incident reported already; an owner's act (update, close, retraction, a state change or
 * decision) from the side that does not own it, or a request for a change from the side that
 * does; a status other than the incident's (an exercise message in an actual incident); an
 * update, closure or state message once it is closed, a second retraction; a state change that
 * follows another than the latest, or to the state it is in; a request for the state it is in or
 * one requested already and undecided; a decision on no undecided request. Both nodes would
 * ignore or contradict such a message; it is refused at release instead (`E_CONFLICT`).
 */
export function incidentActProblem(
  view: IncidentView | undefined,
  body: Pick<Body, 'type' | 'state' | 'status' | 'inReplyTo'>,
): string | undefined {
  if (!view) return undefined;
  const { incident, owner, ours } = view;
  if (body.type === 'incident.report')
    return `incident ${incident} was reported already (by "${owner}"): send an incident.update`;
  const request = body.type === 'state' && body.state?.request === true;
  // A change or a decision on a request is the owner's; a request is the other side's.
  const ownersAct = OWNERS_ACTS.has(body.type) || (body.type === 'state' && !request);
  if (ownersAct && !ours)
    return `"${owner}" reported incident ${incident} and owns it: send a request for a change instead (hotline incident --request)`;
  if (request && ours)
    return `this node reported incident ${incident} and owns its state: change it (hotline incident --set) rather than request it`;
  if (body.status !== view.status)
    return `incident ${incident} has status "${view.status}": a message about it has that status too, not "${body.status}"`;
  if (view.state === 'closed' && CLOSED_ACTS.has(body.type))
    return `incident ${incident} is closed, and closed is final: no update, closure or state change follows`;
  if (body.type === 'incident.retract' && view.retracted)
    return `incident ${incident} was retracted at ${view.retracted.at}`;
  return body.state && stateProblem(view, body.state, body.inReplyTo);
}

/** Why a state message does not fit the incident as it stands (see `incidentActProblem`). */
function stateProblem(
  view: IncidentView,
  state: NonNullable<Body['state']>,
  inReplyTo: string | undefined,
): string | undefined {
  const { incident } = view;
  if (state.request) {
    if (state.to === view.state) return `the incident is already ${state.to}`;
    const asked = view.pendingRequests.find((r) => r.to === state.to);
    return asked
      ? `"${asked.from}" requested ${state.to} already (request ${asked.id} at ${asked.at}) and "${view.owner}" has not decided it yet`
      : undefined;
  }
  if (state.decision !== undefined) {
    const asked = view.pendingRequests.find((r) => r.id === inReplyTo);
    if (!asked) return `there is no undecided request ${inReplyTo} in incident ${incident}`;
    if (asked.to !== state.to)
      return `request ${asked.id} asks for ${asked.to}: its decision names that state, not ${state.to}`;
    if (state.decision === 'declined') return undefined;
  }
  if (state.previous !== view.head)
    return `incident ${incident} was last changed by ${view.head ?? 'its report'}: a state change follows that one (state.previous), not ${state.previous ?? 'the report'}`;
  return transitionProblem(view.state, state.to);
}

/** Whether `to` may follow `from` as an owner's change: any other state, none after closed. */
export function transitionProblem(from: IncidentState, to: IncidentState): string | undefined {
  if (from === 'closed') return 'the incident is closed: no further state changes';
  if (from === to) return `the incident is already ${to}`;
  if (!INCIDENT_STATES.includes(to)) return `"${to}" is not an incident state`;
  return undefined;
}

/** An incident as this node holds it: its messages in both directions, and its derived view. */
export async function loadIncident(
  store: Store,
  party: string,
  incident: string,
): Promise<{ view: IncidentView; messages: IncidentMessage[] } | undefined> {
  // A message to several peers is one row here, naming every recipient in `to`.
  const messages = await store.incidentMessages(incident);
  const view = deriveIncident(incident, party, messages);
  return view && { view, messages };
}
