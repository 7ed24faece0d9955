/**
 * While a report is composed: which criteria of each reporting framework (OECD, EU AI Act
 * Art. 73) it still leaves empty, so an officer fills what a national authority will ask for
 * before the incident is exported (src/protocol/frameworks.ts decides; this only lists).
 */
import { useTranslation } from 'react-i18next';
import type { Draft } from '../../../src/protocol/body.ts';
import { emptyCriteria, FRAMEWORKS } from '../../../src/protocol/frameworks.ts';

const key = (id: string) => id.replace(/\./g, '_');

export function FrameworkCriteria({ draft }: { draft: Draft }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="criteria-title" className="criteria" data-testid="criteria">
      <h3 id="criteria-title">{t('fw.compose.criteria')}</h3>
      <p className="detail">{t('fw.compose.criteriaExplain')}</p>
      {FRAMEWORKS.map((framework) => {
        const empty = emptyCriteria(framework, draft);
        const fillable = empty.filter((k) => k.field !== null);
        const notCarried = empty.filter((k) => k.field === null);
        const label = (id: string) => t(`fw.criteria.${framework}.${key(id)}`);
        return (
          <div key={framework} data-testid={`criteria-${framework}`}>
            <h4>{t(`fw.frameworks.${framework}`)}</h4>
            {fillable.length ? (
              <ul data-testid={`criteria-${framework}-empty`}>
                {fillable.map((k) => (
                  <li key={k.id} data-criterion={k.id}>
                    {label(k.id)}
                  </li>
                ))}
              </ul>
            ) : (
              <p>{t('fw.compose.allFilled')}</p>
            )}
            <p className="detail">
              {t('fw.compose.notCarried')} {notCarried.map((k) => label(k.id)).join(t('fw.list'))}
            </p>
          </div>
        );
      })}
    </section>
  );
}
