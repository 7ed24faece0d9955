/**
 * Security: the signed-in person's second factors. Enrol an authenticator app (the key and its
 * otpauth link, confirmed by a first code) or a passkey, see recovery codes once, make new ones,
 * remove a factor. Someone whose role must have a factor and has none sees only this page.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SecondFactorStatus } from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { StepUpField } from '../components.tsx';
import { factorsApi, type Proof } from '../factors.ts';
import { formatUtc } from '../time.ts';

/** A time in UTC (the page also shows outside the console frame, before enrolment). */
const Time = ({ iso }: { iso: string }) => <time dateTime={iso}>{formatUtc(iso)}</time>;

export function Security({ enrol, onDone }: { enrol?: boolean; onDone?: () => void }) {
  const { t } = useTranslation();
  const [status, setStatus] = useState<SecondFactorStatus>();
  const [pending, setPending] = useState<{ id: string; secret: string; uri: string }>();
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('passkey');
  const [codes, setCodes] = useState<string[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [stepCode, setStepCode] = useState('');

  const reload = useCallback(() => factorsApi.status().then(setStatus), []);
  useEffect(() => {
    void reload().catch(() => undefined);
  }, [reload]);

  /** With a factor enrolled, a change to the factors needs one of them (none for the first). */
  const proof = async (): Promise<Proof | undefined> =>
    status?.factors.length ? factorsApi.stepUp(stepCode) : undefined;

  const run = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await step();
      setStepCode('');
      await reload();
    } catch (e) {
      setError(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  const confirmTotp = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (!pending) return;
      const added = await factorsApi.confirmTotp(pending.id, code);
      setPending(undefined);
      setCode('');
      if (added.recoveryCodes) setCodes(added.recoveryCodes);
    });
  };

  return (
    <section className="security" aria-labelledby="security-title">
      <h1 id="security-title" tabIndex={-1}>
        {t('sf.title')}
      </h1>
      {enrol && !status?.factors.length && <p role="note">{t('sf.mustEnrol')}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {codes && (
        <div className="recovery-codes" role="status">
          <p>{t('sf.recoveryShown')}</p>
          <ul data-testid="recovery-codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2>{t('sf.factors')}</h2>
      {status && !status.factors.length && <p>{t('sf.none')}</p>}
      {status && status.factors.length > 0 && (
        <p>
          <StepUpField value={stepCode} onChange={setStepCode} label={t('sf.stepUpChange')} />
        </p>
      )}
      <ul className="factor-list" data-testid="factors">
        {status?.factors.map((f) => (
          <li key={f.id} data-kind={f.kind}>
            <strong>{t(`sf.kind.${f.kind}`)}</strong> {f.label} · {t('sf.added')}{' '}
            <Time iso={f.createdAt} />
            {f.lastUsedAt && (
              <>
                {' '}
                · {t('sf.lastUsed')} <Time iso={f.lastUsedAt} />
              </>
            )}{' '}
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void run(async () => void (await factorsApi.remove(f.id, await proof())))
              }
            >
              {t('sf.remove')}
            </button>
          </li>
        ))}
      </ul>
      {status && status.factors.length > 0 && (
        <p>
          {t('sf.recoveryLeft', { count: status.recoveryCodesLeft })}{' '}
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async () =>
                setCodes((await factorsApi.newRecoveryCodes(await proof())).recoveryCodes),
              )
            }
          >
            {t('sf.newRecovery')}
          </button>
        </p>
      )}
      <h2>{t('sf.addPasskey')}</h2>
      <p>
        <label>
          {t('sf.passkeyLabel')}{' '}
          <input
            name="passkey-label"
            value={label}
            maxLength={100}
            onChange={(e) => setLabel(e.target.value)}
          />
        </label>{' '}
        <button
          type="button"
          name="add-passkey"
          disabled={busy || !label.trim()}
          onClick={() =>
            void run(async () => {
              const added = await factorsApi.addPasskey(label.trim(), await proof());
              if (added.recoveryCodes) setCodes(added.recoveryCodes);
            })
          }
        >
          {t('sf.addPasskey')}
        </button>
      </p>
      <h2>{t('sf.addTotp')}</h2>
      {!pending ? (
        <button
          type="button"
          name="add-totp"
          disabled={busy}
          onClick={() =>
            void run(async () => setPending(await factorsApi.beginTotp(await proof())))
          }
        >
          {t('sf.addTotp')}
        </button>
      ) : (
        <form onSubmit={confirmTotp}>
          <p>{t('sf.totpExplain')}</p>
          <p>
            {t('sf.secret')}: <code data-testid="totp-secret">{pending.secret}</code> ·{' '}
            <a href={pending.uri}>otpauth://</a>
          </p>
          <label>
            {t('sf.code')}{' '}
            <input
              name="totp-code"
              autoComplete="one-time-code"
              inputMode="numeric"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>{' '}
          <button type="submit" disabled={busy || !code.trim()}>
            {t('sf.confirm')}
          </button>
        </form>
      )}
      {onDone && status && status.factors.length > 0 && (
        <p>
          <button type="button" className="primary" name="done" onClick={onDone}>
            {t('sf.done')}
          </button>
        </p>
      )}
    </section>
  );
}
