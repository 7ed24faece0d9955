/**
 * Presence checks and conference calls (docs/console.md § Presence and calls): ask whether a desk
 * of the other side is staffed now and read who answered, from which desk and when on both
 * clocks; answer a check as the person on the desk asked for; request a call at up to three
 * times, accept, decline or propose another, and see the agreed call with its countdown and who
 * will join. Everything shown is what the node derives from the messages (src/protocol/flows.ts),
 * so both consoles agree.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type {
  ConferenceItem,
  FlowActor,
  PresenceItem,
  Proposal,
} from '../../../src/protocol/flows.ts';
import { PRECEDENCES, STATUSES } from '../../../src/protocol/values.ts';
import { ApiFailure } from '../api.ts';
import { PrecedenceBadge, StatusBanner, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { flowsApi, fromLocalInput, span } from '../flows-api.ts';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

/** A party's name in the reader's language, as text. */
function usePartyName(): (party: string) => string {
  const { status, lang } = useConsole();
  return (party) =>
    party === status?.party
      ? (status.names[lang] ?? party)
      : (status?.peers.find((p) => p.party === party)?.names[lang] ?? party);
}

function useWho(): (a: FlowActor) => string {
  const { t } = useTranslation();
  const name = usePartyName();
  return (a) =>
    a.person
      ? t('flow.whoPerson', { party: name(a.party), desk: a.desk, person: a.person })
      : t('flow.who', { party: name(a.party), desk: a.desk });
}

/** The two answers to a presence check, for a person on the desk asked for. */
export function PresenceButtons(props: {
  party: string;
  id: string;
  desk: string;
  onDone?: (notice: string) => void;
}) {
  const { t } = useTranslation();
  const { me, refresh } = useConsole();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();
  if (!me.desks.includes(props.desk))
    return <p className="warn">{t('flow.presence.notYourDesk', { desk: props.desk })}</p>;
  const answer = async (a: 'present' | 'unavailable') => {
    setBusy(true);
    try {
      await flowsApi.answer(props.party, props.id, a);
      const done = t('flow.presence.answered', { answer: t(`flow.presence.${a}`) });
      setNotice(done);
      props.onDone?.(done);
      await refresh();
    } catch (e) {
      setNotice(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="presence-buttons">
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={() => answer('present')}
        data-testid="presence-here"
        data-shortcut="ack"
        aria-keyshortcuts="Alt+A"
      >
        {t('flow.presence.iAmHere')}
      </button>{' '}
      <button
        type="button"
        disabled={busy}
        onClick={() => answer('unavailable')}
        data-testid="presence-unavailable"
      >
        {t('flow.presence.iAmUnavailable')}
      </button>{' '}
      {notice && <span role="status">{notice}</span>}
    </span>
  );
}

export function Flows() {
  const { t } = useTranslation();
  const { inbox, outbox } = useConsole();
  const [presence, setPresence] = useState<PresenceItem[]>([]);
  const [calls, setCalls] = useState<ConferenceItem[]>([]);
  const [error, setError] = useState<string>();
  const [now, setNow] = useState(Date.now());
  const load = useCallback(async () => {
    const [p, c] = await Promise.all([flowsApi.presence(), flowsApi.conferences()]);
    setPresence(p);
    setCalls(c);
  }, []);
  // Messages arriving or receipted change the flows: look again.
  const receipted = outbox.filter((m) => m.peerReceivedAt).length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when messages change
  useEffect(() => {
    load().then(
      () => setError(undefined),
      (e: unknown) => setError(describe(e)),
    );
  }, [load, inbox.length, outbox.length, receipted]);
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  return (
    <>
      <h1 tabIndex={-1}>{t('flow.title')}</h1>
      <p>{t('flow.explain')}</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section aria-labelledby="presence-title">
        <h2 id="presence-title">{t('flow.presence.title')}</h2>
        <AskPresence onSent={load} />
        {presence.length === 0 && <p>{t('flow.presence.none')}</p>}
        <ul className="cards" data-testid="presence-list">
          {presence.map((c) => (
            <PresenceCard key={`${c.dir}-${c.party}-${c.id}`} c={c} now={now} onDone={load} />
          ))}
        </ul>
      </section>
      <section aria-labelledby="conference-title">
        <h2 id="conference-title">{t('flow.conference.title')}</h2>
        <RequestConference onSent={load} />
        {calls.length === 0 && <p>{t('flow.conference.none')}</p>}
        <ul className="cards" data-testid="conference-list">
          {calls.map((c) => (
            <ConferenceCard key={`${c.dir}-${c.party}-${c.id}`} c={c} now={now} onDone={load} />
          ))}
        </ul>
      </section>
    </>
  );
}

/** To, precedence, status and words: what both forms ask. */
function useCommon() {
  const { status, codes, lang } = useConsole();
  const peers = status?.peers ?? [];
  const [to, setTo] = useState('');
  const [precedence, setPrecedence] = useState('immediate');
  const [state, setState] = useState('actual');
  const [text, setText] = useState('');
  return {
    to: to || peers[0]?.party || '',
    precedence,
    status: state,
    text,
    reset: () => setText(''),
    fields: (prefix: string, t: (k: string) => string) => (
      <>
        <label>
          {t('flow.to')}
          <select name={`${prefix}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
            {peers.map((p) => (
              <option key={p.party} value={p.party}>
                {p.names[lang] ?? p.party}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('flow.precedence')}
          <select
            name={`${prefix}-precedence`}
            value={precedence}
            onChange={(e) => setPrecedence(e.target.value)}
          >
            {PRECEDENCES.map((p) => (
              <option key={p} value={p}>
                {codes.get(`precedence.${p}`)?.text ?? p}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('flow.status')}
          <select
            name={`${prefix}-status`}
            value={state}
            onChange={(e) => setState(e.target.value)}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`flow.statuses.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('flow.text')}
          <textarea
            name={`${prefix}-text`}
            value={text}
            rows={2}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
      </>
    ),
  };
}

function AskPresence({ onSent }: { onSent: () => Promise<void> }) {
  const { t } = useTranslation();
  const { me, lang, refresh } = useConsole();
  const common = useCommon();
  const [asked, setAsked] = useState('principal');
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const desk = me.desks[0];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!desk || !common.to) return;
    setBusy(true);
    try {
      const sent = await flowsApi.ask(common.to, asked, {
        desk,
        precedence: common.precedence,
        status: common.status,
        ...(common.text.trim() ? { text: common.text.trim(), lang } : {}),
      });
      setNotice(sent.state === 'pending' ? t('flow.presence.held') : t('flow.presence.asked'));
      common.reset();
      await Promise.all([refresh(), onSent()]);
    } catch (err) {
      setNotice(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="section-form" onSubmit={submit} data-testid="ask-presence">
      {common.fields('presence', t)}
      <label>
        {t('flow.desk')}
        <input
          name="asked"
          value={asked}
          onChange={(e) => setAsked(e.target.value)}
          pattern="[a-z0-9]+([.\-][a-z0-9]+)*"
          required
        />
      </label>
      <button type="submit" disabled={busy || !desk || !common.to}>
        {t('flow.presence.ask')}
      </button>{' '}
      {notice && <span role="status">{notice}</span>}
    </form>
  );
}

function PresenceCard({ c, now, onDone }: { c: PresenceItem; now: number; onDone: () => void }) {
  const { t } = useTranslation();
  const name = usePartyName();
  const f = c.followup;
  const late = f?.unansweredAt || f?.exhaustedAt || (f && Date.parse(f.deadline) <= now);
  return (
    <li
      className="card"
      data-testid={`presence-${c.id}`}
      data-state={c.answer?.answer ?? 'waiting'}
    >
      <StatusBanner status={c.status} />
      <h3>
        <PrecedenceBadge body={c} />{' '}
        {t(c.dir === 'out' ? 'flow.presence.out' : 'flow.presence.in', {
          party: name(c.party),
          desk: c.desk,
        })}
      </h3>
      {c.text && <p>{c.text}</p>}
      <dl className="meta">
        <dt>{t('flow.presence.sentAt')}</dt>
        <dd>
          <Time iso={c.asked.sent} />
        </dd>
        {f && !c.answer && (
          <>
            <dt>{t('flow.presence.deadline')}</dt>
            <dd>
              <Time iso={f.deadline} />
            </dd>
          </>
        )}
      </dl>
      {c.answer ? (
        <>
          <p className={`presence-answer answer-${c.answer.answer}`} data-testid="presence-answer">
            <strong>
              {t('flow.presence.answer', {
                answer: t(`flow.presence.${c.answer.answer}`),
                person: c.answer.person ?? t('flow.presence.desk'),
                party: name(c.answer.party),
                desk: c.answer.desk,
              })}
            </strong>
          </p>
          <dl className="meta">
            <dt>
              {t(c.dir === 'out' ? 'flow.presence.theirClock' : 'flow.presence.ourAnswerClock')}
            </dt>
            <dd data-testid="answer-sent">
              <Time iso={c.answer.sent} />
            </dd>
            <dt>{t(c.dir === 'out' ? 'flow.presence.ourClock' : 'flow.presence.theirReceipt')}</dt>
            <dd data-testid="answer-received">
              <Time iso={c.answer.received} />
            </dd>
          </dl>
        </>
      ) : (
        <p className={late ? 'warn' : undefined} data-testid="presence-waiting">
          {late ? t('flow.presence.overdue') : t('flow.presence.waiting')}{' '}
          {c.dir === 'in' && f && f.fired > 0 && f.desk !== null && (
            <span>
              {t('flow.presence.escalated', {
                desk: f.desk,
                step: Math.min(f.step + 1, 99),
              })}
            </span>
          )}
        </p>
      )}
      {c.dir === 'in' && !c.answer && (
        <PresenceButtons party={c.party} id={c.id} desk={c.desk} onDone={() => void onDone()} />
      )}{' '}
      <Link href={`/message/${c.party}/${c.id}`}>{t('flow.presence.openMessage')}</Link>
    </li>
  );
}

const TIMES = 3;

function RequestConference({ onSent }: { onSent: () => Promise<void> }) {
  const { t } = useTranslation();
  const { me, lang, refresh } = useConsole();
  const common = useCommon();
  const [times, setTimes] = useState<string[]>(Array(TIMES).fill(''));
  const [minutes, setMinutes] = useState('30');
  const [medium, setMedium] = useState('');
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const desk = me.desks[0];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const at = times.flatMap((v) => fromLocalInput(v) ?? []);
    if (!desk || !common.to || !at.length) return;
    setBusy(true);
    try {
      const sent = await flowsApi.request(
        common.to,
        at,
        {
          ...(Number(minutes) > 0 ? { minutes: Number(minutes) } : {}),
          ...(medium.trim() ? { medium: medium.trim() } : {}),
        },
        {
          desk,
          precedence: common.precedence,
          status: common.status,
          ...(common.text.trim() ? { text: common.text.trim(), lang } : {}),
        },
      );
      setNotice(
        sent.state === 'pending' ? t('flow.conference.held') : t('flow.conference.requested'),
      );
      common.reset();
      setTimes(Array(TIMES).fill(''));
      await Promise.all([refresh(), onSent()]);
    } catch (err) {
      setNotice(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="section-form" onSubmit={submit} data-testid="request-conference">
      {common.fields('conference', t)}
      <fieldset>
        <legend>{t('flow.conference.times')}</legend>
        {times.map((v, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list of three inputs
          <label key={i}>
            {t('flow.conference.time', { n: i + 1 })}
            <input
              type="datetime-local"
              name={`time-${i}`}
              value={v}
              required={i === 0}
              onChange={(e) => setTimes(times.map((x, j) => (j === i ? e.target.value : x)))}
            />
          </label>
        ))}
      </fieldset>
      <label>
        {t('flow.conference.minutes')}
        <input
          type="number"
          name="minutes"
          min={1}
          max={1440}
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
        />
      </label>
      <label>
        {t('flow.conference.medium')}
        <input name="medium" value={medium} onChange={(e) => setMedium(e.target.value)} />
      </label>
      <button type="submit" disabled={busy || !desk || !common.to}>
        {t('flow.conference.send')}
      </button>{' '}
      {notice && <span role="status">{notice}</span>}
    </form>
  );
}

function ConferenceCard({
  c,
  now,
  onDone,
}: {
  c: ConferenceItem;
  now: number;
  onDone: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const { status, me, refresh } = useConsole();
  const name = usePartyName();
  const who = useWho();
  const [other, setOther] = useState('');
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const desk = me.desks[0];
  const own = status?.party ?? '';
  const respond = async (answer: {
    action: 'accept' | 'decline' | 'propose';
    proposal?: string;
    at?: string;
  }) => {
    if (!desk) return;
    setBusy(true);
    try {
      await flowsApi.respond(c.party, c.id, { desk, ...answer });
      setNotice(t('flow.conference.sent'));
      setOther('');
      await Promise.all([refresh(), onDone()]);
    } catch (e) {
      setNotice(describe(e));
    } finally {
      setBusy(false);
    }
  };
  const canAccept = (p: Proposal) =>
    c.state === 'proposed' && p.state === 'open' && p.party !== own;
  const agreed = c.agreed;
  const left = agreed ? Date.parse(agreed.at) - now : 0;
  return (
    <li className="card" data-testid={`conference-${c.id}`} data-state={c.state}>
      <StatusBanner status={c.status} />
      <h3>
        <PrecedenceBadge body={c} />{' '}
        {t(c.dir === 'out' ? 'flow.conference.out' : 'flow.conference.in', {
          party: name(c.party),
        })}{' '}
        — <span data-testid="conference-state">{t(`flow.conference.states.${c.state}`)}</span>
      </h3>
      {agreed && (
        <section className="agreed-call" data-testid="agreed-call">
          <h4>{t('flow.conference.agreed')}</h4>
          <p>
            <span data-testid="agreed-at">
              <Time iso={agreed.at} />
            </span>{' '}
            <strong data-testid="countdown">
              {left > 0
                ? t('flow.conference.startsIn', { left: span(left) })
                : t('flow.conference.started', { ago: span(left) })}
            </strong>
          </p>
          <p>
            {[
              agreed.minutes ? t('flow.conference.minutesLong', { count: agreed.minutes }) : '',
              agreed.medium ?? '',
            ]
              .filter(Boolean)
              .join(' · ')}
          </p>
          <p>{t('flow.conference.acceptedBy', { who: who(agreed.acceptedBy) })}</p>
          <h5>{t('flow.conference.joining')}</h5>
          <ul data-testid="joining">
            {c.joining.map((j) => (
              <li key={`${j.party}-${j.desk}-${j.person ?? ''}`}>{who(j)}</li>
            ))}
          </ul>
        </section>
      )}
      {c.declined && (
        <p className="warn" data-testid="declined">
          {t(c.declined.cancelled ? 'flow.conference.cancelledBy' : 'flow.conference.declinedBy', {
            who: who(c.declined),
          })}{' '}
          <Time iso={c.declined.sent} />
        </p>
      )}
      <ol className="proposals">
        {c.proposals.map((p) => (
          <li key={p.id} data-testid={`proposal-${p.id}`} data-state={p.state}>
            <span data-testid="proposal-at">
              <Time iso={p.at} />
            </span>{' '}
            {[
              p.minutes ? t('flow.conference.minutesLong', { count: p.minutes }) : '',
              p.medium ?? '',
              t('flow.conference.proposedBy', { who: who(p) }),
              t(`flow.conference.proposalStates.${p.state}`),
            ]
              .filter(Boolean)
              .join(' · ')}{' '}
            {canAccept(p) && (
              <button
                type="button"
                className="primary"
                disabled={busy || !desk}
                onClick={() => respond({ action: 'accept', proposal: p.id })}
                data-testid="accept"
              >
                {t('flow.conference.accept')}
              </button>
            )}
          </li>
        ))}
      </ol>
      {/* One answers what the other party sent: nothing to answer in a request of ours alone. */}
      {c.state !== 'declined' && c.entries.some((e) => e.party !== own) && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const at = fromLocalInput(other);
            if (at) void respond({ action: 'propose', at });
          }}
        >
          <label>
            {t('flow.conference.proposeOther')}
            <input
              type="datetime-local"
              name="other-time"
              value={other}
              required
              onChange={(e) => setOther(e.target.value)}
            />
          </label>{' '}
          <button type="submit" disabled={busy || !desk} data-testid="propose">
            {t('flow.conference.propose')}
          </button>{' '}
          <button
            type="button"
            disabled={busy || !desk}
            onClick={() => respond({ action: 'decline' })}
            data-testid="decline"
          >
            {c.state === 'agreed' ? t('flow.conference.cancel') : t('flow.conference.decline')}
          </button>
        </form>
      )}
      {notice && <p role="status">{notice}</p>}
    </li>
  );
}
