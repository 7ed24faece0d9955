/**
 * The record: this node's ledger, the peer's checkpoints it has witnessed, our checkpoints the
 * peer co-signed, vocabulary agreement, fork and equivocation alarms, and (for admins) the audit
 * trail checked against its anchors in the ledger.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TrailReport } from '../../../src/protocol/views.ts';
import { ApiFailure, api } from '../api.ts';
import { PartyName, Time } from '../components.tsx';
import { useConsole } from '../console.tsx';

const LEDGER_ALARMS = new Set(['fork', 'equivocation', 'bad-proof', 'inconsistent']);

export function Record() {
  const { t } = useTranslation();
  const { status, alarms, me } = useConsole();
  const [report, setReport] = useState<TrailReport>();
  const [error, setError] = useState<string>();
  const forks = alarms.filter((a) => LEDGER_ALARMS.has(a.type) || a.type.includes('fork'));

  const verify = async () => {
    setError(undefined);
    try {
      setReport(await api.auditVerify());
    } catch (e) {
      setError(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>{t('record.title')}</h1>
      <section aria-labelledby="ledger-title">
        <h2 id="ledger-title">{t('record.ledger')}</h2>
        <p data-testid="ledger-size">{t('record.size', { count: status?.ledger.size ?? 0 })}</p>
      </section>
      <section aria-labelledby="witness-title">
        <h2 id="witness-title">{t('record.witness')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('board.peer')}</th>
              <th scope="col">{t('record.witnessed')}</th>
              <th scope="col">{t('record.cosigned')}</th>
              <th scope="col">{t('record.vocabulary')}</th>
            </tr>
          </thead>
          <tbody>
            {status?.peers.map((p) => (
              <tr key={p.party}>
                <th scope="row">
                  <PartyName party={p.party} />
                </th>
                <td>
                  {p.witness.witnessed ? (
                    <>
                      {t('record.checkpoint', { size: p.witness.witnessed.size })}{' '}
                      <Time iso={p.witness.witnessed.at} />
                    </>
                  ) : (
                    t('record.none')
                  )}
                </td>
                <td>
                  {p.witness.cosigned ? (
                    <>
                      {t('record.checkpoint', { size: p.witness.cosigned.size })}{' '}
                      <Time iso={p.witness.cosigned.at} />
                    </>
                  ) : (
                    t('record.none')
                  )}
                </td>
                <td>
                  {p.vocabulary.same
                    ? t('record.sameVocabulary', { version: p.vocabulary.ours.version })
                    : (p.vocabulary.warning ?? t('record.otherVocabulary'))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="forks-title">
        <h2 id="forks-title">{t('record.forks')}</h2>
        {forks.length ? (
          <ul className="cards">
            {forks.map((a) => (
              <li key={a.id} className="alarm-card">
                <strong>{a.type}</strong> {a.message} <Time iso={a.at} />
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('record.noForks')}</p>
        )}
      </section>
      <section aria-labelledby="audit-title">
        <h2 id="audit-title">{t('record.audit')}</h2>
        {me.user.role === 'admin' ? (
          <>
            <button type="button" onClick={verify}>
              {t('record.verify')}
            </button>
            {error && (
              <p role="alert" className="error">
                {error}
              </p>
            )}
            {report && (
              <p role="status">
                {report.ok ? t('record.auditOk') : t('record.auditBad')} ·{' '}
                {t('record.pending', { count: report.pending })} ·{' '}
                {t('record.problems', { count: report.problems.length })}
              </p>
            )}
          </>
        ) : (
          <p>{t('record.adminsOnly')}</p>
        )}
      </section>
    </>
  );
}
