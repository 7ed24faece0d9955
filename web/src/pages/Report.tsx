/**
 * A printable incident report: the incident's state, both sides' timeline with every text each
 * message is held in (the author's words, the sender's translations, this side's local ones,
 * each labelled), each message's ledger leaf, and the signed ledger checkpoint that covers them.
 * The print stylesheet drops the console's frame; the report can also be downloaded as JSON, or
 * as the incident's CAP 1.2 alert.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { IncidentReport } from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, StatusBanner, Time, TlpBadge } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { download, historyApi } from '../history-api.ts';
import '../history.css';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

export function ReportPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const { status, lang } = useConsole();
  const [report, setReport] = useState<IncidentReport>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    historyApi.report(id).then(setReport, (e: unknown) => setError(describe(e)));
  }, [id]);

  if (error)
    return (
      <>
        <h1 tabIndex={-1}>{t('hist.report.title')}</h1>
        <p role="alert" className="error">
          {error}
        </p>
      </>
    );
  if (!report) return <p>{t('common.loading')}</p>;
  const { incident: view } = report;
  const partyName = (party: string) =>
    party === status?.party
      ? (status.names[lang] ?? party)
      : (status?.peers.find((p) => p.party === party)?.names[lang] ?? party);

  const cap = async () => {
    setNotice(undefined);
    try {
      const { xml } = await historyApi.cap(id);
      download(`incident-${id}.cap.xml`, 'application/cap+xml', xml);
    } catch (e) {
      setNotice(t('hist.report.capFailed', { error: describe(e) }));
    }
  };

  return (
    <article className="report" data-testid="incident-report">
      <div className="report-actions no-print">
        <Link href={`/incident/${id}`}>{t('hist.report.back')}</Link>
        <button type="button" onClick={() => window.print()}>
          {t('hist.report.print')}
        </button>
        <button
          type="button"
          onClick={() =>
            download(`incident-${id}.json`, 'application/json', JSON.stringify(report, null, 2))
          }
        >
          {t('hist.report.json')}
        </button>
        <button type="button" onClick={cap}>
          {t('hist.report.cap')}
        </button>
        {notice && (
          <p role="alert" className="error">
            {notice}
          </p>
        )}
      </div>
      <StatusBanner status={view.status} />
      <h1 tabIndex={-1}>
        {t('hist.report.title')}: <PrecedenceBadge body={view} />{' '}
        {view.category ? <Code code={view.category} quiet /> : view.incident}
      </h1>
      <dl className="meta">
        <dt>{t('inc.id')}</dt>
        <dd>
          <code>{view.incident}</code>
        </dd>
        <dt>{t('hist.report.owner')}</dt>
        <dd>
          <PartyName party={view.owner} /> · <Time iso={view.reportedAt} />
        </dd>
        <dt>{t('hist.report.state')}</dt>
        <dd data-testid="report-state">
          {view.retracted ? t('hist.retracted') : t(`inc.states.${view.state}`)}
        </dd>
        <dt>{t('hist.report.generated')}</dt>
        <dd>
          <PartyName party={report.party} /> · <Time iso={report.generatedAt} />
        </dd>
      </dl>
      <h2>{t('hist.report.timeline')}</h2>
      <ol className="report-timeline">
        {report.entries.map((e) => (
          <li key={`${e.dir}/${e.party}/${e.id}`} data-testid={`report-${e.id}`}>
            <h3>
              {t(`types.${e.type}`, { defaultValue: e.type })} · <PartyName party={e.from} /> (
              {e.desk}) <TlpBadge tlp={e.tlp} />
            </h3>
            <dl className="meta">
              <dt>{t('hist.report.sent')}</dt>
              <dd>
                <Time iso={e.sent} />
              </dd>
              <dt>{t('hist.report.received')}</dt>
              <dd>
                <Time iso={e.received} />
              </dd>
              {e.followup && (
                <>
                  <dt>{t('hist.report.acknowledged')}</dt>
                  <dd>
                    {e.followup.acknowledged ? (
                      <>
                        <Time iso={e.followup.acknowledged.at} />{' '}
                        {[e.followup.acknowledged.desk, e.followup.acknowledged.person]
                          .filter(Boolean)
                          .join(' · ')}
                      </>
                    ) : (
                      t('hist.report.notYet')
                    )}
                  </dd>
                </>
              )}
              <dt>{t('hist.message')}</dt>
              <dd>
                <code>{e.id}</code>{' '}
                {e.leafIndex !== null && t('hist.report.leaf', { index: e.leafIndex })}
              </dd>
            </dl>
            {e.texts.map((x) => (
              <figure
                key={`${x.by}/${x.lang}/${x.body.length}`}
                className={`report-text by-${x.by}`}
              >
                <figcaption>
                  {t(`lang.${x.lang}`, { defaultValue: x.lang })} ·{' '}
                  {t(`hist.translated.${x.by}`, { translator: x.translator })}
                </figcaption>
                <blockquote lang={x.lang}>{x.body}</blockquote>
              </figure>
            ))}
          </li>
        ))}
      </ol>
      <h2>{t('hist.report.checkpoint')}</h2>
      <p data-testid="report-covers">
        {report.checkpoint.covers
          ? t('hist.report.covers', {
              party: partyName(report.party),
              size: report.checkpoint.size,
            })
          : t('hist.report.notCovered')}
      </p>
      <pre className="checkpoint" data-testid="report-checkpoint">
        {report.checkpoint.note}
      </pre>
    </article>
  );
}
