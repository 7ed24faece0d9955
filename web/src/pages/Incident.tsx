/**
 * One incident as both sides see it: its state and how it got there, the other side's requests
 * (the owner accepts or declines; the other side asks), and the timeline of both sides' messages
 * with sent / received / acknowledged / answered times and who acted. A retraction stands above
 * everything it retracts; EXERCISE and TEST traffic carries its banner above and below. A
 * received message is acknowledged with one click (or Enter) and answered from here; ours that
 * wait for an acknowledgement can be re-raised with a reminder.
 */
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { INCIDENT_STATES, type IncidentState } from '../../../src/protocol/values.ts';
import type { IncidentDetail, TimelineEntry } from '../../../src/protocol/views.ts';
import { shortId } from '../alarm-items.ts';
import { ApiFailure, api } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, StatusBanner, Time, TlpBadge } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { incidentsApi } from '../incidents-api.ts';
import { Countdown } from './BoardIncidents.tsx';
import { IncidentExport } from './IncidentExport.tsx';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

export function IncidentPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const { live, me, refresh, lang } = useConsole();
  const [view, setView] = useState<IncidentDetail>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [to, setTo] = useState<IncidentState | ''>('');
  const [why, setWhy] = useState('');
  const [retractText, setRetractText] = useState('');
  const retractDialog = useRef<HTMLDialogElement>(null);
  const desk = me.desks[0];
  const officer = me.user.role !== 'operator';

  const load = useCallback(
    () =>
      incidentsApi.get(id).then(
        (v) => {
          setView(v);
          setError(undefined);
        },
        (e: unknown) => setError(describe(e)),
      ),
    [id],
  );
  useEffect(() => {
    void load();
  }, [load]);
  // Reloaded when the feed says this incident changed (a message, its state, an ack).
  const changed = live.changed;
  useEffect(() => {
    if (changed && (changed.incident === id || changed.incident === '*')) void load();
  }, [changed, id, load]);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setNotice(undefined);
    try {
      const answer = await what();
      // A closure of an actual incident waits for a second officer, as an incident.close does.
      const held = (answer as { state?: string } | undefined)?.state === 'pending';
      setNotice(held ? t('inc.held') : done);
      await Promise.all([load(), live.refresh(), refresh()]);
      return true;
    } catch (e) {
      setNotice(describe(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  if (error)
    return (
      <>
        <h1 tabIndex={-1}>{t('inc.title')}</h1>
        <p role="alert" className="error">
          {error}
        </p>
      </>
    );
  if (!view) return <p>{t('common.loading')}</p>;

  const retraction = view.timeline.find((m) => m.type === 'incident.retract');
  // Received messages of the incident nobody here has acknowledged yet, oldest first.
  const waiting = view.retracted
    ? []
    : view.timeline.filter(
        (m) => m.dir === 'in' && m.followup && !m.followup.acknowledged && !m.followup.retractedAt,
      );
  const firstWaiting = waiting[0];
  const rest = view.timeline.filter((m) => m !== retraction);

  const change = async (e: FormEvent) => {
    e.preventDefault();
    if (!to || !desk) return;
    const text = why.trim() || undefined;
    const ok = await act(
      () =>
        view.ours
          ? incidentsApi.setState(view.incident, desk, to, text)
          : incidentsApi.request(view.incident, desk, to, text),
      view.ours ? t('inc.stateChanged') : t('inc.requestSent'),
    );
    if (ok) {
      setTo('');
      setWhy('');
    }
  };

  return (
    <article className={`incident message-${view.precedence}`}>
      <StatusBanner status={view.status} />
      {view.retracted && (
        <div className="retracted-banner" role="alert" data-testid="retracted-banner">
          <strong>{t('inc.retractedBanner')}</strong>{' '}
          {t('inc.retractedAt', { desk: view.retracted.desk })} <Time iso={view.retracted.at} />
          {view.retracted.text && <p>{view.retracted.text}</p>}
        </div>
      )}
      <h1 tabIndex={-1}>
        <PrecedenceBadge body={view} /> {t('inc.title')}:{' '}
        {view.category ? <Code code={view.category} quiet /> : view.incident}
      </h1>
      <dl className="meta">
        <dt>{t('inc.state')}</dt>
        <dd data-testid="incident-state">
          <strong>{t(`inc.states.${view.state}`)}</strong>
        </dd>
        <dt>{t('inc.reportedBy')}</dt>
        <dd>
          <PartyName party={view.owner} /> · <Time iso={view.reportedAt} />
        </dd>
        <dt>{t('inc.updated')}</dt>
        <dd>
          <Time iso={view.updatedAt} />
        </dd>
        <dt>{t('inc.id')}</dt>
        <dd>
          <Link href={`/incident/${view.incident}/report`}>{t('hist.report.link')}</Link>{' '}
          <code>{view.incident}</code>
        </dd>
      </dl>
      {notice && (
        <p role="status" data-testid="incident-notice">
          {notice}
        </p>
      )}
      {!desk && <p className="error">{t('message.noDesk')}</p>}
      <IncidentExport incident={view.incident} />

      {retraction && (
        <section aria-labelledby="retraction-title" className="retraction">
          <h2 id="retraction-title">{t('inc.retraction')}</h2>
          <ol className="timeline">
            <Entry
              incident={view.incident}
              m={retraction}
              onAct={act}
              busy={busy}
              desk={desk}
              lang={lang}
            />
          </ol>
        </section>
      )}

      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">{t('inc.timeline')}</h2>
        <ol className="timeline" data-testid="timeline">
          {rest.map((m) => (
            <Entry
              incident={view.incident}
              key={`${m.dir}/${m.party}/${m.id}`}
              m={m}
              onAct={act}
              busy={busy}
              desk={desk}
              lang={lang}
              retracted={Boolean(view.retracted)}
            />
          ))}
        </ol>
      </section>

      <section aria-labelledby="state-title">
        <h2 id="state-title">{t('inc.stateTitle')}</h2>
        <p className="detail">{view.ours ? t('inc.weOwn') : t('inc.theyOwn')}</p>
        {view.history.length > 0 && (
          <ol className="history">
            {view.history.map((h) => (
              <li key={h.id}>
                <Time iso={h.at} /> <PartyName party={h.from} /> / {h.desk}:{' '}
                {t(`inc.kind.${h.kind}`, { to: t(`inc.states.${h.to}`) })}
                {h.decision && ` (${t(`inc.decision.${h.decision}`)})`}
              </li>
            ))}
          </ol>
        )}
        {view.pendingRequests.length > 0 && (
          <>
            <h3>{t('inc.pendingRequests')}</h3>
            <ul className="cards" data-testid="requests">
              {view.pendingRequests.map((r) => (
                <li key={r.id}>
                  <PartyName party={r.from} /> / {r.desk}:{' '}
                  {t('inc.kind.request', { to: t(`inc.states.${r.to}`) })} · <Time iso={r.at} />{' '}
                  {view.ours && desk && (
                    <>
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() =>
                          act(
                            () => incidentsApi.decide(view.incident, r.id, desk, 'accepted'),
                            t('inc.decided'),
                          )
                        }
                      >
                        {t('inc.accept')}
                      </button>{' '}
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() =>
                          act(
                            () => incidentsApi.decide(view.incident, r.id, desk, 'declined'),
                            t('inc.decided'),
                          )
                        }
                      >
                        {t('inc.decline')}
                      </button>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
        {view.state !== 'closed' && !view.retracted && desk && (
          <form onSubmit={change} className="state-form">
            <label>
              {view.ours ? t('inc.changeTo') : t('inc.requestTo')}
              <select
                value={to}
                onChange={(e) => setTo(e.target.value as IncidentState)}
                required
                name="state"
              >
                <option value="">{t('compose.choose')}</option>
                {INCIDENT_STATES.filter((s) => s !== view.state && s !== 'reported').map((s) => (
                  <option key={s} value={s}>
                    {t(`inc.states.${s}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('inc.why')}
              <input value={why} onChange={(e) => setWhy(e.target.value)} maxLength={2000} />
            </label>
            <button type="submit" disabled={busy || !to}>
              {view.ours ? t('inc.change') : t('inc.request')}
            </button>
          </form>
        )}
        {view.ours && !view.retracted && officer && desk && (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => retractDialog.current?.showModal()}
            >
              {t('inc.retract')}
            </button>
            <dialog ref={retractDialog} aria-labelledby="retract-title">
              <form
                method="dialog"
                onSubmit={async (e) => {
                  e.preventDefault();
                  retractDialog.current?.close();
                  await act(
                    () =>
                      incidentsApi.retract(view.incident, desk, retractText.trim() || undefined),
                    t('inc.retracted'),
                  );
                }}
              >
                <h2 id="retract-title">{t('inc.retractConfirm')}</h2>
                <p>{t('inc.retractExplain')}</p>
                <label>
                  {t('inc.retractReason')}
                  <input
                    value={retractText}
                    onChange={(e) => setRetractText(e.target.value)}
                    maxLength={2000}
                  />
                </label>
                <button type="submit" className="danger">
                  {t('inc.retract')}
                </button>{' '}
                <button type="button" onClick={() => retractDialog.current?.close()}>
                  {t('inc.cancel')}
                </button>
              </form>
            </dialog>
          </>
        )}
      </section>
      {firstWaiting && desk && (
        // As on the message page: acknowledging never needs a scroll, whatever the timeline's length.
        <div className="action-bar" data-testid="action-bar">
          <button
            type="button"
            className="primary"
            disabled={busy}
            data-testid="acknowledge"
            data-shortcut="ack"
            aria-keyshortcuts="Alt+A"
            onClick={() =>
              void act(
                () => incidentsApi.ack(firstWaiting.party, firstWaiting.id, desk),
                t('message.ackSent'),
              )
            }
          >
            {t('message.acknowledge')} #{shortId(firstWaiting.id)} <kbd>Alt+A</kbd>
          </button>
          {waiting.length > 1 && <span>{t('al.moreToAck', { count: waiting.length - 1 })}</span>}
        </div>
      )}
      <StatusBanner status={view.status} />
    </article>
  );
}

function Entry({
  m,
  onAct,
  busy,
  desk,
  lang,
  retracted = false,
  incident,
}: {
  incident: string;
  m: TimelineEntry;
  onAct: (what: () => Promise<unknown>, done: string) => Promise<boolean>;
  busy: boolean;
  desk: string | undefined;
  lang: string;
  retracted?: boolean;
}) {
  const { t } = useTranslation();
  const { status, words } = useConsole();
  const [reply, setReply] = useState('');
  const f = m.followup;
  const own = status?.party ?? '';
  const isRetraction = m.type === 'incident.retract';
  const needsAck = m.dir === 'in' && f && !f.acknowledged && !f.retractedAt && !retracted;
  const canRemind = m.dir === 'out' && f && !f.acknowledged && !f.retractedAt && !retracted;
  const href = `/message/${m.dir === 'in' ? m.party : own}/${m.id}`;

  const answer = async (e: FormEvent) => {
    e.preventDefault();
    if (!desk) return;
    const ok = await onAct(
      () =>
        api.send([m.party], {
          type: 'reply',
          inReplyTo: m.id,
          incident,
          precedence: m.precedence,
          status: m.status,
          tlp: m.tlp,
          codes: [],
          text: { lang, body: reply.trim() },
          translations: [],
          attachments: [],
          author: { desk },
          approvals: [],
        }),
      t('message.replySent'),
    );
    if (ok) setReply('');
  };

  return (
    <li
      className={`timeline-item ${m.dir}${isRetraction ? ' retraction-item' : ''}`}
      data-testid={`entry-${m.type}`}
      data-id={m.id}
    >
      {m.status !== 'actual' && (
        <div className={`status-tag status-${m.status}`}>{t(`statusBanner.${m.status}`)}</div>
      )}
      <h3>
        {isRetraction && <span className="retract-mark">{t('inc.retractMark')} </span>}
        <PrecedenceBadge body={m} />{' '}
        <Link href={href}>{t(`types.${m.type}`, { defaultValue: m.type })}</Link>{' '}
        <span className="detail">
          {m.dir === 'in' ? t('inc.fromThem') : t('inc.fromUs')} <PartyName party={m.from} /> /{' '}
          {m.desk}
        </span>{' '}
        <TlpBadge tlp={m.tlp} />
      </h3>
      {m.state && (
        <p>
          {t(m.state.request ? 'inc.kind.request' : 'inc.kind.change', {
            to: t(`inc.states.${m.state.to}`),
          })}
          {m.state.decision && ` (${t(`inc.decision.${m.state.decision}`)})`}
        </p>
      )}
      {m.text && (
        <blockquote lang={m.text.lang} className="entry-text">
          {m.text.body}
        </blockquote>
      )}
      {m.codes.length > 0 && (
        <ul className="codes">
          {m.codes.map((c) => (
            <li key={c}>
              <Code code={c} quiet />
            </li>
          ))}
        </ul>
      )}
      <dl className="meta times">
        <dt>{t('inc.times.sent')}</dt>
        <dd>
          <Time iso={m.sent} />
        </dd>
        <dt>{t('inc.times.received')}</dt>
        <dd>
          <Time iso={m.received} />
        </dd>
        {f && (
          <>
            <dt>{t('inc.times.acknowledged')}</dt>
            <dd data-testid="acknowledged">
              {f.acknowledged ? (
                <>
                  <Time iso={f.acknowledged.at} />{' '}
                  {t('inc.by', {
                    who: [f.acknowledged.desk, f.acknowledged.person].filter(Boolean).join(' / '),
                  })}
                </>
              ) : f.retractedAt ? (
                t('inc.noLongerNeeded')
              ) : (
                <>
                  {t('inc.notYet')} · <Countdown deadline={f.deadline} />
                  {f.unansweredAt && ` · ${t('inc.unanswered')}`}
                </>
              )}
            </dd>
            <dt>{t('inc.times.answered')}</dt>
            <dd data-testid="answered">{f.answered ? <Time iso={f.answered.at} /> : '—'}</dd>
            {f.reminders > 0 && (
              <>
                <dt>{t('inc.reminders')}</dt>
                <dd>{f.reminders}</dd>
              </>
            )}
          </>
        )}
      </dl>
      {m.escalations.length > 0 && (
        <details>
          <summary>{t('inc.escalations', { count: m.escalations.length })}</summary>
          <ul>
            {m.escalations.map((e) => (
              <li key={`${e.at}-${e.step}`}>
                <Time iso={e.at} />{' '}
                {e.final
                  ? t('inc.escalationFinal', { desk: words.desk(e.desk) })
                  : t('inc.escalationStep', {
                      step: e.step + 1,
                      desk: words.desk(e.desk),
                      user: e.user ?? t('inc.nobody'),
                    })}
              </li>
            ))}
          </ul>
        </details>
      )}
      {(needsAck || canRemind || m.dir === 'in') && desk && (
        <div className="entry-actions">
          {needsAck && (
            <button
              type="button"
              className="primary"
              disabled={busy}
              data-testid="incident-ack"
              onClick={() =>
                onAct(() => incidentsApi.ack(m.party, m.id, desk), t('message.ackSent'))
              }
            >
              {t('message.acknowledge')}
            </button>
          )}
          {canRemind && (
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                onAct(() => incidentsApi.remind(m.party, m.id, desk), t('inc.reminderSentShort'))
              }
            >
              {t('inc.remind')}
            </button>
          )}
          {m.dir === 'in' && !isRetraction && m.type !== 'ack' && (
            <form onSubmit={answer} className="entry-reply">
              <label>
                {t('message.replyLabel')}
                <textarea
                  value={reply}
                  onChange={(e) => setReply(e.target.value)}
                  rows={2}
                  required
                  data-testid="incident-reply"
                />
              </label>
              <button type="submit" disabled={busy || !reply.trim()}>
                {t('message.sendReply')}
              </button>
            </form>
          )}
        </div>
      )}
    </li>
  );
}
