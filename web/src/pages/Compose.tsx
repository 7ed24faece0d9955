/**
 * Compose: precedence, status, TLP and the structured codes from the joint vocabulary, free text
 * in the writer's language with an optional own translation, attachments, and a preview of what
 * the other side will read in their language before anything is sent.
 */
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { v7 as uuidv7 } from 'uuid';
import type { Attachment, Draft } from '../../../src/protocol/body.ts';
import {
  checkEvaluationText,
  describeEvaluationProblems,
  EVALUATION_MEDIA_TYPE,
} from '../../../src/protocol/evaluation.ts';
import { STIX_MEDIA_TYPE } from '../../../src/protocol/stix.ts';
import {
  PRECEDENCES,
  type Precedence,
  STATUSES,
  type Status,
  TLPS,
  type Tlp,
} from '../../../src/protocol/values.ts';
import type { RenderedCode } from '../../../src/protocol/views.ts';
import { ApiFailure, api } from '../api.ts';
import { StatusBanner } from '../components.tsx';
import { useConsole } from '../console.tsx';
import { ApprovalHint } from './Approvals.tsx';
import { FrameworkCriteria } from './FrameworkCriteria.tsx';

/** What the files added are: any document, STIX bundles, or evaluation results. */
const KINDS = {
  file: undefined,
  stix: STIX_MEDIA_TYPE,
  evaluation: EVALUATION_MEDIA_TYPE,
} as const;
type Kind = keyof typeof KINDS;

const TYPES = ['incident.report', 'query', 'test'] as const;
type ComposeType = (typeof TYPES)[number];

export function Compose() {
  const { t } = useTranslation();
  const { lang, codes, status, me, navigate, refresh } = useConsole();
  const peers = status?.peers ?? [];
  const other = lang === 'zh' ? 'en' : 'zh';
  const [to, setTo] = useState<string>('');
  const [type, setType] = useState<ComposeType>('incident.report');
  const [precedence, setPrecedence] = useState<Precedence>('flash');
  const [msgStatus, setMsgStatus] = useState<Status>('actual');
  const [tlp, setTlp] = useState<Tlp>('amber');
  const [category, setCategory] = useState('');
  const [severity, setSeverity] = useState('');
  const [requested, setRequested] = useState<string[]>([]);
  const [phrases, setPhrases] = useState<string[]>([]);
  const [text, setText] = useState('');
  const [translation, setTranslation] = useState('');
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [kind, setKind] = useState<Kind>('file');
  /** Per attachment (by sha256): an evaluation result's check, as a sentence. */
  const [checks, setChecks] = useState<Map<string, string>>(new Map());
  const [developer, setDeveloper] = useState('');
  const [model, setModel] = useState('');
  const [version, setVersion] = useState('');
  const [deployment, setDeployment] = useState('');
  const [harmTypes, setHarmTypes] = useState<string[]>([]);
  const [geography, setGeography] = useState('');
  const [scale, setScale] = useState('');
  const [desk, setDesk] = useState(me.desks[0] ?? '');
  const [preview, setPreview] = useState<Map<string, RenderedCode>>(new Map());
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);

  const target = to || peers[0]?.party || '';
  const of = (prefix: string) => [...codes.values()].filter((c) => c.code.startsWith(prefix));

  useEffect(() => {
    api.vocabulary(other).then(
      (v) => setPreview(new Map(v.entries.map((e) => [e.code, e]))),
      () => undefined,
    );
  }, [other]);

  const draft = useMemo<Draft>(() => {
    const d: Draft = {
      type,
      precedence,
      status: msgStatus,
      tlp,
      codes: phrases,
      translations: translation.trim() ? [{ lang: other, body: translation.trim() }] : [],
      attachments,
      author: { desk },
      approvals: [],
    };
    if (text.trim()) d.text = { lang, body: text.trim() };
    if (type === 'incident.report') {
      const system = Object.fromEntries(
        Object.entries({ developer, model, version, deployment })
          .map(([k, v]) => [k, v.trim()])
          .filter(([, v]) => v),
      );
      const places = geography
        .split(/[,，、]/)
        .map((g) => g.trim())
        .filter(Boolean);
      const harmed = severity || harmTypes.length || places.length || scale.trim();
      d.report = {
        nature: 'incident',
        category,
        ...(Object.keys(system).length ? { system } : {}),
        ...(harmed
          ? {
              harm: {
                types: harmTypes,
                severity: severity || 'severity.unknown',
                ...(scale.trim() ? { scale: scale.trim() } : {}),
                ...(places.length ? { geography: places } : {}),
                reversibility: 'unknown' as const,
              },
            }
          : {}),
        actionsTaken: [],
        actionsRequested: requested,
      };
    }
    return d;
  }, [
    developer,
    model,
    version,
    deployment,
    harmTypes,
    geography,
    scale,
    type,
    precedence,
    msgStatus,
    tlp,
    phrases,
    translation,
    other,
    attachments,
    desk,
    text,
    lang,
    category,
    severity,
    requested,
  ]);

  const toggle = (list: string[], set: (l: string[]) => void, code: string) =>
    set(list.includes(code) ? list.filter((c) => c !== code) : [...list, code]);

  const attach = async (files: FileList | null) => {
    const added: Attachment[] = [];
    const checked = new Map<string, string>();
    for (const file of files ?? []) {
      const data = new Uint8Array(await file.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
      const name = file.name.slice(0, 200);
      const sha256 = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
      added.push({
        name,
        mediaType: KINDS[kind] ?? (file.type || 'application/octet-stream'),
        sha256,
        data: base64url(data),
      });
      if (kind === 'evaluation') {
        const result = checkEvaluationText(new TextDecoder().decode(data));
        checked.set(
          sha256,
          result.ok
            ? t('fw.compose.evaluationOk', { name })
            : t('fw.compose.evaluationBad', {
                name,
                problems: describeEvaluationProblems(result.problems),
              }),
        );
      }
    }
    setAttachments((a) => [...a, ...added]);
    setChecks((c) => new Map([...c, ...checked]));
  };

  const send = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSending(true);
    try {
      const message = { ...draft, ...(type === 'incident.report' ? { incident: uuidv7() } : {}) };
      // A message the two-person rule holds (202) waits in the approvals queue: nothing left.
      const sent = await api.send([target], message);
      await refresh();
      if (sent.state === 'pending') navigate(`/approvals/${sent.draft}`);
      else navigate(`/message/${status?.party ?? ''}/${sent.id}`);
    } catch (err) {
      setError(err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setSending(false);
    }
  };

  const label = (map: Map<string, RenderedCode>, code: string) => map.get(code)?.text ?? code;

  return (
    <>
      <h1 tabIndex={-1}>{t('compose.title')}</h1>
      <div className="compose">
        <form onSubmit={send} aria-labelledby="compose-form" className="compose-form">
          <h2 id="compose-form" className="sr-only">
            {t('compose.title')}
          </h2>
          <div className="row">
            <label>
              {t('compose.to')}
              <select value={target} onChange={(e) => setTo(e.target.value)} name="to">
                {peers.map((p) => (
                  <option key={p.party} value={p.party}>
                    {p.names[lang] ?? p.party}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('compose.desk')}
              <select value={desk} onChange={(e) => setDesk(e.target.value)} name="desk">
                {me.desks.map((d) => (
                  <option key={d} value={d}>
                    {d}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('message.type')}
              <select
                value={type}
                onChange={(e) => setType(e.target.value as ComposeType)}
                name="type"
              >
                {TYPES.map((ty) => (
                  <option key={ty} value={ty}>
                    {t(`types.${ty}`)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="row">
            <label>
              {t('message.precedence')}
              <select
                value={precedence}
                onChange={(e) => setPrecedence(e.target.value as Precedence)}
                name="precedence"
              >
                {PRECEDENCES.map((p) => (
                  <option key={p} value={p}>
                    {label(codes, `precedence.${p}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('message.status')}
              <select
                value={msgStatus}
                onChange={(e) => setMsgStatus(e.target.value as Status)}
                name="status"
              >
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {label(codes, `status.${s}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              TLP
              <select value={tlp} onChange={(e) => setTlp(e.target.value as Tlp)} name="tlp">
                {TLPS.map((x) => (
                  <option key={x} value={x}>
                    {label(codes, `tlp.${x.replace('+', '-')}`)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {type === 'incident.report' && (
            <div className="row">
              <label>
                {t('compose.category')}
                <select
                  value={category}
                  onChange={(e) => setCategory(e.target.value)}
                  name="category"
                  required
                >
                  <option value="">{t('compose.choose')}</option>
                  {of('category.').map((c) => (
                    <option key={c.code} value={c.code}>
                      {c.text}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('compose.severity')}
                <select
                  value={severity}
                  onChange={(e) => setSeverity(e.target.value)}
                  name="severity"
                >
                  <option value="">{t('compose.none')}</option>
                  {of('severity.').map((c) => (
                    <option key={c.code} value={c.code}>
                      {c.text}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          {type === 'incident.report' && (
            <fieldset>
              <legend>{t('fw.compose.system')}</legend>
              <div className="row">
                {(
                  [
                    ['developer', developer, setDeveloper],
                    ['model', model, setModel],
                    ['version', version, setVersion],
                    ['deployment', deployment, setDeployment],
                  ] as const
                ).map(([name, value, set]) => (
                  <label key={name}>
                    {t(`fw.compose.${name}`)}
                    <input
                      name={name}
                      value={value}
                      maxLength={200}
                      onChange={(e) => set(e.target.value)}
                    />
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          {type === 'incident.report' && (
            <fieldset>
              <legend>{t('fw.compose.harm')}</legend>
              <fieldset>
                <legend>{t('fw.compose.harmTypes')}</legend>
                <div className="checks">
                  {of('harm.').map((c) => (
                    <label key={c.code} className="check">
                      <input
                        type="checkbox"
                        checked={harmTypes.includes(c.code)}
                        onChange={() => toggle(harmTypes, setHarmTypes, c.code)}
                      />
                      {c.text}
                    </label>
                  ))}
                </div>
              </fieldset>
              <div className="row">
                <label>
                  {t('fw.compose.geography')}
                  <input
                    name="geography"
                    value={geography}
                    onChange={(e) => setGeography(e.target.value)}
                  />
                </label>
                <label>
                  {t('fw.compose.scale')}
                  <input
                    name="scale"
                    value={scale}
                    maxLength={200}
                    onChange={(e) => setScale(e.target.value)}
                  />
                </label>
              </div>
            </fieldset>
          )}
          {type === 'incident.report' && (
            <fieldset>
              <legend>{t('compose.actionsRequested')}</legend>
              <div className="checks">
                {of('action.').map((c) => (
                  <label key={c.code} className="check">
                    <input
                      type="checkbox"
                      checked={requested.includes(c.code)}
                      onChange={() => toggle(requested, setRequested, c.code)}
                    />
                    {c.text}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          <fieldset>
            <legend>{t('compose.phrases')}</legend>
            <div className="checks">
              {of('phrase.').map((c) => (
                <label key={c.code} className="check">
                  <input
                    type="checkbox"
                    checked={phrases.includes(c.code)}
                    onChange={() => toggle(phrases, setPhrases, c.code)}
                  />
                  {c.text}
                </label>
              ))}
            </div>
          </fieldset>
          <label>
            {t('compose.text', { lang: t(`lang.${lang}`) })}
            <textarea
              name="text"
              rows={5}
              lang={lang}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </label>
          <label>
            {t('compose.translation', { lang: t(`lang.${other}`) })}
            <textarea
              name="translation"
              rows={3}
              lang={other}
              value={translation}
              onChange={(e) => setTranslation(e.target.value)}
            />
          </label>
          <fieldset>
            <legend>{t('message.attachments')}</legend>
            {(Object.keys(KINDS) as Kind[]).map((k) => (
              <label key={k} className="check">
                <input type="radio" name="kind" checked={kind === k} onChange={() => setKind(k)} />
                {k === 'stix' ? t('compose.stix') : t(`fw.compose.kinds.${k}`)}
              </label>
            ))}
            <label>
              {t('compose.addFile')}
              <input type="file" multiple onChange={(e) => void attach(e.target.files)} />
            </label>
            <ul>
              {attachments.map((a, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in the order it was written
                <li key={`${i}-${a.name}`}>
                  {a.name} ({a.mediaType}){' '}
                  {checks.get(a.sha256) && (
                    <span data-testid="attachment-check">{checks.get(a.sha256)} </span>
                  )}
                  <button
                    type="button"
                    onClick={() => setAttachments((all) => all.filter((_, j) => j !== i))}
                  >
                    {t('compose.remove', { name: a.name })}
                  </button>
                </li>
              ))}
            </ul>
          </fieldset>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <ApprovalHint message={draft} />
          <button type="submit" className="primary" disabled={sending || !target || !desk}>
            {t('compose.send')}
          </button>
        </form>

        <section aria-labelledby="preview-title" className="preview" data-testid="preview">
          <h2 id="preview-title">{t('compose.preview', { lang: t(`lang.${other}`) })}</h2>
          <StatusBanner status={msgStatus} />
          <p lang={other}>
            <strong>{label(preview, `precedence.${precedence}`)}</strong> ·{' '}
            {label(preview, `status.${msgStatus}`)} ·{' '}
            {label(preview, `tlp.${tlp.replace('+', '-')}`)}
          </p>
          {type === 'incident.report' && category && <p lang={other}>{label(preview, category)}</p>}
          {severity && <p lang={other}>{label(preview, severity)}</p>}
          <ul lang={other}>
            {[...requested, ...phrases].map((c) => (
              <li key={c}>{label(preview, c)}</li>
            ))}
          </ul>
          {text.trim() && (
            <figure className="original">
              <figcaption>{t('message.original')}</figcaption>
              <blockquote lang={lang}>{text}</blockquote>
            </figure>
          )}
          {translation.trim() && (
            <figure className="translation">
              <figcaption>{t('message.senderTranslation')}</figcaption>
              <blockquote lang={other}>{translation}</blockquote>
            </figure>
          )}
          {text.trim() && !translation.trim() && (
            <p className="detail">{t('compose.noTranslation')}</p>
          )}
          {type === 'incident.report' && <FrameworkCriteria draft={draft} />}
        </section>
      </div>
    </>
  );
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
