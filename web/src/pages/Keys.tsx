/**
 * Keys: our card (serial, fingerprint, keys), the sealing keys (current, retired and held until
 * receipts, destroyed), and every key rotation, ours and the peers', newest first. A compromise
 * rotation stands out: it names the messages it disputed (theirs) or re-signed (ours), each
 * linking to its page, and says what the duty officer does next (docs/operators.md § Key
 * rotation and compromise, steps 5–6). The `compromise` alarm leads here.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { NodeStatus, Rotations, RotationView } from '../../../src/protocol/views.ts';
import { shortId } from '../alarm-items.ts';
import { ApiFailure, api } from '../api.ts';
import { PartyName, Time } from '../components.tsx';
import { Link, useConsole } from '../console.tsx';

export function Keys() {
  const { t } = useTranslation();
  const { status, alarms } = useConsole();
  const [shown, setShown] = useState<Rotations>();
  const [error, setError] = useState<string>();
  // A new rotation comes with a new card (ours or a peer's) or an alarm: read the list again.
  const cards = status
    ? [status.card.serial, ...status.peers.map((p) => p.fingerprint)].join(' ')
    : '';
  const compromises = alarms.filter((a) => a.type === 'compromise').length;
  useEffect(() => {
    void cards;
    void compromises;
    api.rotations().then(
      (r) => {
        setShown(r);
        setError(undefined);
      },
      (e: unknown) => setError(e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e)),
    );
  }, [cards, compromises]);

  const newestFirst = [...(shown?.rotations ?? [])].sort((a, b) => b.at.localeCompare(a.at));
  return (
    <>
      <h1 tabIndex={-1}>{t('keys.title')}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section aria-labelledby="rotations-heading">
        <h2 id="rotations-heading">{t('keys.rotations')}</h2>
        {shown && !newestFirst.length && <p>{t('keys.noRotations')}</p>}
        {!shown && !error && <p>{t('common.loading')}</p>}
        {newestFirst.map((r) => (
          <RotationItem key={`${r.dir}/${r.id}`} rotation={r} />
        ))}
      </section>
      {status && <OurCard status={status} />}
      {status && <SealingKeys status={status} />}
    </>
  );
}

function RotationItem({ rotation: r }: { rotation: RotationView }) {
  const { t } = useTranslation();
  const { status, words } = useConsole();
  const compromise = r.reason === 'compromise';
  const ours = r.dir === 'out';
  const party = words.party(r.party);
  const headingId = `rotation-${r.id}`;
  return (
    <article
      className={`rotation rotation-${r.reason}`}
      aria-labelledby={headingId}
      data-testid="rotation"
      data-reason={r.reason}
      data-dir={r.dir}
    >
      <h3 id={headingId}>
        <span className={`rotation-reason reason-${r.reason}`}>{t(`keys.reason.${r.reason}`)}</span>{' '}
        {ours ? t('keys.rotationOurs') : t('keys.rotationTheirs', { party })}
      </h3>
      {compromise && (
        <p className="rotation-summary" role={ours ? undefined : 'alert'}>
          <strong>{ours ? t('keys.compromiseOurs') : t('keys.compromiseTheirs', { party })}</strong>
        </p>
      )}
      <dl className="meta">
        <dt>{t('keys.at')}</dt>
        <dd>
          <Time iso={r.at} />
        </dd>
        <dt>{t('keys.serial')}</dt>
        <dd data-testid="rotation-serial">{r.serial}</dd>
        {r.since && (
          <>
            <dt>{t('keys.untrustedSince')}</dt>
            <dd>
              <Time iso={r.since} />
            </dd>
          </>
        )}
        {r.untrusted && (
          <>
            <dt>{t('keys.firstUntrusted')}</dt>
            <dd data-testid="rotation-untrusted">
              {Object.entries(r.untrusted).map(([channel, seq]) => (
                <span key={channel} className="untrusted">
                  {/* `out`: per recipient; `in`: the seqs it sent us. */}
                  {t('keys.firstUntrustedTo', {
                    party: words.party(ours ? channel : r.party),
                    seq,
                  })}{' '}
                </span>
              ))}
            </dd>
          </>
        )}
        <dt>{t('keys.replaced')}</dt>
        <dd>
          <ul className="plain-list">
            {r.replacedKeys.map((k) => (
              <li key={k.kid}>
                {k.purpose ?? t('keys.unknownPurpose')}
                {k.alg ? ` (${k.alg})` : ''} <code className="kid">{k.kid}</code>
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {compromise && !ours && (
        <>
          <h4>{t('keys.disputed', { count: r.disputed.length })}</h4>
          {r.disputed.length ? (
            <ul data-testid="disputed-list">
              {r.disputed.map((d) => (
                <li key={d.id}>
                  <Link href={`/message/${r.party}/${d.id}`}>
                    {t('keys.seqMessage', { seq: d.seq, short: shortId(d.id) })}
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <p>{t('keys.noneDisputed')}</p>
          )}
        </>
      )}
      {compromise && ours && (
        <>
          <h4>{t('keys.resigned', { count: r.resigned.length })}</h4>
          {r.resigned.length ? (
            <ul data-testid="resigned-list">
              {r.resigned.map((m) => (
                <li key={`${m.party}/${m.id}`}>
                  <Link href={`/message/${status?.party ?? r.party}/${m.id}`}>
                    {t('keys.seqMessage', { seq: m.seq, short: shortId(m.id) })}
                  </Link>{' '}
                  {t('keys.toParty', { party: words.party(m.party) })}
                </li>
              ))}
            </ul>
          ) : (
            <p>{t('keys.noneResigned')}</p>
          )}
        </>
      )}
      {compromise && (
        <div className="next-steps" data-testid="next-steps">
          <h4>{t('keys.nextTitle')}</h4>
          <ol>
            {ours ? (
              <>
                <li>{t('keys.nextOurs1')}</li>
                <li>{t('keys.nextOurs2')}</li>
              </>
            ) : (
              <>
                <li>{t('keys.nextTheirs1')}</li>
                <li>{t('keys.nextTheirs2')}</li>
                <li>
                  {t('keys.nextTheirs3')} <Link href="/board">{t('nav.board')}</Link>
                </li>
              </>
            )}
          </ol>
          <p className="detail">{t('keys.procedure')}</p>
        </div>
      )}
    </article>
  );
}

function OurCard({ status }: { status: NodeStatus }) {
  const { t } = useTranslation();
  const card = status.card;
  return (
    <section aria-labelledby="card-heading">
      <h2 id="card-heading">
        {t('keys.ourCard')} — <PartyName party={status.party} />
      </h2>
      <dl className="meta">
        <dt>{t('keys.serial')}</dt>
        <dd data-testid="card-serial">{card.serial}</dd>
        <dt>{t('keys.fingerprint')}</dt>
        <dd>
          <code className="fingerprint" data-testid="card-fingerprint">
            {card.fingerprint}
          </code>
          <br />
          <span className="detail">{t('keys.fingerprintHint')}</span>
        </dd>
        <dt>{t('keys.issued')}</dt>
        <dd>
          <Time iso={card.issued} />
        </dd>
        <dt>{t('keys.expires')}</dt>
        <dd>
          <Time iso={card.expires} />
        </dd>
      </dl>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('keys.purpose')}</th>
            <th scope="col">{t('keys.alg')}</th>
            <th scope="col">{t('keys.kid')}</th>
          </tr>
        </thead>
        <tbody>
          {card.keys.map((k) => (
            <tr key={k.kid}>
              <td>{k.purpose}</td>
              <td>{k.alg}</td>
              <td>
                <code className="kid">{k.kid}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function SealingKeys({ status }: { status: NodeStatus }) {
  const { t } = useTranslation();
  const current = status.card.keys.filter((k) => k.purpose === 'sealing');
  return (
    <section aria-labelledby="sealing-heading">
      <h2 id="sealing-heading">{t('keys.sealing')}</h2>
      <table data-testid="sealing-keys">
        <thead>
          <tr>
            <th scope="col">{t('keys.kid')}</th>
            <th scope="col">{t('keys.alg')}</th>
            <th scope="col">{t('keys.state')}</th>
            <th scope="col">{t('keys.since')}</th>
          </tr>
        </thead>
        <tbody>
          {current.map((k) => (
            <tr key={k.kid} data-state="current">
              <td>
                <code className="kid">{k.kid}</code>
              </td>
              <td>{k.alg}</td>
              <td>{t('keys.states.current')}</td>
              <td>
                <Time iso={status.card.issued} />
              </td>
            </tr>
          ))}
          {status.sealingKeys.map((k) => (
            <tr key={k.kid} data-state={k.state}>
              <td>
                <code className="kid">{k.kid}</code>
              </td>
              <td>{k.suite}</td>
              <td>
                {t(`keys.states.${k.state}`)}
                {k.state === 'held' && k.waiting.length > 0 && (
                  <span className="detail">
                    {' '}
                    — {t('keys.waitsFor')}: {k.waiting.join('; ')}
                  </span>
                )}
              </td>
              <td>
                <Time iso={k.destroyedAt ?? k.retiredAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
