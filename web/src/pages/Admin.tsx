/** Admin: pinned peers and their fingerprints, accounts, and the latest audit trail. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditItem, UserView } from '../../../src/protocol/views.ts';
import { ApiFailure, api } from '../api.ts';
import { PartyName, Time } from '../components.tsx';
import { useConsole } from '../console.tsx';

const failure = (e: unknown) => (e instanceof ApiFailure ? `${e.code}: ${e.message}` : String(e));

export function Admin() {
  const { t } = useTranslation();
  const { status } = useConsole();
  const [users, setUsers] = useState<UserView[]>([]);
  const [audit, setAudit] = useState<AuditItem[]>([]);
  const [error, setError] = useState<string>();
  const fail = (e: unknown) => setError(failure(e));

  useEffect(() => {
    const fail = (e: unknown) => setError(failure(e));
    api.users().then(setUsers, fail);
    api.audit(50).then(setAudit, fail);
  }, []);

  return (
    <>
      <h1 tabIndex={-1}>{t('admin.title')}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section aria-labelledby="peers-title">
        <h2 id="peers-title">{t('admin.peers')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('board.peer')}</th>
              <th scope="col">{t('admin.fingerprint')}</th>
              <th scope="col">{t('admin.paths')}</th>
            </tr>
          </thead>
          <tbody>
            {status?.peers.map((p) => (
              <tr key={p.party}>
                <th scope="row">
                  <PartyName party={p.party} /> ({p.party})
                </th>
                <td>
                  <code className="fingerprint">{p.fingerprint}</code>
                </td>
                <td>{p.paths.map((x) => `${x.path} ${x.url}`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="users-title">
        <h2 id="users-title">{t('admin.users')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('admin.name')}</th>
              <th scope="col">{t('admin.role')}</th>
              <th scope="col">{t('admin.created')}</th>
              <th scope="col">{t('admin.state')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.name}>
                <th scope="row">
                  {u.name}
                  {u.displayName ? ` (${u.displayName})` : ''}
                </th>
                <td>{t(`role.${u.role}`)}</td>
                <td>
                  <Time iso={u.createdAt} />
                </td>
                <td>
                  {u.disabledAt
                    ? t('admin.disabled')
                    : u.lockedUntil && u.lockedUntil > new Date().toISOString()
                      ? t('admin.locked')
                      : t('admin.active')}
                  {!u.disabledAt && u.lockedUntil && u.lockedUntil > new Date().toISOString() && (
                    <>
                      {' '}
                      <button
                        type="button"
                        onClick={() =>
                          api
                            .unlockUser(u.name)
                            .then(
                              (unlocked) =>
                                setUsers((all) =>
                                  all.map((x) => (x.name === u.name ? unlocked : x)),
                                ),
                              fail,
                            )
                        }
                      >
                        {t('admin.unlock', { name: u.name })}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="audit-trail-title">
        <h2 id="audit-trail-title">{t('admin.audit')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('admin.when')}</th>
              <th scope="col">{t('admin.actor')}</th>
              <th scope="col">{t('admin.action')}</th>
              <th scope="col">{t('admin.target')}</th>
              <th scope="col">{t('admin.outcome')}</th>
            </tr>
          </thead>
          <tbody>
            {audit.map((a) => (
              <tr key={a.id}>
                <td>
                  <Time iso={a.at} />
                </td>
                <td>
                  {a.actor ?? '—'} ({a.via}, {a.source ?? '—'})
                </td>
                <td>{a.action}</td>
                <td>{a.target ?? ''}</td>
                <td>{a.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
