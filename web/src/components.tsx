/** Small pieces the pages share: times, codes, banners of status and TLP. */
import { useTranslation } from 'react-i18next';
import type { Body } from '../../src/protocol/body.ts';
import type { Status, Tlp } from '../../src/protocol/values.ts';
import type { RenderedCode } from '../../src/protocol/views.ts';
import { useConsole } from './console.tsx';
import { formatLocal, formatUtc } from './time.ts';

/** A time in UTC and in the reader's zone. */
export function Time({ iso }: { iso: string | null | undefined }) {
  const { lang } = useConsole();
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} className="time">
      <span className="utc">{formatUtc(iso)}</span>
      <span className="local">{formatLocal(iso, lang)}</span>
    </time>
  );
}

/** A vocabulary code in the reader's language, with its warnings beside it. */
export function Code(props: {
  code: string;
  rendered?: RenderedCode | undefined;
  quiet?: boolean;
}) {
  const { codes } = useConsole();
  const r = props.rendered ?? codes.get(props.code);
  return (
    <span className={`code${r?.known === false ? ' unknown' : ''}`} title={r?.definition}>
      {r?.text ?? props.code}
      {!props.quiet && r?.warnings.length ? (
        <span className="warn"> ⚠ {r.warnings.join('; ')}</span>
      ) : null}
    </span>
  );
}

/**
 * EXERCISE and TEST traffic carries a full-width striped banner above and below it, in words
 * and colour no real message uses: nobody takes a drill for the real thing.
 */
export function StatusBanner({ status }: { status: Status }) {
  const { t } = useTranslation();
  if (status === 'actual') return null;
  return (
    <div className={`status-banner status-${status}`} data-testid={`status-${status}`}>
      {t(`statusBanner.${status}`)}
    </div>
  );
}

export function TlpBadge({ tlp }: { tlp: Tlp }) {
  return <span className={`tlp tlp-${tlp.replace('+', '-')}`}>TLP:{tlp.toUpperCase()}</span>;
}

export function PrecedenceBadge({ body }: { body: Pick<Body, 'precedence'> }) {
  return (
    <span className={`precedence precedence-${body.precedence}`}>
      <Code code={`precedence.${body.precedence}`} quiet />
    </span>
  );
}

/** A peer's name in the reader's language. */
export function PartyName({ party }: { party: string }) {
  const { status, lang } = useConsole();
  if (party === status?.party) return <>{status.names[lang] ?? party}</>;
  const peer = status?.peers.find((p) => p.party === party);
  return <>{peer?.names[lang] ?? party}</>;
}
