/** Small pieces the pages share: times, codes, banners of status and TLP, the step-up field. */
import { useTranslation } from 'react-i18next';
import type { Body } from '../../src/protocol/body.ts';
import type { Status, Tlp } from '../../src/protocol/values.ts';
import type { RenderedCode } from '../../src/protocol/views.ts';
import { useConsole } from './console.tsx';
import { formatIn, formatUtc, zonesToShow } from './time.ts';

/** Each party's name and time zone (from the node's `timeZones`), ours first. */
export function usePartyZones(): Array<{ name: string; zone: string | null }> {
  const { status, lang } = useConsole();
  if (!status) return [];
  return [
    { name: status.names[lang] ?? status.party, zone: status.timeZone },
    ...status.peers.map((p) => ({ name: p.names[lang] ?? p.party, zone: p.timeZone })),
  ];
}

/** A time in UTC, in each party's zone, and in the reader's own when it is another. */
export function Time({ iso }: { iso: string | null | undefined }) {
  const { t } = useTranslation();
  const zones = zonesToShow(usePartyZones());
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} className="time">
      <span className="utc">{formatUtc(iso)}</span>
      {zones.map((z) => (
        <span className="local" key={z.zone}>
          {z.name ?? t('common.here')} {formatIn(iso, z.zone)}
        </span>
      ))}
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
  const warnings = r ? ownWarnings(r) : [];
  return (
    <span className={`code${r?.known === false ? ' unknown' : ''}`} title={r?.definition}>
      {r?.text ?? props.code}
      {!props.quiet && warnings.length ? (
        <span className="warn"> ⚠ {warnings.join('; ')}</span>
      ) : null}
    </span>
  );
}

/**
 * The vocabulary's "not yet reviewed by a native speaker" sentence, as `r` carries it (the last
 * of its warnings when unreviewed, src/protocol/vocabulary.ts): said once per message, not per
 * code, and never in the language the vocabulary is drafted in.
 */
export function unreviewedSentence(r: RenderedCode): string | undefined {
  return r.review === 'unreviewed' ? r.warnings.at(-1) : undefined;
}

/** A code's warnings without the unreviewed sentence. */
export function ownWarnings(r: RenderedCode): string[] {
  return r.review === 'unreviewed' ? r.warnings.slice(0, -1) : r.warnings;
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

/**
 * The second factor for a step-up: a typed code, or empty for the passkey. `label` says what it is
 * asked for (a decision, by default).
 */
export function StepUpField({
  value,
  onChange,
  label,
}: {
  value: string;
  onChange: (v: string) => void;
  label?: string;
}) {
  const { t } = useTranslation();
  return (
    <label>
      {label ?? t('sf.stepUp')}
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
