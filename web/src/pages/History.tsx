/**
 * History and search: every message and incident, open or closed, found by words in any language
 * the message is held in, by party, precedence, status, category, direction, sent date and id.
 * Each hit shows the author's words and, when one exists, the text in the reader's language with
 * whose translation it is; it links to the message and to its incident with the incident's state.
 */
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PRECEDENCES, STATUSES } from '../../../src/protocol/values.ts';
import type { SearchHit } from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { historyApi, type SearchForm } from '../history-api.ts';
import '../history.css';

/** A date picked in the reader's zone as the instant its day starts or ends. */
function dayBound(day: string | undefined, end: boolean): string | undefined {
  if (!day) return undefined;
  const at = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00.000'}`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function History() {
  const { t } = useTranslation();
  const { lang, status, codes } = useConsole();
  const [form, setForm] = useState<SearchForm>({});
  const [hits, setHits] = useState<SearchHit[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const categories = [...codes.values()].filter((c) => c.code.startsWith('category.'));
  const set = (key: keyof SearchForm) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  const search = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const from = dayBound(form.from, false);
      const to = dayBound(form.to, true);
      const { from: _f, to: _t, ...rest } = form;
      setHits(
        await historyApi.search(
          { ...rest, ...(from ? { from } : {}), ...(to ? { to } : {}) },
          lang,
        ),
      );
    } catch (failure) {
      setError(
        failure instanceof ApiFailure ? `${failure.code}: ${failure.message}` : String(failure),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="history">
      <h1 tabIndex={-1}>{t('hist.title')}</h1>
      <p>{t('hist.explain')}</p>
      <search>
        <form className="history-form" onSubmit={search} aria-busy={busy}>
          <label className="wide">
            {t('hist.text')}
            <input type="search" name="q" value={form.q ?? ''} onChange={set('q')} />
          </label>
          <label>
            {t('hist.party')}
            <select name="party" value={form.party ?? ''} onChange={set('party')}>
              <option value="">{t('hist.any')}</option>
              {status?.peers.map((p) => (
                <option key={p.party} value={p.party}>
                  {p.names[lang] ?? p.party}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('hist.precedence')}
            <select name="precedence" value={form.precedence ?? ''} onChange={set('precedence')}>
              <option value="">{t('hist.any')}</option>
              {PRECEDENCES.map((p) => (
                <option key={p} value={p}>
                  {codes.get(`precedence.${p}`)?.text ?? p}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('hist.status')}
            <select name="status" value={form.status ?? ''} onChange={set('status')}>
              <option value="">{t('hist.any')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`hist.statuses.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('hist.category')}
            <select name="category" value={form.category ?? ''} onChange={set('category')}>
              <option value="">{t('hist.any')}</option>
              {categories.map((c) => (
                <option key={c.code} value={c.code}>
                  {c.text}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('hist.dir')}
            <select name="dir" value={form.dir ?? ''} onChange={set('dir')}>
              <option value="">{t('hist.any')}</option>
              <option value="in">{t('hist.dirs.in')}</option>
              <option value="out">{t('hist.dirs.out')}</option>
            </select>
          </label>
          <label>
            {t('hist.from')}
            <input type="date" name="from" value={form.from ?? ''} onChange={set('from')} />
          </label>
          <label>
            {t('hist.to')}
            <input type="date" name="to" value={form.to ?? ''} onChange={set('to')} />
          </label>
          <label>
            {t('hist.id')}
            <input name="id" value={form.id ?? ''} onChange={set('id')} spellCheck={false} />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              {t('hist.search')}
            </button>
            <button
              type="button"
              onClick={() => {
                setForm({});
                setHits(undefined);
              }}
            >
              {t('hist.clear')}
            </button>
          </div>
        </form>
      </search>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {hits && (
        <div aria-live="polite" data-testid="history-results">
          <p>{hits.length ? t('hist.results', { count: hits.length }) : t('hist.none')}</p>
          <ol className="history-hits">
            {hits.map((h) => (
              <Hit key={`${h.dir}/${h.party}/${h.id}`} hit={h} />
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

function Hit({ hit }: { hit: SearchHit }) {
  const { t } = useTranslation();
  const href = `/message/${hit.dir === 'in' ? hit.from : hit.party}/${hit.id}`;
  return (
    <li className={`history-hit message-${hit.precedence}`} data-testid={`hit-${hit.id}`}>
      <div className="hit-head">
        <PrecedenceBadge body={hit} />{' '}
        <span>
          {t(`hist.dirs.${hit.dir}`)} · <PartyName party={hit.party} />
        </span>{' '}
        {hit.status !== 'actual' && (
          <span className={`status-tag status-${hit.status}`}>
            {t(`hist.statuses.${hit.status}`)}
          </span>
        )}{' '}
        {hit.category && <Code code={hit.category} quiet />} <Time iso={hit.sent} />
      </div>
      {hit.text && (
        <p className="hit-text" lang={hit.text.lang}>
          {hit.text.body}
        </p>
      )}
      {hit.translation && (
        <p className="hit-translation" lang={hit.translation.lang} data-testid="hit-translation">
          {hit.translation.body}{' '}
          <span className="provenance">
            (
            {t(`hist.translated.${hit.translation.by}`, { translator: hit.translation.translator })}
            )
          </span>
        </p>
      )}
      <p className="hit-links">
        <Link href={href}>{t('hist.openMessage')}</Link>
        {hit.incident && (
          <>
            {' · '}
            <Link href={`/incident/${hit.incident}`}>
              {t('hist.incident')}{' '}
              <span data-testid="hit-incident-state">
                {hit.retracted
                  ? t('hist.retracted')
                  : hit.incidentState
                    ? t(`inc.states.${hit.incidentState}`)
                    : ''}
              </span>
            </Link>
            {' · '}
            <Link href={`/incident/${hit.incident}/report`}>{t('hist.report.link')}</Link>
          </>
        )}
      </p>
    </li>
  );
}
