/**
 * The approvals queue (the two-person rule, docs/operators.md): messages the policy holds until
 * an officer other than the author approves them (or rejects them, with a note). When no second
 * officer can be reached, an officer may break the glass: release it alone, stating why, after a
 * confirmation — the peer sees that nobody approved it, and an alarm stays here until reviewed.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Draft } from '../../../src/protocol/body.ts';
import type { DraftView, RenderedCode } from '../../../src/protocol/views.ts';
import { ApiFailure, api } from '../api.ts';
import {
  Code,
  PartyName,
  PrecedenceBadge,
  StatusBanner,
  StepUpField,
  Time,
  TlpBadge,
} from '../components.tsx';
import { useConsole } from '../console.tsx';
import { factorsApi } from '../factors.ts';
import { incidentsApi } from '../incidents-api.ts';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

export function Approvals({ held }: { held?: string | undefined }) {
  const { t } = useTranslation();
  const { live, me } = useConsole();
  const mine = held
    ? live.drafts.find((d) => d.id === held && d.author === me.user.name)
    : undefined;
  const authored = live.recentDrafts.filter((d) => d.author === me.user.name).slice(0, 10);
  const heldOther = held && live.drafts.some((d) => d.id === held && d.author !== me.user.name);
  // A decided draft leaves the queue, so what became of it is said here, not on its card.
  const [done, setDone] = useState<string>();
  // The queue as it was before this page opened may not hold the draft just submitted: say what
  // became of it only once the queue has been read afresh.
  const [fresh, setFresh] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: once on opening, the feed does the rest
  useEffect(() => {
    void live
      .refresh()
      .catch(() => undefined)
      .finally(() => setFresh(true));
  }, []);
  return (
    <>
      <h1 tabIndex={-1}>{t('inc.approvals.title')}</h1>
      <p className="detail">{t('inc.approvals.explain')}</p>
      {held && !heldOther && (mine || fresh) && (
        <p role="status" className="held-notice" data-testid="held-notice">
          {mine ? t('inc.approvals.heldYours') : t('inc.approvals.heldGone')}
        </p>
      )}
      {done && (
        <p role="status" className="done" data-testid="approvals-done">
          {done}
        </p>
      )}
      {live.drafts.length ? (
        <ul className="drafts">
          {live.drafts.map((d) => (
            <DraftCard key={d.id} d={d} highlight={d.id === held} onDone={setDone} />
          ))}
        </ul>
      ) : (
        <p>{t('inc.approvals.empty')}</p>
      )}
      <h2>{t('inc.approvals.mine')}</h2>
      {authored.length ? (
        <ul className="my-drafts" data-testid="my-drafts">
          {authored.map((d) => (
            <li key={d.id} data-testid={`my-draft-${d.id}`}>
              <PrecedenceBadge body={d.message} />{' '}
              {t(`types.${d.message.type}`, { defaultValue: d.message.type })} →{' '}
              {d.to.map((p, i) => (
                <span key={p}>
                  {i > 0 && ', '}
                  <PartyName party={p} />
                </span>
              ))}{' '}
              · <Time iso={d.createdAt} />
              <p className={`draft-state draft-${d.state}`} data-testid="draft-state">
                {stateOf(d, t)}
              </p>
            </li>
          ))}
        </ul>
      ) : (
        <p>{t('inc.approvals.mineEmpty')}</p>
      )}
    </>
  );
}

/** What became of a draft, as its author reads it: held, approved by whom, rejected, released. */
function stateOf(d: DraftView, t: (key: string, options?: Record<string, unknown>) => string) {
  const seq = d.seq ? Object.values(d.seq).join(', ') : '—';
  const by = d.decidedBy ?? '—';
  switch (d.state) {
    case 'pending':
      return t('inc.approvals.stateHeld');
    case 'releasing':
      return t('inc.approvals.stateReleasing');
    case 'rejected':
      return t('inc.approvals.stateRejected', { by, note: d.note ?? '' });
    case 'released':
      if (d.breakGlass)
        return t('inc.approvals.stateBrokeGlass', { by, seq, reason: d.breakGlass });
      return d.note
        ? t('inc.approvals.stateApprovedNote', { by, seq, note: d.note })
        : t('inc.approvals.stateApproved', { by, seq });
  }
}

function DraftCard({
  d,
  highlight,
  onDone,
}: {
  d: DraftView;
  highlight: boolean;
  onDone: (text: string) => void;
}) {
  const { t } = useTranslation();
  const { me, live, refresh, codes, lang } = useConsole();
  const other = lang === 'zh' ? 'en' : 'zh';
  const preview = useVocabulary(other);
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  /** The second factor asked again before approving a flash message or breaking glass. */
  const [stepCode, setStepCode] = useState('');
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const officer = me.user.role !== 'operator';
  const own = d.author === me.user.name;
  const m = d.message;

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await what();
      onDone(done);
      await Promise.all([live.refresh(), refresh()]);
    } catch (e) {
      // E_SELF_APPROVAL, E_CONFLICT…: the node's own sentence.
      setFailure(describe(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li
      className={`draft-card${highlight ? ' highlight' : ''}`}
      data-testid={`draft-${d.id}`}
      aria-labelledby={`draft-${d.id}-title`}
    >
      <StatusBanner status={m.status} />
      <h2 id={`draft-${d.id}-title`}>
        <PrecedenceBadge body={m} /> {t(`types.${m.type}`, { defaultValue: m.type })}{' '}
        <TlpBadge tlp={m.tlp} />
      </h2>
      <dl className="meta">
        <dt>{t('inc.approvals.author')}</dt>
        <dd>
          {d.author} / {d.desk} · <Time iso={d.createdAt} />
        </dd>
        <dt>{t('message.to')}</dt>
        <dd>
          {d.to.map((p, i) => (
            <span key={p}>
              {i > 0 && ', '}
              <PartyName party={p} />
            </span>
          ))}
        </dd>
        <dt>{t('message.status')}</dt>
        <dd>
          <Code code={`status.${m.status}`} quiet />
        </dd>
        {d.template && (
          <>
            <dt>{t('inc.approvals.template')}</dt>
            <dd>{d.template}</dd>
          </>
        )}
        {m.incident && (
          <>
            <dt>{t('message.incident')}</dt>
            <dd>
              <code>{m.incident}</code>
            </dd>
          </>
        )}
        {m.inReplyTo && (
          <>
            <dt>{t('message.inReplyTo')}</dt>
            <dd>
              <code>{m.inReplyTo}</code>
            </dd>
          </>
        )}
      </dl>
      <WholeMessage m={m} vocabulary={codes} lang={lang} testId="draft-fields" />
      <div className="preview" data-testid="draft-preview">
        <h3>{t('compose.preview', { lang: t(`lang.${other}`) })}</h3>
        <WholeMessage m={m} vocabulary={preview} lang={other} />
      </div>
      {failure && (
        <p role="alert" className="error" data-testid="draft-error">
          {failure}
        </p>
      )}
      {!officer && <p className="detail">{t('inc.approvals.officersOnly')}</p>}
      {officer && own && <p className="detail">{t('inc.approvals.ownDraft')}</p>}
      {officer && (
        <div className="draft-actions">
          <label>
            {t('inc.approvals.note')}
            <input
              value={note}
              onChange={(e) => setNote(e.target.value)}
              maxLength={1000}
              data-testid="draft-note"
            />
          </label>
          {m.precedence === 'flash' && <StepUpField value={stepCode} onChange={setStepCode} />}
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              act(
                async () =>
                  incidentsApi.approve(
                    d.id,
                    note.trim() || undefined,
                    m.precedence === 'flash' ? await factorsApi.stepUp(stepCode) : undefined,
                  ),
                t('inc.approvals.approved'),
              )
            }
          >
            {t('inc.approvals.approve')}
          </button>{' '}
          <button
            type="button"
            disabled={busy || !note.trim()}
            title={note.trim() ? undefined : t('inc.approvals.rejectNeedsNote')}
            onClick={() =>
              act(() => incidentsApi.reject(d.id, note.trim()), t('inc.approvals.rejected'))
            }
          >
            {t('inc.approvals.reject')}
          </button>{' '}
          <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
            {t('inc.approvals.breakGlass')}
          </button>
          <dialog ref={dialog} aria-labelledby={`bg-${d.id}`}>
            <form
              method="dialog"
              onSubmit={async (e) => {
                e.preventDefault();
                dialog.current?.close();
                await act(
                  async () =>
                    incidentsApi.breakGlass(d.id, reason.trim(), await factorsApi.stepUp(stepCode)),
                  t('inc.approvals.brokeGlass'),
                );
              }}
            >
              <h2 id={`bg-${d.id}`}>{t('inc.approvals.breakGlassTitle')}</h2>
              <p>{t('inc.approvals.breakGlassExplain')}</p>
              <label>
                {t('inc.approvals.reason')}
                <textarea
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  minLength={3}
                  maxLength={1000}
                  required
                  rows={3}
                />
              </label>
              <StepUpField value={stepCode} onChange={setStepCode} />
              <button type="submit" className="danger" disabled={reason.trim().length < 3}>
                {t('inc.approvals.breakGlassConfirm')}
              </button>{' '}
              <button type="button" onClick={() => dialog.current?.close()}>
                {t('inc.cancel')}
              </button>
            </form>
          </dialog>
        </div>
      )}
    </li>
  );
}

/**
 * Beside Compose's send button: whether the default two-person rule holds this message for a
 * second officer (a flash incident report, or any incident close, with status actual). The node
 * decides by its own policy; its 202 answer takes the author to the queue.
 */
export function ApprovalHint({
  message,
}: {
  message: { type: string; precedence: string; status: string };
}) {
  const { t } = useTranslation();
  const held =
    message.status === 'actual' &&
    ((message.type === 'incident.report' && message.precedence === 'flash') ||
      message.type === 'incident.close');
  if (!held) return null;
  return (
    <p className="approval-hint" role="note" data-testid="approval-hint">
      {t('inc.approvals.hint')}
    </p>
  );
}

const vocabularies = new Map<string, Promise<Map<string, RenderedCode>>>();

/** The vocabulary in `lang`, read once per page load (the recipient's language for a preview). */
function useVocabulary(lang: string): Map<string, RenderedCode> {
  const [map, setMap] = useState(new Map<string, RenderedCode>());
  useEffect(() => {
    let load = vocabularies.get(lang);
    if (!load) {
      load = api.vocabulary(lang).then((v) => new Map(v.entries.map((e) => [e.code, e])));
      vocabularies.set(lang, load);
      load.catch(() => vocabularies.delete(lang));
    }
    let live = true;
    load.then(
      (m) => live && setMap(m),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [lang]);
  return map;
}

function bytesOf(base64: string): number {
  const body = base64.replace(/=+$/, '');
  return Math.floor((body.length * 3) / 4);
}

/**
 * Every field of a held message as it will leave, its codes in `lang` from `vocabulary`: the
 * approver reads it whole, and again as the other side will read it.
 */
function WholeMessage({
  m,
  vocabulary,
  lang,
  testId,
}: {
  m: Draft;
  vocabulary: Map<string, RenderedCode>;
  lang: string;
  testId?: string;
}) {
  const { t } = useTranslation();
  const word = (code: string) => vocabulary.get(code)?.text ?? code;
  const list = (codes: string[]) => (
    <ul>
      {codes.map((c) => (
        <li key={c} lang={lang}>
          {word(c)}
        </li>
      ))}
    </ul>
  );
  const r = m.report;
  const ownTranslation = m.translations.find((x) => x.lang === lang);
  return (
    <div className="whole-message" data-testid={testId}>
      <p lang={lang}>
        <strong>{word(`precedence.${m.precedence}`)}</strong> · {word(`status.${m.status}`)} ·{' '}
        {word(`tlp.${m.tlp.replace('+', '-')}`)}
      </p>
      <dl className="meta">
        {r && (
          <>
            <dt>{t('compose.nature')}</dt>
            <dd lang={lang}>{word(`nature.${r.nature}`)}</dd>
            <dt>{t('compose.category')}</dt>
            <dd lang={lang} data-testid="field-category">
              {word(r.category)}
            </dd>
            {r.harm && (
              <>
                <dt>{t('compose.severity')}</dt>
                <dd lang={lang} data-testid="field-severity">
                  {word(r.harm.severity)}
                </dd>
                {r.harm.types.length > 0 && (
                  <>
                    <dt>{t('inc.approvals.harmTypes')}</dt>
                    <dd>{list(r.harm.types)}</dd>
                  </>
                )}
              </>
            )}
            {r.actionsTaken.length > 0 && (
              <>
                <dt>{t('inc.approvals.actionsTaken')}</dt>
                <dd>{list(r.actionsTaken)}</dd>
              </>
            )}
            <dt>{t('compose.actionsRequested')}</dt>
            <dd data-testid="field-requested">
              {r.actionsRequested.length ? list(r.actionsRequested) : '—'}
            </dd>
            {r.respondBy && (
              <>
                <dt>{t('inc.approvals.respondBy')}</dt>
                <dd>
                  <Time iso={r.respondBy} />
                </dd>
              </>
            )}
          </>
        )}
        {m.codes.length > 0 && (
          <>
            <dt>{t('message.codes')}</dt>
            <dd>{list(m.codes)}</dd>
          </>
        )}
        <dt>{t('message.attachments')}</dt>
        <dd data-testid="field-attachments">
          {m.attachments.length ? (
            <ul>
              {m.attachments.map((a) => (
                <li key={a.sha256}>
                  {a.name} · {a.mediaType} · {t('message.bytes', { count: bytesOf(a.data) })}
                </li>
              ))}
            </ul>
          ) : (
            '—'
          )}
        </dd>
      </dl>
      {m.text && m.text.lang === lang && (
        <figure className="original">
          <figcaption>{t('message.original')}</figcaption>
          <blockquote lang={m.text.lang} className="entry-text">
            {m.text.body}
          </blockquote>
        </figure>
      )}
      {m.text && m.text.lang !== lang && (
        <>
          {ownTranslation ? (
            <figure className="translation">
              <figcaption>{t('message.senderTranslation')}</figcaption>
              <blockquote lang={lang}>{ownTranslation.body}</blockquote>
            </figure>
          ) : (
            <p className="detail">{t('compose.noTranslation')}</p>
          )}
          <figure className="original">
            <figcaption>{t('message.original')}</figcaption>
            <blockquote lang={m.text.lang} className="entry-text">
              {m.text.body}
            </blockquote>
          </figure>
        </>
      )}
    </div>
  );
}
