/**
 * The board's incident sections: open incidents most urgent first with a live countdown to the
 * nearest deadline, drafts waiting for a second officer, and our messages the other side has
 * not acknowledged in time (with a reminder one click away). Kept live by the feed (see
 * incidents-live.ts).
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiFailure } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { incidentsApi } from '../incidents-api.ts';

/** Now, once a second, for countdowns. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "4:59 left" or "overdue by 0:12", ticking. */
export function Countdown({ deadline }: { deadline: string | null }) {
  const { t } = useTranslation();
  const now = useNow();
  if (!deadline) return <span>—</span>;
  const ms = Date.parse(deadline) - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const clock = `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
  return (
    <span
      className={`countdown${ms <= 0 ? ' overdue' : ms < 60_000 ? ' soon' : ''}`}
      data-testid="countdown"
    >
      {ms > 0 ? t('inc.countdown.left', { clock }) : t('inc.countdown.overdue', { clock })}
    </span>
  );
}

export function StatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  if (status === 'actual') return null;
  return <span className={`status-tag status-${status}`}>{t(`statusBanner.${status}`)}</span>;
}

export function BoardIncidents() {
  const { t } = useTranslation();
  const { live, me, refresh } = useConsole();
  const [notice, setNotice] = useState<string>();
  const desk = me.desks[0];
  const overdue = live.incidents.flatMap((i) =>
    i.awaiting
      .filter((a) => a.dir === 'out' && (a.overdue || a.unansweredAt))
      .map((a) => ({ ...a, incident: i })),
  );

  const remind = async (party: string, id: string) => {
    setNotice(undefined);
    try {
      const r = await incidentsApi.remind(party, id, desk as string);
      setNotice(t('inc.reminderSent', { count: r.number }));
      await Promise.all([live.refresh(), refresh()]);
    } catch (e) {
      setNotice(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));
    }
  };

  return (
    <>
      <section aria-labelledby="incidents-title" data-testid="board-incidents">
        <h2 id="incidents-title">{t('inc.board.incidents')}</h2>
        {live.incidents.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('message.precedence')}</th>
                <th scope="col">{t('inc.incident')}</th>
                <th scope="col">{t('inc.state')}</th>
                <th scope="col">{t('inc.reportedBy')}</th>
                <th scope="col">{t('inc.nextDeadline')}</th>
              </tr>
            </thead>
            <tbody>
              {live.incidents.map((i) => (
                <tr key={i.incident} className={`row-${i.precedence}`}>
                  <td>
                    <PrecedenceBadge body={i} /> <StatusTag status={i.status} />
                  </td>
                  <td>
                    <Link href={`/incident/${i.incident}`}>
                      {i.category ? <Code code={i.category} quiet /> : i.incident.slice(-12)}
                    </Link>
                    {i.pendingRequests > 0 && (
                      <span className="detail">
                        {' '}
                        · {t('inc.requestsPending', { count: i.pendingRequests })}
                      </span>
                    )}
                  </td>
                  <td>{t(`inc.states.${i.state}`)}</td>
                  <td>
                    <PartyName party={i.owner} /> · <Time iso={i.reportedAt} />
                  </td>
                  <td>
                    <Countdown deadline={i.nextDeadline} />
                    {i.awaiting[0] && (
                      <span className="detail">
                        {' '}
                        {i.awaiting[0].dir === 'in' ? t('inc.awaitingUs') : t('inc.awaitingThem')}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>{t('inc.board.noIncidents')}</p>
        )}
      </section>

      <section aria-labelledby="drafts-title" data-testid="board-drafts">
        <h2 id="drafts-title">{t('inc.board.approvals')}</h2>
        {live.drafts.length ? (
          <ul className="cards">
            {live.drafts.map((d) => (
              <li key={d.id}>
                <PrecedenceBadge body={d.message} /> <StatusTag status={d.message.status} />{' '}
                <Link href={`/approvals/${d.id}`}>
                  {t(`types.${d.message.type}`, { defaultValue: d.message.type })}
                  {d.message.text ? `: ${d.message.text.body.slice(0, 80)}` : ''}
                </Link>{' '}
                · {t('inc.draftBy', { author: d.author, desk: d.desk })} ·{' '}
                <Time iso={d.createdAt} />
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('inc.board.noApprovals')}</p>
        )}
      </section>

      <section aria-labelledby="unanswered-title" data-testid="board-unanswered">
        <h2 id="unanswered-title">{t('inc.board.unanswered')}</h2>
        {notice && <p role="status">{notice}</p>}
        {overdue.length ? (
          <ul className="cards">
            {overdue.map((a) => (
              <li key={`${a.party}/${a.id}`}>
                <PrecedenceBadge body={a.incident} />{' '}
                <Link href={`/incident/${a.incident.incident}`}>
                  {a.incident.category ? <Code code={a.incident.category} quiet /> : a.id}
                </Link>{' '}
                → <PartyName party={a.party} /> · <Countdown deadline={a.deadline} />{' '}
                <button type="button" disabled={!desk} onClick={() => remind(a.party, a.id)}>
                  {t('inc.remind')}
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('inc.board.noUnanswered')}</p>
        )}
      </section>
    </>
  );
}
