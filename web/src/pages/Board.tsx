/**
 * The board: link health per peer and path, open alarms, received messages waiting for an answer
 * (most urgent first), and what we sent that still waits for an acknowledgement.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { awaitsPerson } from '../../../src/protocol/flows.ts';
import { RANK } from '../../../src/protocol/values.ts';
import type { InboxItem } from '../../../src/protocol/views.ts';
import { ALARMING } from '../alarm.ts';
import { alarmLine } from '../alarm-items.ts';
import { answersTo } from '../answers.ts';
import { ApiFailure, api } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, Time, TlpBadge, usePartyZones } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { formatIn, zonesToShow } from '../time.ts';
import { BoardIncidents } from './BoardIncidents.tsx';

/** Types that ask the other side for an answer, not only a receipt. */
const NEEDS_ANSWER = [
  'incident.report',
  'incident.update',
  'query',
  'reminder',
  'presence',
  'conference',
];

/**
 * A presence check or a conference time is answered rather than acknowledged, and an answer to
 * one (a presence answer, an accept, a decline) waits for nobody (src/protocol/flows.ts).
 */
const isFlow = (m: { body: { type: string } }) =>
  m.body.type === 'presence' || m.body.type === 'conference';

export function Board() {
  const { t } = useTranslation();
  const { status, inbox, outbox, alarms, me, silenced, silence, refresh, words, lang, live } =
    useConsole();
  const known = { inbox, outbox, drafts: live.drafts };
  const [error, setError] = useState<string>();

  // Waiting: a flash or immediate message nobody acknowledged, or one that asks for an answer
  // and has none yet.
  const waiting = inbox
    .filter((m) => {
      const { acks, replies } = answersTo(m.id, [], outbox);
      if (isFlow(m) && !awaitsPerson(m.body)) return false;
      const acked = acks.length > 0 || (isFlow(m) && replies.length > 0);
      return (
        (ALARMING.includes(m.body.precedence) && m.body.type !== 'ack' && !acked) ||
        (NEEDS_ANSWER.includes(m.body.type) && !replies.length && !(isFlow(m) && acked))
      );
    })
    .sort(
      (a, b) =>
        RANK[a.body.precedence] - RANK[b.body.precedence] ||
        b.receivedAt.localeCompare(a.receivedAt),
    );
  const unacked = outbox.filter((m) => {
    if (!ALARMING.includes(m.body.precedence) || m.body.type === 'ack') return false;
    if (isFlow(m) && !awaitsPerson(m.body)) return false;
    const { acks, replies } = answersTo(m.id, inbox, []);
    return !acks.length && !(isFlow(m) && replies.length);
  });

  const clear = async (id: number) => {
    setError(undefined);
    try {
      await api.clearAlarm(id);
      await refresh();
    } catch (e) {
      setError(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));
    }
  };
  const canClear = me.user.role !== 'operator';

  return (
    <>
      <h1 tabIndex={-1}>{t('board.title')}</h1>
      <BoardClock />
      <section aria-labelledby="links">
        <h2 id="links">{t('board.links')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('board.peer')}</th>
              <th scope="col">{t('board.path')}</th>
              <th scope="col">{t('board.state')}</th>
              <th scope="col">{t('board.rtt')}</th>
              <th scope="col">{t('board.lastHeartbeat')}</th>
              <th scope="col">{t('board.pending')}</th>
            </tr>
          </thead>
          <tbody>
            {status?.peers.flatMap((peer) =>
              (peer.paths.length ? peer.paths : [peer.path]).map((path) => (
                <tr
                  key={`${peer.party}/${path.path}`}
                  data-testid={`link-${peer.party}-${path.path}`}
                >
                  <th scope="row">
                    <PartyName party={peer.party} />
                  </th>
                  <td>
                    {path.path} ({path.kind})
                  </td>
                  <td>
                    <span className={`state state-${path.state}`}>{t(`link.${path.state}`)}</span>
                    {path.lastError && <span className="detail"> {path.lastError}</span>}
                  </td>
                  <td>{path.rttMs === null ? '—' : `${path.rttMs.toFixed(1)} ms`}</td>
                  <td>
                    <Time iso={path.lastHeartbeat} />
                  </td>
                  <td>{peer.outbox.pending}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
        {status && !status.peers.length && <p>{t('board.noPeers')}</p>}
      </section>

      <section aria-labelledby="alarms-title">
        <h2 id="alarms-title">{t('board.alarms')}</h2>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {alarms.length ? (
          <ul className="cards">
            {alarms.map((a) => (
              <li key={a.id} className="alarm-card">
                <span className="alarm-line">{alarmLine(words, a, known)}</span>{' '}
                <Time iso={a.last_at ?? a.at} />{' '}
                {/* The node's own sentence is English: shown to English readers only. */}
                {lang === 'en' && <small className="alarm-said">{a.message}</small>}{' '}
                {/* An alarm about a message ends with its acknowledgement, not by muting. */}
                {!silenced.has(a.id) && !a.ref && (
                  <button type="button" onClick={() => silence(a.id)}>
                    {t('alarm.silence')}
                  </button>
                )}
                {canClear && (
                  <button type="button" onClick={() => clear(a.id)}>
                    {t('alarm.clear')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('board.noAlarms')}</p>
        )}
      </section>

      <BoardIncidents />

      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title">{t('board.waiting')}</h2>
        {waiting.length ? <MessageTable items={waiting} /> : <p>{t('board.nothingWaiting')}</p>}
      </section>

      <section aria-labelledby="unacked-title">
        <h2 id="unacked-title">{t('board.unacked')}</h2>
        {unacked.length ? (
          <ul className="cards">
            {unacked.map((m) => (
              <li key={m.id}>
                <PrecedenceBadge body={m.body} />{' '}
                <Link href={`/message/${status?.party ?? ''}/${m.id}`}>
                  {m.body.text?.body.slice(0, 80) || m.id}
                </Link>{' '}
                → <PartyName party={m.to} />, <Time iso={m.createdAt} />
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('board.nothingUnacked')}</p>
        )}
      </section>
    </>
  );
}

export function MessageTable({ items }: { items: InboxItem[] }) {
  const { t } = useTranslation();
  const { outbox, words } = useConsole();
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('message.precedence')}</th>
          <th scope="col">{t('message.from')}</th>
          <th scope="col">{t('message.type')}</th>
          <th scope="col">{t('message.text')}</th>
          <th scope="col">{t('message.received')}</th>
          <th scope="col">{t('message.acknowledged')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((m) => {
          const { acks, replies } = answersTo(m.id, [], outbox);
          return (
            <tr key={`${m.from}/${m.id}`} className={`row-${m.body.precedence}`}>
              <td>
                <PrecedenceBadge body={m.body} /> <TlpBadge tlp={m.body.tlp} />
                {m.body.status !== 'actual' && (
                  <span className={`status-tag status-${m.body.status}`}>
                    {t(`statusTag.${m.body.status}`)}
                  </span>
                )}
              </td>
              <td>
                <PartyName party={m.from} /> / {words.desk(m.body.author.desk)}
              </td>
              <td>{t(`types.${m.body.type}`, { defaultValue: m.body.type })}</td>
              <td>
                <Link href={`/message/${m.from}/${m.id}`}>
                  {m.body.text?.body.slice(0, 120) ||
                    (m.body.codes[0] ? <Code code={m.body.codes[0]} quiet /> : m.id)}
                </Link>
              </td>
              <td>
                <Time iso={m.receivedAt} />
              </td>
              <td>
                {acks.length ? t('common.yes') : t('common.no')}
                {replies.length ? ` · ${t('message.answered')}` : ''}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The time now in UTC and on each side (and here, when here is elsewhere), to the minute. */
function BoardClock() {
  const { t } = useTranslation();
  const zones = zonesToShow(usePartyZones());
  const [now, setNow] = useState(() => new Date().toISOString());
  useEffect(() => {
    const every = setInterval(() => setNow(new Date().toISOString()), 15_000);
    return () => clearInterval(every);
  }, []);
  return (
    <p className="board-clock" data-testid="board-clock">
      <span>{`${now.slice(0, 10)} ${now.slice(11, 16)} UTC`}</span>
      {zones.map((z) => (
        <span key={z.zone}>
          {' · '}
          {z.name ?? t('common.here')} {formatIn(now, z.zone)}
        </span>
      ))}
    </p>
  );
}
