/**
 * Notifications and compliance (docs/regimes.md): what each side owes under the agreed regimes —
 * owed, sent on time, late, acknowledged — per party and per obligation, as both sides compute it
 * from their ledgers; and the form to send a notification with its type's fields.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type {
  ComplianceBoard,
  NotificationView,
  Obligation,
  RegimesView,
} from '../../../src/protocol/views.ts';
import { ApiFailure } from '../api.ts';
import { PartyName, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { type NotifyInput, regimesApi } from '../regimes-api.ts';

const describe = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

type Field = RegimesView['types'][number]['fields'][number];

/** A form value as the field's kind wants it; undefined when left empty. */
function fieldValue(field: Field, raw: string | boolean | undefined): unknown {
  if (field.type === 'boolean') return raw === true;
  if (raw === undefined || raw === '') return undefined;
  if (field.type === 'number' || field.type === 'integer' || field.type === 'year')
    return Number(raw);
  return raw;
}

export function Compliance() {
  const { t } = useTranslation();
  const { lang, status, me, inbox, outbox, refresh, navigate } = useConsole();
  const [regimes, setRegimes] = useState<RegimesView>();
  const [board, setBoard] = useState<ComplianceBoard>();
  const [notice, setNotice] = useState<string>();
  const peers = status?.peers ?? [];

  const load = useCallback(async () => {
    const [r, b] = await Promise.all([regimesApi.regimes(lang), regimesApi.compliance(lang)]);
    setRegimes(r);
    setBoard(b);
  }, [lang]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when messages change
  useEffect(() => {
    load().catch((e: unknown) => setNotice(describe(e)));
  }, [load, inbox.length, outbox.length]);

  const name = (code: string) => board?.names[code] ?? code;
  /** Why it is owed, the timing field named by its label in the reader's language. */
  const basis = (o: Obligation) => {
    if (o.basis.kind !== 'notice') return t(`reg.basis.${o.basis.kind}`, o.basis);
    const field = o.basis.field;
    const label = regimes?.types
      .find((x) => x.code === o.type)
      ?.fields.find((f) => f.name === field)?.label;
    return t('reg.basis.notice', { ...o.basis, field: label ?? field });
  };
  // The notice's author is the party that owed it: the message page finds ours and theirs alike.
  const href = (o: Obligation) => (o.notice ? `/message/${o.owedBy}/${o.notice.id}` : undefined);

  return (
    <>
      <h1 tabIndex={-1}>{t('reg.title')}</h1>
      <p className="detail">{t('reg.explain')}</p>
      {regimes && (
        <p className="detail" data-testid="regimes-version">
          {t('reg.regimes', { version: regimes.version, effective: regimes.effective })}
        </p>
      )}
      {regimes?.peers
        .filter((p) => !p.same)
        .map((p) => (
          <p key={p.party} role="alert" className="warning">
            {p.warning}
          </p>
        ))}
      {notice && <p role="status">{notice}</p>}

      <section aria-labelledby="summary-title">
        <h2 id="summary-title">{t('reg.summary')}</h2>
        <table data-testid="compliance-summary">
          <thead>
            <tr>
              <th scope="col">{t('reg.party')}</th>
              <th scope="col">{t('reg.owed')}</th>
              <th scope="col">{t('reg.sent')}</th>
              <th scope="col">{t('reg.late')}</th>
              <th scope="col">{t('reg.acknowledged')}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(board?.byParty ?? {}).map(([p, c]) => (
              <tr key={p} data-testid={`compliance-${p}`}>
                <th scope="row">
                  <PartyName party={p} />
                </th>
                <td>{c.owed}</td>
                <td>{c.sent}</td>
                <td className={c.late ? 'error' : undefined}>{c.late}</td>
                <td>{c.acknowledged}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="obligations-title">
        <h2 id="obligations-title">{t('reg.obligations')}</h2>
        {board && !board.obligations.length && <p>{t('reg.nothing')}</p>}
        {board && board.obligations.length > 0 && (
          <table data-testid="obligations">
            <thead>
              <tr>
                <th scope="col">{t('reg.type')}</th>
                <th scope="col">{t('reg.owedBy')}</th>
                <th scope="col">{t('reg.owedTo')}</th>
                <th scope="col">{t('reg.due')}</th>
                <th scope="col">{t('reg.state')}</th>
                <th scope="col">{t('reg.notice')}</th>
                <th scope="col">{t('reg.acknowledged')}</th>
              </tr>
            </thead>
            <tbody>
              {board.obligations.map((o) => {
                const link = href(o);
                return (
                  <tr key={o.key} data-testid="obligation" data-state={o.state}>
                    <td>
                      {name(o.type)}
                      {o.mode !== 'actual' && <> ({t(`reg.mode.${o.mode}`)})</>}
                      <br />
                      <span className="detail">{basis(o)}</span>
                    </td>
                    <td>
                      <PartyName party={o.owedBy} />
                    </td>
                    <td>
                      <PartyName party={o.owedTo} />
                    </td>
                    <td>
                      <Time iso={o.due} />
                    </td>
                    <td>
                      <strong className={o.state === 'late' ? 'error' : undefined}>
                        {t(`reg.states.${o.state}`)}
                      </strong>
                    </td>
                    <td>
                      {o.notice ? (
                        <>
                          <Time iso={o.notice.sent} />{' '}
                          {link && <Link href={link}>{t('reg.open')}</Link>}
                        </>
                      ) : (
                        t('reg.notSent')
                      )}
                    </td>
                    <td>{o.acknowledged ? <Time iso={o.acknowledged.at} /> : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      {regimes && (
        <SendForm
          regimes={regimes}
          peers={peers.map((p) => ({ party: p.party, name: p.names[lang] ?? p.party }))}
          desk={me.desks[0]}
          onSent={async (text, draft) => {
            await Promise.all([refresh(), load()]);
            if (draft) navigate(`/approvals/${draft}`);
            else setNotice(text);
          }}
          onError={(e) => setNotice(describe(e))}
        />
      )}
    </>
  );
}

function SendForm(props: {
  regimes: RegimesView;
  peers: Array<{ party: string; name: string }>;
  desk: string | undefined;
  onSent: (notice: string, draft: string | undefined) => Promise<void>;
  onError: (e: unknown) => void;
}) {
  const { t } = useTranslation();
  const { regimes, peers, desk } = props;
  const [code, setCode] = useState(regimes.types[0]?.code ?? '');
  const [to, setTo] = useState('');
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [status, setStatus] = useState<NotifyInput['status']>('actual');
  const [tlp, setTlp] = useState<NotifyInput['tlp']>('green');
  const [incident, setIncident] = useState('');
  const [busy, setBusy] = useState(false);
  const type = regimes.types.find((x) => x.code === code);
  const target = to || peers[0]?.party || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!type || !desk || !target) return;
    const fields: Record<string, unknown> = {};
    for (const f of type.fields) {
      const v = fieldValue(f, values[f.name]);
      if (v !== undefined) fields[f.name] = v;
    }
    setBusy(true);
    try {
      const sent = await regimesApi.notify({
        to: [target],
        type: type.code,
        fields,
        desk,
        status,
        tlp,
        ...(incident ? { incident } : {}),
      });
      setValues({});
      await props.onSent(
        sent.state === 'pending' ? t('reg.heldNotice') : t('reg.sentNotice', { name: type.name }),
        sent.state === 'pending' ? (sent.draft ?? undefined) : undefined,
      );
    } catch (err) {
      props.onError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="notify-title">
      <h2 id="notify-title">{t('reg.send')}</h2>
      <form onSubmit={submit} className="compose" data-testid="notify-form">
        <label>
          {t('reg.to')}
          <select name="to" value={target} onChange={(e) => setTo(e.target.value)}>
            {peers.map((p) => (
              <option key={p.party} value={p.party}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('reg.chooseType')}
          <select
            name="type"
            value={code}
            onChange={(e) => {
              setCode(e.target.value);
              setValues({});
            }}
          >
            {regimes.types.map((x) => (
              <option key={x.code} value={x.code}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        {type && <p className="detail">{type.description}</p>}
        {type?.timing.kind === 'event' && (
          <label>
            {t('reg.incident')}
            <input name="incident" value={incident} onChange={(e) => setIncident(e.target.value)} />
          </label>
        )}
        {type?.fields.map((f) => {
          const id = `notify-${f.name}`;
          const set = (v: string | boolean) => setValues({ ...values, [f.name]: v });
          return (
            <div key={`${code}.${f.name}`} className="field">
              <label htmlFor={id}>
                {f.label}
                {f.required && <span className="detail"> ({t('reg.required')})</span>}
              </label>
              {f.type === 'choice' ? (
                <select
                  id={id}
                  name={f.name}
                  required={f.required}
                  value={String(values[f.name] ?? '')}
                  onChange={(e) => set(e.target.value)}
                >
                  <option value="">—</option>
                  {f.values?.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              ) : f.type === 'boolean' ? (
                <input
                  id={id}
                  type="checkbox"
                  name={f.name}
                  checked={values[f.name] === true}
                  onChange={(e) => set(e.target.checked)}
                />
              ) : (
                <input
                  id={id}
                  name={f.name}
                  required={f.required}
                  type={f.type === 'date' ? 'date' : f.type === 'text' ? 'text' : 'number'}
                  step={f.type === 'number' ? 'any' : undefined}
                  value={String(values[f.name] ?? '')}
                  onChange={(e) => set(e.target.value)}
                />
              )}
            </div>
          );
        })}
        <label>
          {t('reg.status')}
          <select
            name="status"
            value={status}
            onChange={(e) => setStatus(e.target.value as NotifyInput['status'])}
          >
            {(['actual', 'exercise', 'test'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`reg.mode.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('reg.tlp')}
          <select
            name="tlp"
            value={tlp}
            onChange={(e) => setTlp(e.target.value as NotifyInput['tlp'])}
          >
            {(['clear', 'green', 'amber', 'amber+strict', 'red'] as const).map((x) => (
              <option key={x} value={x}>
                TLP:{x.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || !desk || !target}>
          {t('reg.sendButton')}
        </button>
      </form>
    </section>
  );
}

/** A received or sent notification's fields, labelled in the reader's language (Message page). */
export function NotificationFields({ view }: { view: NotificationView }) {
  const { t } = useTranslation();
  const shown = (v: unknown) =>
    v === true
      ? t('reg.yes')
      : v === false
        ? t('reg.no')
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
  return (
    <div className="notification" data-testid="notification">
      <strong>{view.name}</strong>
      <dl>
        {view.fields.map((f) => (
          <div key={f.name}>
            <dt>{f.label}</dt>
            <dd>{shown(f.value)}</dd>
          </div>
        ))}
      </dl>
      {view.problems.length > 0 && (
        <ul className="error">
          {view.problems.map((p) => (
            <li key={p}>⚠ {p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
