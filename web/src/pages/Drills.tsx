/**
 * Drills and readiness: send a drill from the templates agreed in advance, see the last link test
 * each way (sent, and whether a person acknowledged it), and how fast people acknowledge tests and
 * drills on both sides, per precedence (docs/operators.md § Readiness).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PRECEDENCES } from '../../../src/protocol/values.ts';
import type { AckStats, Readiness, TemplateView } from '../../../src/protocol/views.ts';
import { ApiFailure, acknowledge } from '../api.ts';
import { PartyName, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { incidentsApi } from '../incidents-api.ts';
import { StatusTag } from './BoardIncidents.tsx';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function Drills() {
  const { t } = useTranslation();
  const { status, lang, me, inbox, outbox, navigate, refresh, live } = useConsole();
  const [templates, setTemplates] = useState<TemplateView[]>([]);
  const [readiness, setReadiness] = useState<Readiness>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [to, setTo] = useState('');
  const peers = status?.peers ?? [];
  const target = to || peers[0]?.party || '';
  const desk = me.desks[0];

  const load = useCallback(async () => {
    const [tpl, ready] = await Promise.all([incidentsApi.templates(), incidentsApi.readiness()]);
    setTemplates(tpl);
    setReadiness(ready);
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when messages change
  useEffect(() => {
    load().catch((e: unknown) => setNotice(describe(e)));
  }, [load, inbox.length, outbox.length]);

  const send = async (template: TemplateView) => {
    if (!desk || !target) return;
    setBusy(true);
    setNotice(undefined);
    try {
      const sent = await incidentsApi.sendTemplate(template.id, [target], desk);
      await Promise.all([refresh(), live.refresh()]);
      if (sent.state === 'pending') navigate(`/approvals/${sent.draft}`);
      else setNotice(t('inc.drills.sentNotice', { title: template.title[lang] ?? template.id }));
    } catch (e) {
      setNotice(describe(e));
    } finally {
      setBusy(false);
    }
  };

  // The last link test each way, and whether a person acknowledged it.
  const lastOut = (party: string) =>
    outbox
      .filter((m) => m.to === party && m.body.type === 'test')
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  const lastIn = (party: string) =>
    inbox
      .filter((m) => m.from === party && m.body.type === 'test')
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))[0];
  const ackOf = (id: string) =>
    [...inbox, ...outbox].find((m) => m.body.type === 'ack' && m.body.inReplyTo === id);

  return (
    <>
      <h1 tabIndex={-1}>{t('inc.drills.title')}</h1>
      {notice && <p role="status">{notice}</p>}

      <section aria-labelledby="drill-title">
        <h2 id="drill-title">{t('inc.drills.send')}</h2>
        <p className="detail">{t('inc.drills.explain')}</p>
        <label>
          {t('compose.to')}
          <select value={target} onChange={(e) => setTo(e.target.value)}>
            {peers.map((p) => (
              <option key={p.party} value={p.party}>
                {p.names[lang] ?? p.party}
              </option>
            ))}
          </select>
        </label>
        <ul className="cards">
          {templates.map((tpl) => (
            <li key={tpl.id} data-testid={`template-${tpl.id}`}>
              <strong>{tpl.title[lang] ?? tpl.title.en ?? tpl.id}</strong>{' '}
              <StatusTag status={tpl.status} />{' '}
              <span className="detail">
                {t(`types.${tpl.type}`, { defaultValue: tpl.type })} ·{' '}
                {tpl.needsApproval ? t('inc.drills.needsApproval') : t('inc.drills.preApproved')}
              </span>{' '}
              <button type="button" disabled={busy || !desk || !target} onClick={() => send(tpl)}>
                {t('inc.drills.sendThis')}
              </button>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="linktest-title">
        <h2 id="linktest-title">{t('inc.drills.linkTests')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('board.peer')}</th>
              <th scope="col">{t('inc.drills.lastSent')}</th>
              <th scope="col">{t('inc.drills.theirAck')}</th>
              <th scope="col">{t('inc.drills.lastReceived')}</th>
              <th scope="col">{t('inc.drills.ourAck')}</th>
            </tr>
          </thead>
          <tbody>
            {peers.map((p) => {
              const out = lastOut(p.party);
              const got = lastIn(p.party);
              const theirs = out && ackOf(out.id);
              const ours = got && ackOf(got.id);
              return (
                <tr key={p.party} data-testid={`linktest-${p.party}`}>
                  <th scope="row">
                    <PartyName party={p.party} />
                  </th>
                  <td>{out ? <Time iso={out.createdAt} /> : t('inc.drills.none')}</td>
                  <td>
                    {out ? (
                      theirs ? (
                        <Time iso={'receivedAt' in theirs ? theirs.receivedAt : null} />
                      ) : (
                        <strong className="error">{t('inc.notYet')}</strong>
                      )
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {got ? (
                      <Link href={`/message/${got.from}/${got.id}`}>
                        <Time iso={got.receivedAt} />
                      </Link>
                    ) : (
                      t('inc.drills.none')
                    )}
                  </td>
                  <td>
                    {got ? (
                      ours ? (
                        <Time iso={'createdAt' in ours ? ours.createdAt : null} />
                      ) : (
                        <button
                          type="button"
                          disabled={busy || !desk}
                          onClick={async () => {
                            setBusy(true);
                            try {
                              await acknowledge(got, desk as string);
                              await refresh();
                            } catch (e) {
                              setNotice(describe(e));
                            } finally {
                              setBusy(false);
                            }
                          }}
                        >
                          {t('message.acknowledge')}
                        </button>
                      )
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="readiness-title">
        <h2 id="readiness-title">{t('inc.drills.readiness')}</h2>
        <p className="detail">
          {t('inc.drills.readinessExplain', { last: readiness?.last ?? 20 })}
        </p>
        {readiness?.peers.map((p) => (
          <table key={p.party} data-testid={`readiness-${p.party}`}>
            <caption>
              <PartyName party={p.party} />
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('message.precedence')}</th>
                <th scope="col">{t('inc.drills.direction')}</th>
                <th scope="col">{t('inc.drills.count')}</th>
                <th scope="col">{t('inc.drills.acked')}</th>
                <th scope="col">{t('inc.drills.median')}</th>
                <th scope="col">{t('inc.drills.max')}</th>
              </tr>
            </thead>
            <tbody>
              {PRECEDENCES.flatMap((prec) =>
                (['sent', 'received'] as const).map((dir) => {
                  const s: AckStats = p[dir][prec];
                  return (
                    <tr key={`${prec}-${dir}`}>
                      <td>{t(`inc.precedence.${prec}`)}</td>
                      <td>{t(`inc.drills.${dir}`)}</td>
                      <td>{t('inc.drills.testsDrills', { tests: s.tests, drills: s.drills })}</td>
                      <td>
                        {s.acknowledged}
                        {s.unacknowledged > 0 && (
                          <span className="error">
                            {' '}
                            ({t('inc.drills.unacked', { count: s.unacknowledged })})
                          </span>
                        )}
                      </td>
                      <td>{duration(s.medianMs)}</td>
                      <td>{duration(s.maxMs)}</td>
                    </tr>
                  );
                }),
              )}
            </tbody>
          </table>
        ))}
      </section>
    </>
  );
}
