/**
 * Where a message of ours stands with each of its recipients: sent (waiting for their receipt,
 * with the last delivery error), received by their node, acknowledged by a person at their desk —
 * one row per party, so a message to several parties shows who has not yet seen or answered it.
 */
import { useTranslation } from 'react-i18next';
import type { OutboxItem } from '../../src/protocol/views.ts';
import { PartyName, Time } from './components.tsx';

export function RecipientStatus({ rows }: { rows: OutboxItem[] }) {
  const { t } = useTranslation();
  return (
    <table className="recipients" data-testid="recipients">
      <thead>
        <tr>
          <th scope="col">{t('recipients.party')}</th>
          <th scope="col">{t('recipients.state')}</th>
          <th scope="col">{t('recipients.received')}</th>
          <th scope="col">{t('recipients.acknowledged')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const ack = r.followup?.acknowledged;
          const state = ack ? 'acknowledged' : r.status === 'receipted' ? 'received' : 'sent';
          return (
            <tr key={r.to} data-party={r.to} data-state={state}>
              <th scope="row">
                <PartyName party={r.to} />
              </th>
              <td className={`recipient-${state}`}>
                {t(`recipients.${state}State`)}
                {state === 'sent' && r.lastError
                  ? ` · ${t('recipients.attempts', { count: r.attempts })}: ${r.lastError}`
                  : ''}
              </td>
              <td>
                <Time iso={r.peerReceivedAt} />
              </td>
              <td>
                {ack ? (
                  <>
                    {ack.desk ?? '—'}
                    {ack.person ? ` (${ack.person})` : ''}, <Time iso={ack.at} />
                  </>
                ) : r.followup ? (
                  <>
                    {t('recipients.due')} <Time iso={r.followup.deadline} />
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
