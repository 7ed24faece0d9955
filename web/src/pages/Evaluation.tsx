/**
 * An evaluation-result attachment as a reader sees it — system, suite, domain, metric, result
 * against threshold, evidence hashes, red-team findings — or the problems that make it invalid;
 * and the attachments a message cites (`ext.cites`). Labels in the reader's language; the
 * sender's own words (names, findings) as written.
 */
import { useTranslation } from 'react-i18next';
import type { AttachmentView, CitationView } from '../../../src/protocol/views.ts';

export function EvaluationCard({ view }: { view: NonNullable<AttachmentView['evaluation']> }) {
  const { t } = useTranslation();
  if ('problems' in view)
    return (
      <div className="evaluation" data-testid="evaluation">
        <strong>⚠ {t('fw.evaluation.invalid')}</strong>
        <ul>
          {view.problems.map((p) => (
            <li key={`${p.path}:${p.message}`}>
              <code>{p.path}</code> {p.message}
            </li>
          ))}
        </ul>
      </div>
    );
  const e = view.result;
  return (
    <div className="evaluation" data-testid="evaluation">
      <h3>{t('fw.evaluation.title')}</h3>
      <p className={e.crossed ? 'warn' : undefined} data-testid="evaluation-verdict">
        <strong>
          {t(`fw.evaluation.domains.${e.domain}`)}
          {e.domainOther ? ` (${e.domainOther})` : ''}:{' '}
          {e.crossed ? t('fw.evaluation.crossed') : t('fw.evaluation.notCrossed')}
        </strong>
      </p>
      <dl className="meta">
        <dt>{t('fw.evaluation.system')}</dt>
        <dd>
          {e.system.name} {e.system.version} · {e.system.developer}
        </dd>
        {e.system.hash && (
          <>
            <dt>{t('fw.evaluation.hash')}</dt>
            <dd>
              <code>{e.system.hash}</code>
            </dd>
          </>
        )}
        <dt>{t('fw.evaluation.suite')}</dt>
        <dd>
          {e.suite.name} {e.suite.version}
          {e.suite.protocol ? ` · ${e.suite.protocol}` : ''}
        </dd>
        <dt>{t('fw.evaluation.metric')}</dt>
        <dd>
          {e.metric.name}
          {e.metric.unit ? ` (${e.metric.unit})` : ''} ·{' '}
          {t('fw.evaluation.result', { result: e.result, threshold: e.threshold })} ·{' '}
          {t(`fw.evaluation.crossedWhen.${e.metric.crossedWhen}`)}
        </dd>
        <dt>{t('fw.evaluation.evaluatedAt')}</dt>
        <dd>{e.evaluatedAt}</dd>
        <dt>{t('fw.evaluation.evidence')}</dt>
        <dd>
          <ul>
            {e.evidence.map((x) => (
              <li key={x.sha256}>
                {x.description}: <code>{x.sha256}</code>
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t('fw.evaluation.redTeam')}</dt>
        <dd>
          {e.redTeam.length ? (
            <ul>
              {e.redTeam.map((f) => (
                <li key={f.finding}>
                  [{t(`fw.evaluation.severities.${f.severity}`)}
                  {f.mitigated === undefined
                    ? ''
                    : ` · ${f.mitigated ? t('fw.evaluation.mitigated') : t('fw.evaluation.notMitigated')}`}
                  ] {f.finding}
                </li>
              ))}
            </ul>
          ) : (
            t('fw.evaluation.noFindings')
          )}
        </dd>
      </dl>
      {e.notes && <p>{e.notes}</p>}
    </div>
  );
}

export function Citations({ citations }: { citations: readonly CitationView[] }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="citations-title" data-testid="citations">
      <h2 id="citations-title">{t('fw.citations.title')}</h2>
      <ul className="cards">
        {citations.map((c) => (
          <li key={`${c.from}/${c.message}/${c.sha256}`}>
            {t('fw.citations.attachment', {
              party: c.from,
              id: c.message,
              digest: c.sha256.slice(0, 16),
            })}
            {c.attachment?.evaluation ? (
              <EvaluationCard view={c.attachment.evaluation} />
            ) : c.attachment ? (
              ` · ${c.attachment.name}`
            ) : (
              <p className="warn">⚠ {c.problem ?? t('fw.citations.unresolved')}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
