/** Duty: each desk, who is on duty there now and who is next, its shifts, and handovers. */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type {
  DeskView,
  Duty as DutyView,
  HandoverView,
  ShiftView,
} from '../../../src/protocol/views.ts';
import { ApiFailure, api } from '../api.ts';
import { Time } from '../components.tsx';
import { useConsole } from '../console.tsx';
import { PushDevices } from './PushDevices.tsx';

export function Duty() {
  const { t } = useTranslation();
  const { me } = useConsole();
  const [desks, setDesks] = useState<DeskView[]>([]);
  const [duty, setDuty] = useState<Record<string, DutyView>>({});
  const [shifts, setShifts] = useState<Record<string, ShiftView[]>>({});
  const [handovers, setHandovers] = useState<HandoverView[]>([]);
  const [desk, setDesk] = useState('');
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<string>();

  const load = useCallback(async () => {
    const list = await api.desks();
    setDesks(list);
    const d: Record<string, DutyView> = {};
    const s: Record<string, ShiftView[]> = {};
    await Promise.all(
      list.map(async (x) => {
        d[x.id] = await api.duty(x.id);
        s[x.id] = await api.shifts(x.id);
      }),
    );
    setDuty(d);
    setShifts(s);
    setHandovers(await api.handovers());
  }, []);
  useEffect(() => {
    void load().catch((e: unknown) => setMessage(describe(e)));
  }, [load]);

  const handOver = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.handOver(desk || (desks[0]?.id ?? ''), [{ kind: 'note', note: note.trim() }]);
      setNote('');
      setMessage(t('duty.handedOver'));
      await load();
    } catch (err) {
      setMessage(describe(err));
    }
  };
  const confirm = async (id: number) => {
    try {
      await api.confirmHandover(id);
      await load();
    } catch (err) {
      setMessage(describe(err));
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>{t('duty.title')}</h1>
      {message && <p role="status">{message}</p>}
      <PushDevices />
      <section aria-labelledby="now-title">
        <h2 id="now-title">{t('duty.now')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('duty.desk')}</th>
              <th scope="col">{t('duty.onDuty')}</th>
              <th scope="col">{t('duty.until')}</th>
              <th scope="col">{t('duty.next')}</th>
              <th scope="col">{t('duty.staff')}</th>
            </tr>
          </thead>
          <tbody>
            {desks.map((d) => {
              const now = duty[d.id];
              return (
                <tr key={d.id}>
                  <th scope="row">
                    {d.name} ({d.id})
                  </th>
                  <td>
                    {now?.onDuty ? (now.onDuty.displayName ?? now.onDuty.user) : t('duty.nobody')}
                  </td>
                  <td>{now?.onDuty ? <Time iso={now.onDuty.shift.endsAt} /> : '—'}</td>
                  <td>
                    {now?.next ? (
                      <>
                        {now.next.user} <Time iso={now.next.startsAt} />
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{d.staff.map((s) => s.user).join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="shifts-title">
        <h2 id="shifts-title">{t('duty.shifts')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('duty.desk')}</th>
              <th scope="col">{t('duty.person')}</th>
              <th scope="col">{t('duty.from')}</th>
              <th scope="col">{t('duty.until')}</th>
            </tr>
          </thead>
          <tbody>
            {Object.values(shifts)
              .flat()
              .map((s) => (
                <tr key={s.id}>
                  <td>{s.desk}</td>
                  <td>{s.user}</td>
                  <td>
                    <Time iso={s.startsAt} />
                  </td>
                  <td>
                    <Time iso={s.endsAt} />
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="handover-title">
        <h2 id="handover-title">{t('duty.handovers')}</h2>
        {handovers.length ? (
          <ul className="cards">
            {handovers.map((h) => (
              <li key={h.id}>
                {t('duty.handoverLine', { desk: h.desk, from: h.from, to: h.to })}{' '}
                <Time iso={h.createdAt} />
                <ul>
                  {h.items.map((item, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in the order it was written
                    <li key={`${h.id}-${i}`}>
                      {item.kind}
                      {'id' in item ? ` ${item.id}` : ''}
                      {item.note ? `: ${item.note}` : ''}
                    </li>
                  ))}
                </ul>
                {h.note && <p>{h.note}</p>}
                {h.confirmedAt ? (
                  <span>
                    {t('duty.confirmed')} <Time iso={h.confirmedAt} />
                  </span>
                ) : h.to === me.user.name ? (
                  <button type="button" onClick={() => confirm(h.id)}>
                    {t('duty.confirm')}
                  </button>
                ) : (
                  <span>{t('duty.unconfirmed')}</span>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('duty.noHandovers')}</p>
        )}
        <form onSubmit={handOver} className="section-form">
          <h3>{t('duty.handOver')}</h3>
          <label>
            {t('duty.desk')}
            <select value={desk} onChange={(e) => setDesk(e.target.value)}>
              {desks.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('duty.note')}
            <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={3} required />
          </label>
          <button type="submit" disabled={!note.trim()}>
            {t('duty.handOver')}
          </button>
        </form>
      </section>
    </>
  );
}

function describe(e: unknown): string {
  return e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e);
}
