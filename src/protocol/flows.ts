/**
 * Presence checks and conference requests as flows (docs/operators.md § Presence checks and
 * conferences): what both nodes derive from the `presence` and `conference` bodies they hold. No
 * format of its own and no Node imports: the node answers its API from these functions and the
 * console takes the types, so both sides of the channel, given the same messages, show the same
 * answer and the same agreed time.
 *
 * Presence: a check `{ desk }` is answered by a `presence` body citing it (`inReplyTo`) with
 * `answer` present or unavailable, written on the desk asked for. The first answer from the
 * other party (smallest id) counts.
 *
 * Conference: a `request` proposes one time (`at`, `minutes`, `medium`); every later message of
 * the thread cites one before it. A `propose` adds a time (the requester's further choices, or a
 * counter-proposal), `accept` agrees to a time the other party proposed, `decline` ends the
 * request (or cancels the agreed call). Messages are taken parents first, then by id (UUIDv7), so
 * concurrent answers resolve the same way on both sides: the first valid accept wins.
 */
import type { Body } from './body.ts';
import { NO_ACK, type Precedence, type Status } from './values.ts';
import type { FollowupView } from './views.ts';

/**
 * Whether a message waits for a person (an acknowledgement deadline, escalation): every type but
 * those of NO_ACK, and not the answer to a presence check nor the accept or decline of a
 * conference — they are answers, and nobody answers an answer.
 */
export function awaitsPerson(body: Pick<Body, 'type' | 'presence' | 'conference'>): boolean {
  if (NO_ACK.has(body.type)) return false;
  if (body.type === 'presence') return body.presence?.answer === undefined;
  if (body.type === 'conference')
    return body.conference?.action === 'request' || body.conference?.action === 'propose';
  return true;
}

/** Whether a body is a presence check (not an answer to one). */
export function isPresenceCheck(body: Pick<Body, 'type' | 'presence'>): boolean {
  return body.type === 'presence' && body.presence?.answer === undefined;
}

/** A presence or conference message as a flow sees it, from this node's side. */
export interface FlowMessage {
  dir: 'in' | 'out';
  /** The other party: the sender of a received message, the recipient of a sent one. */
  party: string;
  /** The author party. */
  from: string;
  id: string;
  /** The time the author's node put in the header (its clock). */
  sent: string;
  /** When the receiving node stored it (its clock, from its receipt), or null if not yet. */
  received: string | null;
  body: Body;
}

/** Who wrote a message: party, desk and (when the author's policy discloses it) person. */
export interface FlowActor {
  party: string;
  desk: string;
  person: string | null;
}

/** A message of a flow: who, and when on both sides' clocks. */
export interface FlowStep extends FlowActor {
  id: string;
  sent: string;
  received: string | null;
}

export interface PresenceCheckView {
  id: string;
  dir: 'in' | 'out';
  /** The other party. */
  party: string;
  /** The desk asked for. */
  desk: string;
  asked: FlowStep;
  precedence: Precedence;
  status: Status;
  incident: string | null;
  text: string | null;
  answer: (FlowStep & { answer: 'present' | 'unavailable' }) | null;
}

const actorOf = (m: FlowMessage): FlowActor => ({
  party: m.from,
  desk: m.body.author.desk,
  person: m.body.author.person ?? null,
});
const stepOf = (m: FlowMessage): FlowStep => ({
  ...actorOf(m),
  id: m.id,
  sent: m.sent,
  received: m.received,
});
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Every presence check among `messages`, newest first, each with its first answer. */
export function presenceChecks(messages: readonly FlowMessage[]): PresenceCheckView[] {
  const checks = messages.filter((m) => isPresenceCheck(m.body));
  const answers = messages
    .filter((m) => m.body.type === 'presence' && m.body.presence?.answer && m.body.inReplyTo)
    .sort(byId);
  return checks
    .map((c): PresenceCheckView => {
      const reply = answers.find(
        (a) => a.body.inReplyTo === c.id && a.party === c.party && a.from !== c.from,
      );
      const answer = reply?.body.presence?.answer;
      return {
        id: c.id,
        dir: c.dir,
        party: c.party,
        desk: c.body.presence?.desk ?? '',
        asked: stepOf(c),
        precedence: c.body.precedence,
        status: c.body.status,
        incident: c.body.incident ?? null,
        text: c.body.text?.body ?? null,
        answer: reply && answer ? { ...stepOf(reply), answer } : null,
      };
    })
    .sort((a, b) => byId(b, a));
}

export type ProposalState = 'open' | 'accepted' | 'superseded' | 'declined';

/** A time proposed for the call. */
export interface Proposal extends FlowStep {
  at: string;
  minutes: number | null;
  medium: string | null;
  state: ProposalState;
}

export type ConferenceAction = 'request' | 'accept' | 'decline' | 'propose';

/** One message of a conference thread, and whether it changed anything. */
export interface ConferenceEntry extends FlowStep {
  action: ConferenceAction;
  at: string | null;
  /** The message it answers. */
  cites: string | null;
  text: string | null;
  /** False when the rules above ignore it (a late accept, one's own time accepted). */
  counted: boolean;
}

export type ConferenceState = 'proposed' | 'agreed' | 'declined';

export interface ConferenceView {
  /** The request's id. */
  id: string;
  dir: 'in' | 'out';
  /** The other party. */
  party: string;
  state: ConferenceState;
  precedence: Precedence;
  status: Status;
  incident: string | null;
  requested: FlowStep;
  proposals: Proposal[];
  /** The agreed call: the time accepted and by whom. */
  agreed: {
    proposal: string;
    at: string;
    minutes: number | null;
    medium: string | null;
    acceptedBy: FlowStep;
  } | null;
  /** Once agreed: the proposer of the time and whoever accepted it. */
  joining: FlowActor[];
  /** Who declined (or cancelled the agreed call), and whether a call had been agreed. */
  declined: (FlowStep & { cancelled: boolean }) | null;
  entries: ConferenceEntry[];
}

/** Messages of one thread at most: a thread longer than this is cut (its newest ignored). */
export const MAX_THREAD = 200;

/** Every conference among `messages`, by request, newest first (docs/operators.md). */
export function conferences(messages: readonly FlowMessage[]): ConferenceView[] {
  const ofType = messages.filter((m) => m.body.type === 'conference' && m.body.conference);
  const out: ConferenceView[] = [];
  for (const root of ofType.filter((m) => m.body.conference?.action === 'request'))
    out.push(conferenceOf(root, ofType));
  return out.sort((a, b) => byId(b, a));
}

/** The thread of `root` with the other party, parents first, then by id. */
function threadOf(root: FlowMessage, all: readonly FlowMessage[]): FlowMessage[] {
  const mine = all
    .filter((m) => m.party === root.party && m.id !== root.id && m.body.inReplyTo)
    .sort(byId);
  const taken = [root];
  const inThread = new Set([root.id]);
  // Each pass takes the first message (by id) whose parent is taken; bounded by MAX_THREAD.
  while (taken.length < MAX_THREAD) {
    const next = mine.find((m) => !inThread.has(m.id) && inThread.has(m.body.inReplyTo ?? ''));
    if (!next) break;
    taken.push(next);
    inThread.add(next.id);
  }
  return taken;
}

function conferenceOf(root: FlowMessage, all: readonly FlowMessage[]): ConferenceView {
  const view: ConferenceView = {
    id: root.id,
    dir: root.dir,
    party: root.party,
    state: 'proposed',
    precedence: root.body.precedence,
    status: root.body.status,
    incident: root.body.incident ?? null,
    requested: stepOf(root),
    proposals: [],
    agreed: null,
    joining: [],
    declined: null,
    entries: [],
  };
  let minutes: number | null = null;
  let medium: string | null = null;
  for (const m of threadOf(root, all)) {
    const c = m.body.conference as NonNullable<Body['conference']>;
    let counted = false;
    if (c.action === 'request' || c.action === 'propose') {
      minutes = c.minutes ?? minutes;
      medium = c.medium ?? medium;
      if (view.state !== 'declined' && c.at) {
        // A new time after the agreement reopens the question (the call is being moved).
        if (view.state === 'agreed') {
          for (const p of view.proposals) if (p.state === 'accepted') p.state = 'superseded';
          view.state = 'proposed';
          view.agreed = null;
          view.joining = [];
        }
        view.proposals.push({ ...stepOf(m), at: c.at, minutes, medium, state: 'open' });
        counted = true;
      }
    } else if (c.action === 'accept') {
      const target = view.proposals.find((p) => p.id === m.body.inReplyTo);
      if (view.state === 'proposed' && target?.state === 'open' && target.party !== m.from) {
        for (const p of view.proposals) if (p.state === 'open') p.state = 'superseded';
        target.state = 'accepted';
        view.state = 'agreed';
        view.agreed = {
          proposal: target.id,
          at: target.at,
          minutes: target.minutes,
          medium: target.medium,
          acceptedBy: stepOf(m),
        };
        view.joining = [
          { party: target.party, desk: target.desk, person: target.person },
          actorOf(m),
        ];
        counted = true;
      }
    } else if (view.state !== 'declined') {
      view.declined = { ...stepOf(m), cancelled: view.state === 'agreed' };
      for (const p of view.proposals) if (p.state === 'open') p.state = 'declined';
      view.state = 'declined';
      view.agreed = null;
      view.joining = [];
      counted = true;
    }
    view.entries.push({
      ...stepOf(m),
      action: c.action,
      at: c.at ?? null,
      cites: m.body.inReplyTo ?? null,
      text: m.body.text?.body ?? null,
      counted,
    });
  }
  return view;
}

/** The open proposals a party may accept: those of the other party. */
export function acceptable(view: ConferenceView, party: string): Proposal[] {
  return view.state === 'proposed'
    ? view.proposals.filter((p) => p.state === 'open' && p.party !== party)
    : [];
}

// What the operator API answers: GET /api/v1/presence, GET /api/v1/conferences

/** A presence check with its deadline and escalation (this side's follow-up). */
export interface PresenceItem extends PresenceCheckView {
  followup: FollowupView | null;
}

/** A conference with the follow-ups of its proposals (deadlines, escalation, who saw them). */
export interface ConferenceItem extends ConferenceView {
  followups: FollowupView[];
}
