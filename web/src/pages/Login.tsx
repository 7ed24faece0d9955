/**
 * Sign-in, then the sound check: browsers keep audio locked until the person interacts, so the
 * console plays its alarm tone now, on a click, and asks to show notifications.
 */
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Me } from '../../../src/protocol/views.ts';
import { askNotifications, playTone, unlockAudio } from '../alarm.ts';
import { ApiFailure, api } from '../api.ts';
import { codeProof, passkeyProof } from '../factors.ts';
import { type Lang, languageOf, setLanguage } from '../i18n.ts';

export function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const { t, i18n } = useTranslation();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [me, setMe] = useState<Me>();
  const [played, setPlayed] = useState(false);
  const [notifications, setNotifications] = useState<string>();
  const [asked, setAsked] = useState<{ ticket: string; methods: string[]; passkey?: unknown }>();
  const [code, setCode] = useState('');

  const attempt = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await step();
    } catch (err) {
      setError(err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  };

  const signedIn = async () => {
    const who = await api.me();
    const own = languageOf(who.user.name);
    if (own) setLanguage(own, who.user.name);
    // Someone who must first enrol a second factor goes straight to it.
    if (who.enrol) onSignedIn(who);
    else setMe(who);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void attempt(async () => {
      const second = await api.login(user.trim(), password);
      if (second) setAsked(second);
      else await signedIn();
    });
  };

  const verify = (proof: () => Promise<unknown>) =>
    attempt(async () => {
      if (!asked) return;
      await api.secondFactor(asked.ticket, await proof());
      await signedIn();
    });

  const check = async () => {
    await unlockAudio();
    playTone();
    setPlayed(true);
    setNotifications(await askNotifications());
  };

  return (
    <main id="main" className="login">
      <h1>{t('app.title')}</h1>
      <label className="lang">
        {t('common.language')}{' '}
        <select
          value={i18n.language}
          onChange={(e) => setLanguage(e.target.value as Lang, me?.user.name)}
        >
          <option value="en">English</option>
          <option value="zh">中文</option>
        </select>
      </label>
      {!me && asked ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void verify(async () => codeProof(code));
          }}
          aria-labelledby="second-title"
          className="login-form"
        >
          <h2 id="second-title">{t('sf.secondStep')}</h2>
          <p>{t('sf.secondStepExplain')}</p>
          <label>
            {t('sf.code')}
            <input
              name="code"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy || !code.trim()}>
            {t('sf.verify')}
          </button>{' '}
          {asked.passkey !== undefined && (
            <button
              type="button"
              name="passkey"
              disabled={busy}
              onClick={() => void verify(() => passkeyProof(asked.passkey))}
            >
              {t('sf.usePasskey')}
            </button>
          )}
        </form>
      ) : !me ? (
        <form onSubmit={submit} aria-labelledby="login-title" className="login-form">
          <h2 id="login-title">{t('login.title')}</h2>
          <label>
            {t('login.user')}
            <input
              name="user"
              autoComplete="username"
              value={user}
              onChange={(e) => setUser(e.target.value)}
              required
            />
          </label>
          <label>
            {t('login.password')}
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {t('login.submit')}
          </button>
        </form>
      ) : (
        <section aria-labelledby="sound-title" className="sound-check">
          <h2 id="sound-title">{t('sound.title')}</h2>
          <p>{t('sound.explain')}</p>
          <button type="button" onClick={check}>
            {t('sound.play')}
          </button>
          {notifications && (
            <p>
              {t('sound.notifications')}: {t(`sound.permission.${notifications}`)}
            </p>
          )}
          {played && (
            <p>
              <button type="button" onClick={() => onSignedIn(me)}>
                {t('sound.heard')}
              </button>{' '}
              <button type="button" onClick={check}>
                {t('sound.again')}
              </button>
            </p>
          )}
        </section>
      )}
    </main>
  );
}
