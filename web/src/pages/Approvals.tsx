/**
 * The approvals queue (the two-person rule, docs/operators.md): messages the policy holds until
 * an officer other than the author approves them (or rejects them, with a note). When no second
 * officer can be reached, an officer may break the glass: release it alone, stating why, after a
 * confirmation — the peer sees that nobody approved it, and an alarm stays here until reviewed.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DraftView } from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { Code, PartyName, PrecedenceBadge, StatusBanner, Time, TlpBadge } from '../components.tsx';
import { useConsole } from '../console.tsx';
import { factorsApi } from '../factors.ts';
import { incidentsApi } from '../incidents-api.ts';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

export function Approvals({ held }: { held?: string | undefined }) {
  const { t } = useTranslation();
  const { live } = useConsole();
  const mine = held ? live.drafts.find((d) => d.id === held) : undefined;
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
      {held && (mine || fresh) && (
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
    </>
  );
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
  const { me, live, refresh } = useConsole();
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
        {m.report && (
          <>
            <dt>{t('compose.category')}</dt>
            <dd>
              <Code code={m.report.category} quiet />
            </dd>
          </>
        )}
        {d.template && (
          <>
            <dt>{t('inc.approvals.template')}</dt>
            <dd>{d.template}</dd>
          </>
        )}
      </dl>
      {m.text && (
        <blockquote lang={m.text.lang} className="entry-text">
          {m.text.body}
        </blockquote>
      )}
      {m.codes.length > 0 && (
        <ul className="codes">
          {m.codes.map((c) => (
            <li key={c}>
              <Code code={c} quiet />
            </li>
          ))}
        </ul>
      )}
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

/** The second factor for a step-up: a typed code, or empty for the passkey. */
function StepUpField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { t } = useTranslation();
  return (
    <label>
      {t('sf.stepUp')}
      <input
        name="step-up"
        autoComplete="one-time-code"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        maxLength={40}
      />
    </label>
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
