/**
 * Notifications on this phone or browser: subscribe it to Web Push, see the devices subscribed
 * and remove one. When the browser has no push service (or none reachable), says so plainly.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PushSettings } from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { Time } from '../components.tsx';
import { deviceLabel, pushApi, pushUnsupported, subscribeThisBrowser } from '../push.ts';

export function PushDevices() {
  const { t, i18n } = useTranslation();
  const [settings, setSettings] = useState<PushSettings>();
  const [note, setNote] = useState<{ text: string; alert?: boolean }>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => pushApi.settings().then(setSettings), []);
  useEffect(() => {
    void load().catch(() => undefined);
  }, [load]);

  const unsupported = pushUnsupported();
  const subscribe = async () => {
    if (!settings?.publicKey) return;
    setBusy(true);
    setNote(undefined);
    try {
      await subscribeThisBrowser(settings.publicKey, i18n.language, deviceLabel());
      setNote({ text: t('push.subscribed') });
      await load();
    } catch (e) {
      const text =
        e instanceof ApiFailure
          ? `${e.code}: ${e.message}`
          : e instanceof Error && e.message === 'permission'
            ? t('push.why.permission')
            : t('push.why.failed', { detail: e instanceof Error ? e.message : String(e) });
      setNote({ text, alert: true });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: string) => {
    await pushApi.remove(id);
    setNote({ text: t('push.removed') });
    await load();
  };

  return (
    <section className="push-devices" aria-labelledby="push-title">
      <h2 id="push-title">{t('push.title')}</h2>
      <p>{t('push.explain')}</p>
      {settings && !settings.publicKey ? (
        <p role="note">{t('push.why.noKey')}</p>
      ) : unsupported ? (
        <p role="note">{t(`push.why.${unsupported}`)}</p>
      ) : (
        <button type="button" onClick={() => void subscribe()} disabled={busy || !settings}>
          {t('push.subscribe')}
        </button>
      )}
      {note && <p role={note.alert ? 'alert' : 'status'}>{note.text}</p>}
      {settings?.devices.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('push.device')}</th>
              <th scope="col">{t('push.service')}</th>
              <th scope="col">{t('push.since')}</th>
              <th scope="col">{t('push.last')}</th>
              <th scope="col">
                <span className="sr-only">{t('push.remove')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {settings.devices.map((d) => (
              <tr key={d.id}>
                <th scope="row">{d.label}</th>
                <td>{d.service}</td>
                <td>
                  <Time iso={d.createdAt} />
                </td>
                <td>
                  {d.lastOkAt ? <Time iso={d.lastOkAt} /> : t('push.never')}
                  {d.lastError && (
                    <>
                      {' '}
                      ({t('push.error')}: {d.lastError})
                    </>
                  )}
                </td>
                <td>
                  <button type="button" onClick={() => void remove(d.id)}>
                    {t('push.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        settings && <p>{t('push.none')}</p>
      )}
    </section>
  );
}
