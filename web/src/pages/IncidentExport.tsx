/**
 * The incident page's export for a national authority: one button per reporting framework
 * (OECD, EU AI Act Art. 73), each downloading the JSON the node builds
 * (GET /api/v1/incidents/:incident/export). Officers and admins only, as the route is.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { FRAMEWORKS, type Framework } from '../../../src/protocol/frameworks.ts';
import { ApiFailure, call } from '../api.ts';
import { useConsole } from '../console.tsx';

export function IncidentExport({ incident }: { incident: string }) {
  const { t } = useTranslation();
  const { me, lang } = useConsole();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  if (me.user.role === 'operator') return null;

  const download = async (framework: Framework) => {
    setNotice(undefined);
    setError(undefined);
    try {
      const exported = await call<{ empty: string[] }>(
        'GET',
        `/api/v1/incidents/${encodeURIComponent(incident)}/export?format=${framework}&lang=${lang}`,
      );
      const file = `incident-${incident}-${framework}.json`;
      const url = URL.createObjectURL(
        new Blob([`${JSON.stringify(exported, null, 2)}\n`], { type: 'application/json' }),
      );
      const link = document.createElement('a');
      link.href = url;
      link.download = file;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setNotice(t('fw.export.done', { file, count: exported.empty.length }));
    } catch (e) {
      setError(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));
    }
  };

  return (
    <section aria-labelledby="export-title" data-testid="incident-export">
      <h2 id="export-title">{t('fw.export.title')}</h2>
      <p className="detail">{t('fw.export.explain')}</p>
      <p>
        {FRAMEWORKS.map((framework) => (
          <button
            key={framework}
            type="button"
            data-testid={`export-${framework}`}
            onClick={() => void download(framework)}
          >
            {t('fw.export.download', { framework: t(`fw.frameworks.${framework}`) })}
          </button>
        ))}
      </p>
      {notice && <p role="status">{notice}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
