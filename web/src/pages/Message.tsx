/**
 * One message as its reader sees it: codes in the reader's language, the free text in its
 * author's words (authoritative) with every translation labelled by who made it, attachments
 * with their STIX summary, STATUS and TLP, and the thread around it. A received message is
 * acknowledged with one click (or Enter) and answered from here.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isPresenceCheck } from '../../../src/protocol/flows.ts';
import { VOCABULARY_SOURCE_LANG } from '../../../src/protocol/glossary.ts';
import type {
  InboxItem,
  LocalTranslation,
  MessageView,
  OutboxItem,
} from '../../../src/protocol/views.ts';
import { answersTo } from '../answers.ts';
import { ApiFailure, acknowledge, api } from '../api.ts';
import {
  Code,
  PartyName,
  PrecedenceBadge,
  StatusBanner,
  Time,
  TlpBadge,
  unreviewedSentence,
} from '../components.tsx';
import { Link, useConsole } from '../console.tsx';
import { translateByMachine } from '../history-api.ts';
import { RecipientStatus } from '../recipients.tsx';
import { NotificationFields } from './Compliance.tsx';
import { Citations, EvaluationCard } from './Evaluation.tsx';
import { PresenceButtons } from './Flows.tsx';

export function MessagePage({ party, id }: { party: string; id: string }) {
  const { t } = useTranslation();
  const { lang, inbox, outbox, me, status, refresh, codes } = useConsole();
  const [view, setView] = useState<MessageView>();
  const [local, setLocal] = useState<LocalTranslation[]>([]);
  const [error, setError] = useState<string>();
  const [reply, setReply] = useState('');
  const [ownTranslation, setOwnTranslation] = useState('');
  const other = lang === 'zh' ? 'en' : 'zh';
  const [phrase, setPhrase] = useState('');
  /** The sha256 of each of this message's evaluation results the reply cites. */
  const [cited, setCited] = useState<string[]>([]);
  const [sending, setSending] = useState(false);
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    setError(undefined);
    api.message(party, id, lang).then(setView, (e: unknown) => setError(describe(e)));
    api.translations(party, id, lang).then(setLocal, () => setLocal([]));
  }, [party, id, lang]);

  if (error)
    return (
      <>
        <h1 tabIndex={-1}>{t('message.title')}</h1>
        <p role="alert" className="error">
          {error}
        </p>
      </>
    );
  if (!view) return <p>{t('common.loading')}</p>;

  const body = view.body;
  const r = view.rendered;
  // The unreviewed sentence once for the message (not per code), and not in the vocabulary's
  // own language; every other warning as the node gave it.
  const rendered = [
    r.precedence,
    r.status,
    r.tlp,
    ...r.codes,
    ...(r.report
      ? [
          r.report.nature,
          r.report.category,
          ...r.report.actionsTaken,
          ...r.report.actionsRequested,
          ...(r.report.harm
            ? [...r.report.harm.types, r.report.harm.severity, r.report.harm.reversibility]
            : []),
          ...(r.report.attribution
            ? [r.report.attribution.actor, r.report.attribution.confidence]
            : []),
        ]
      : []),
    ...(r.state ? [r.state] : []),
    ...(r.notice ? [r.notice] : []),
  ];
  const sentence = rendered.map(unreviewedSentence).find(Boolean);
  const unreviewed = r.lang !== VOCABULARY_SOURCE_LANG ? sentence : undefined;
  const warnings = sentence
    ? view.warnings.filter((w) => !w.endsWith(`: ${sentence}`))
    : view.warnings;
  const received = inbox.find((m) => m.from === party && m.id === id);
  const { acks, replies } = answersTo(id, inbox, outbox);
  const desk = me.desks[0];
  const parent = body.inReplyTo
    ? [
        ...inbox.map((m) => ({ party: m.from, m })),
        ...outbox.map((m) => ({ party: status?.party ?? '', m })),
      ].find((x) => x.m.id === body.inReplyTo)
    : undefined;

  const act = async (what: () => Promise<unknown>, done: string) => {
    setSending(true);
    setNotice(undefined);
    try {
      await what();
      await refresh();
      setNotice(done);
      return true;
    } catch (e) {
      setNotice(describe(e));
      return false;
    } finally {
      setSending(false);
    }
  };
  // The configured machine-translation endpoint translates the original into the reader's
  // language; the result is a local note, labelled with the machine's name and never sent.
  const translate = () =>
    act(async () => {
      await translateByMachine(party, id, lang, desk as string);
      setLocal(await api.translations(party, id, lang));
    }, t('hist.translateDone'));
  const ack = (m: InboxItem) => act(() => acknowledge(m, desk as string), t('message.ackSent'));
  const answer = async (e: FormEvent, m: InboxItem) => {
    e.preventDefault();
    const ok = await act(
      () =>
        api.send([m.from], {
          type: 'reply',
          inReplyTo: m.id,
          ...(m.body.incident ? { incident: m.body.incident } : {}),
          precedence: m.body.precedence,
          status: m.body.status,
          tlp: m.body.tlp,
          codes: phrase ? [phrase] : [],
          ...(reply.trim() ? { text: { lang, body: reply.trim() } } : {}),
          translations:
            reply.trim() && ownTranslation.trim()
              ? [{ lang: other, body: ownTranslation.trim() }]
              : [],
          attachments: [],
          author: { desk: desk as string },
          approvals: [],
          ...(cited.length
            ? { ext: { cites: cited.map((sha256) => ({ from: m.from, message: m.id, sha256 })) } }
            : {}),
        }),
      t('message.replySent'),
    );
    if (ok) {
      setReply('');
      setOwnTranslation('');
      setPhrase('');
      setCited([]);
    }
  };

  return (
    <article className={`message message-${body.precedence}`} lang={undefined}>
      <StatusBanner status={body.status} />
      {view.disputed && (
        <div className="disputed-banner" role="alert" data-testid="disputed-banner">
          <strong>{t('keys.disputedBanner')}</strong>{' '}
          <span>
            {t('keys.disputedAt')}: <Time iso={view.disputed.at} />
          </span>{' '}
          <Link href="/keys">{t('keys.seeKeys')}</Link>
        </div>
      )}
      <h1 tabIndex={-1}>
        <PrecedenceBadge body={body} /> {t(`types.${body.type}`, { defaultValue: body.type })}
      </h1>
      <dl className="meta">
        <dt>{view.dir === 'in' ? t('message.from') : t('message.to')}</dt>
        <dd>
          {view.dir === 'in' ? (
            <>
              <PartyName party={view.from} /> / {body.author.desk}
            </>
          ) : (
            <RecipientStatus rows={outbox.filter((m) => m.id === id)} />
          )}
        </dd>
        <dt>{view.dir === 'in' ? t('message.received') : t('message.sent')}</dt>
        <dd>
          <Time iso={view.at} />
        </dd>
        {received && (
          <>
            <dt>{t('message.sent')}</dt>
            <dd>
              <Time iso={received.sent} />
            </dd>
          </>
        )}
        <dt>TLP</dt>
        <dd>
          <TlpBadge tlp={body.tlp} /> <Code code={r.tlp.code} rendered={r.tlp} />
        </dd>
        <dt>{t('message.status')}</dt>
        <dd>
          <Code code={r.status.code} rendered={r.status} />
        </dd>
        {body.incident && (
          <>
            <dt>{t('message.incident')}</dt>
            <dd>
              <Link href={`/incident/${body.incident}`}>
                <code>{body.incident}</code>
              </Link>
            </dd>
          </>
        )}
        {parent && (
          <>
            <dt>{t('message.inReplyTo')}</dt>
            <dd>
              <Link href={`/message/${parent.party}/${parent.m.id}`}>
                {parent.m.body.text?.body.slice(0, 80) || parent.m.id}
              </Link>
            </dd>
          </>
        )}
      </dl>

      {(body.type === 'presence' || body.type === 'conference') && (
        <p>
          <Link href="/flows">{t('flow.open')}</Link>
        </p>
      )}
      {r.report && (
        <section aria-labelledby="report-title">
          <h2 id="report-title">{t('message.report')}</h2>
          <dl className="meta">
            <dt>{t('compose.nature')}</dt>
            <dd>
              <Code code={r.report.nature.code} rendered={r.report.nature} />
            </dd>
            <dt>{t('compose.category')}</dt>
            <dd>
              <Code code={r.report.category.code} rendered={r.report.category} />
            </dd>
            {r.report.harm && (
              <>
                <dt>{t('compose.severity')}</dt>
                <dd>
                  <Code code={r.report.harm.severity.code} rendered={r.report.harm.severity} />
                </dd>
              </>
            )}
            <dt>{t('compose.actionsRequested')}</dt>
            <dd>
              <ul>
                {r.report.actionsRequested.map((c) => (
                  <li key={c.code}>
                    <Code code={c.code} rendered={c} />
                  </li>
                ))}
              </ul>
            </dd>
          </dl>
        </section>
      )}

      {r.codes.length > 0 && (
        <section aria-labelledby="codes-title">
          <h2 id="codes-title">{t('message.codes')}</h2>
          <ul>
            {r.codes.map((c) => (
              <li key={c.code}>
                <Code code={c.code} rendered={c} />
              </li>
            ))}
          </ul>
        </section>
      )}

      {r.text && (
        <section aria-labelledby="text-title" className="free-text">
          <h2 id="text-title">{t('message.freeText')}</h2>
          <figure className="original">
            <figcaption>
              {r.text.label} · {r.text.lang}
            </figcaption>
            <blockquote lang={r.text.lang} data-testid="original-text">
              {r.text.body}
            </blockquote>
          </figure>
          {r.senderTranslations.map((tr) => (
            <figure key={`s-${tr.lang}`} className="translation">
              <figcaption>
                {tr.label} · {tr.lang}
              </figcaption>
              <blockquote lang={tr.lang}>{tr.body}</blockquote>
            </figure>
          ))}
          {local.map((tr) => (
            <figure
              key={tr.id}
              className="translation local"
              data-testid={`local-translation-${tr.kind}`}
            >
              <figcaption>
                {tr.label} · {tr.lang} · <Time iso={tr.createdAt} />
              </figcaption>
              <blockquote lang={tr.lang}>{tr.text}</blockquote>
            </figure>
          ))}
          {view.dir === 'in' &&
            !view.disputed &&
            r.text.lang !== lang &&
            !r.senderTranslations.some((tr) => tr.lang === lang) &&
            !local.some((tr) => tr.lang === lang) && (
              <p>
                <button
                  type="button"
                  onClick={translate}
                  disabled={sending || !desk}
                  data-testid="machine-translate"
                >
                  {t('hist.translate', { lang: t(`lang.${lang}`) })}
                </button>{' '}
                {notice && <span role="status">{notice}</span>}
              </p>
            )}
        </section>
      )}

      {view.attachments.length > 0 && (
        <section aria-labelledby="attachments-title">
          <h2 id="attachments-title">{t('message.attachments')}</h2>
          <ul className="cards">
            {view.attachments.map((a, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in the order it was written
              <li key={`${i}-${a.name}`} data-testid="attachment">
                <strong className="attachment-name">{a.name}</strong> · {a.mediaType} ·{' '}
                {t('message.bytes', { count: a.bytes })} ·{' '}
                {a.intact ? t('message.intact') : t('message.notIntact')}
                {a.evaluation && <EvaluationCard view={a.evaluation} />}
                {a.stix && 'summary' in a.stix && (
                  <div className="stix">
                    {t('message.stix', { count: a.stix.summary.objects })}:{' '}
                    {Object.entries(a.stix.summary.types)
                      .map(([type, n]) => `${type} × ${n}`)
                      .join(', ')}
                    <ul>
                      {a.stix.summary.listed.map((o) => (
                        <li key={o.id}>
                          {o.type}: {o.label ?? o.id}
                        </li>
                      ))}
                    </ul>
                  </div>
                )}
                {a.notification && <NotificationFields view={a.notification} />}
              </li>
            ))}
          </ul>
        </section>
      )}

      {view.citations && <Citations citations={view.citations} />}

      {unreviewed && (
        <p className="warn" data-testid="unreviewed">
          ⚠ {t('message.unreviewedNote', { warning: unreviewed })}
        </p>
      )}
      {warnings.length > 0 && (
        <details className="warnings">
          <summary>{t('message.warnings', { count: warnings.length })}</summary>
          <ul>
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </details>
      )}

      <section aria-labelledby="thread-title">
        <h2 id="thread-title">{t('message.thread')}</h2>
        {acks.length === 0 && replies.length === 0 && <p>{t('message.noAnswers')}</p>}
        <ol className="thread" data-testid="thread">
          {[...acks, ...replies].map((m) => (
            <ThreadItem key={m.id} m={m} own={status?.party ?? ''} />
          ))}
        </ol>
      </section>

      {received && received.body.type !== 'ack' && (
        <section aria-labelledby="act-title" className="act">
          <h2 id="act-title">{t('message.respond')}</h2>
          {!desk && <p className="error">{t('message.noDesk')}</p>}
          <form onSubmit={(e) => answer(e, received)} className="section-form">
            <label>
              {t('message.replyPhrase')}
              <select value={phrase} onChange={(e) => setPhrase(e.target.value)}>
                <option value="">{t('compose.none')}</option>
                {[...codes.values()]
                  .filter((c) => c.code.startsWith('phrase.'))
                  .map((c) => (
                    <option key={c.code} value={c.code}>
                      {c.text}
                    </option>
                  ))}
              </select>
            </label>
            <label>
              {t('message.replyLabel')}
              <textarea
                value={reply}
                onChange={(e) => setReply(e.target.value)}
                rows={4}
                lang={lang}
                data-testid="reply-text"
                data-shortcut="reply"
              />
            </label>
            <label>
              {t('compose.translation', { lang: t(`lang.${other}`) })}
              <textarea
                value={ownTranslation}
                onChange={(e) => setOwnTranslation(e.target.value)}
                rows={3}
                lang={other}
                data-testid="reply-translation"
              />
            </label>
            {view.attachments.map(
              (a, i) =>
                a.evaluation &&
                'result' in a.evaluation && (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in the order it was written
                  <label key={`${i}-${a.name}`} className="check">
                    <input
                      type="checkbox"
                      data-testid="cite-evaluation"
                      checked={cited.includes(view.body.attachments[i]?.sha256 ?? '')}
                      onChange={(e) => {
                        const sha256 = view.body.attachments[i]?.sha256 ?? '';
                        setCited((all) =>
                          e.target.checked ? [...all, sha256] : all.filter((x) => x !== sha256),
                        );
                      }}
                    />
                    {t('fw.evaluation.cite')} ({a.name})
                  </label>
                ),
            )}
            <button type="submit" disabled={sending || !desk || (!reply.trim() && !phrase)}>
              {t('message.sendReply')}
            </button>
          </form>
        </section>
      )}
      {received && received.body.type !== 'ack' && (
        // Always in view, however long the message or the alarm banner: acknowledging never
        // needs a scroll.
        <div className="action-bar" data-testid="action-bar">
          {isPresenceCheck(received.body) && received.body.presence
            ? (answerOfPresence(replies, t) ?? (
                <PresenceButtons party={party} id={id} desk={received.body.presence.desk} />
              ))
            : !acks.some((m) => 'to' in m) && (
                <button
                  type="button"
                  className="primary"
                  disabled={sending || !desk}
                  onClick={() => ack(received)}
                  data-testid="acknowledge"
                  data-shortcut="ack"
                  aria-keyshortcuts="Alt+A"
                >
                  {t('message.acknowledge')} <kbd>Alt+A</kbd>
                </button>
              )}
          <button
            type="button"
            aria-keyshortcuts="Alt+R"
            onClick={() => document.querySelector<HTMLElement>('[data-shortcut="reply"]')?.focus()}
          >
            {t('message.replyLabel')} <kbd>Alt+R</kbd>
          </button>
          {notice && <span role="status">{notice}</span>}
        </div>
      )}
      <StatusBanner status={body.status} />
    </article>
  );
}

function ThreadItem({ m, own }: { m: InboxItem | OutboxItem; own: string }) {
  const { t } = useTranslation();
  const incoming = 'from' in m;
  const party = incoming ? m.from : own;
  return (
    <li className={`thread-item ${incoming ? 'in' : 'out'}`} data-testid={`thread-${m.body.type}`}>
      <strong>
        {m.body.type === 'ack' ? t('message.ackBy') : t('message.replyBy')}{' '}
        <PartyName party={party} />
        {' / '}
        {m.body.author.desk}
      </strong>{' '}
      <Time iso={incoming ? m.receivedAt : m.createdAt} />
      {m.body.text && (
        <p lang={m.body.text.lang}>
          <Link href={`/message/${party}/${m.id}`}>{m.body.text.body}</Link>
        </p>
      )}
      {m.body.codes.map((c) => (
        <div key={c}>
          <Code code={c} quiet />
        </div>
      ))}
    </li>
  );
}

/** This side's answer to a presence check, said in place of the buttons; null before it. */
function answerOfPresence(
  replies: Array<InboxItem | OutboxItem>,
  t: (key: string, options?: Record<string, unknown>) => string,
) {
  const answer = replies.find((m) => 'to' in m && m.body.presence?.answer)?.body.presence?.answer;
  if (!answer) return null;
  return (
    <span role="status" data-testid="presence-answered">
      {t('flow.presence.answered', { answer: t(`flow.presence.${answer}`) })}
    </span>
  );
}

function describe(e: unknown): string {
  return e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e);
}
