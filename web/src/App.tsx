/**
 * The console's frame: sign-in, the layout every page shares (navigation, language, the feed's
 * state and the alarm banner), the live data every page reads, and a small router.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type {
  Alarm,
  InboxItem,
  Me,
  NodeStatus,
  OutboxItem,
  RenderedCode,
} from '../../src/protocol/views.ts';
import { Alarmer, type AlarmItem, audioReady, unlockAudio } from './alarm.ts';
import { alarmItems, type Words } from './alarm-items.ts';
import { unacknowledged } from './answers.ts';
import { api, whenSignedOut } from './api.ts';
import { ConsoleContext, type ConsoleData, Link, useConsole } from './console.tsx';
import { type FeedState, openFeed } from './feed.ts';
import { type Lang, languageOf, setLanguage } from './i18n.ts';
import { useIncidentsLive } from './incidents-live.ts';
import { Admin } from './pages/Admin.tsx';
import { Approvals } from './pages/Approvals.tsx';
import { Board } from './pages/Board.tsx';
import { Compliance } from './pages/Compliance.tsx';
import { Compose } from './pages/Compose.tsx';
import { Drills } from './pages/Drills.tsx';
import { Duty } from './pages/Duty.tsx';
import { Flows } from './pages/Flows.tsx';
import { History } from './pages/History.tsx';
import { IncidentPage } from './pages/Incident.tsx';
import { Keys } from './pages/Keys.tsx';
import { Login } from './pages/Login.tsx';
import { MessagePage } from './pages/Message.tsx';
import { Record } from './pages/Record.tsx';
import { ReportPage } from './pages/Report.tsx';
import { Security } from './pages/Security.tsx';
import { currentTheme, setTheme, type Theme } from './theme.ts';

const SILENCED = 'hotline.silenced';

type Route =
  | { page: 'board' }
  | { page: 'message'; party: string; id: string }
  | { page: 'compose' }
  | { page: 'duty' }
  | { page: 'record' }
  | { page: 'admin' }
  | { page: 'incident'; id: string }
  | { page: 'report'; id: string }
  | { page: 'history' }
  | { page: 'approvals'; id?: string }
  | { page: 'drills' }
  | { page: 'flows' }
  | { page: 'compliance' }
  | { page: 'security' }
  | { page: 'keys' }
  | { page: 'missing' };

function route(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  if (!parts.length || parts[0] === 'board') return { page: 'board' };
  if (parts[0] === 'message' && parts.length === 3)
    return { page: 'message', party: parts[1] as string, id: parts[2] as string };
  if (parts[0] === 'incident' && parts.length === 2)
    return { page: 'incident', id: parts[1] as string };
  if (parts[0] === 'incident' && parts.length === 3 && parts[2] === 'report')
    return { page: 'report', id: parts[1] as string };
  if (parts.length === 1 && parts[0] === 'history') return { page: 'history' };
  if (parts[0] === 'approvals' && parts.length <= 2)
    return parts[1] ? { page: 'approvals', id: parts[1] } : { page: 'approvals' };
  if (parts.length === 1 && parts[0] === 'drills') return { page: 'drills' };
  if (parts.length === 1 && parts[0] === 'flows') return { page: 'flows' };
  if (parts.length === 1 && parts[0] === 'compliance') return { page: 'compliance' };
  if (parts.length === 1 && parts[0] === 'security') return { page: 'security' };
  if (parts.length === 1 && parts[0] === 'keys') return { page: 'keys' };
  if (parts.length === 1 && ['compose', 'duty', 'record', 'admin'].includes(parts[0] as string))
    return { page: parts[0] as 'compose' | 'duty' | 'record' | 'admin' };
  return { page: 'missing' };
}

/** The pages in the navigation. */
const NAV: Array<{ href: string; label: string; admin?: boolean }> = [
  { href: '/board', label: 'nav.board' },
  { href: '/compose', label: 'nav.compose' },
  { href: '/approvals', label: 'inc.nav.approvals' },
  { href: '/drills', label: 'inc.nav.drills' },
  { href: '/flows', label: 'flow.nav' },
  { href: '/compliance', label: 'reg.nav' },
  { href: '/history', label: 'hist.nav' },
  { href: '/duty', label: 'nav.duty' },
  { href: '/record', label: 'nav.record' },
  // Every role: GET /api/v1/rotations and /status are open to all staff (src/api/access.ts).
  { href: '/keys', label: 'keys.nav' },
  { href: '/security', label: 'sf.nav' },
  { href: '/admin', label: 'nav.admin', admin: true },
];

export function App() {
  const { t, i18n } = useTranslation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => setMe(null));
    if (!api.hasCsrf()) {
      setMe(null);
      return;
    }
    api.me().then(setMe, () => setMe(null));
  }, []);

  const signedIn = useCallback(
    (who: Me) => {
      const own = languageOf(who.user.name);
      if (own) setLanguage(own, who.user.name);
      else setLanguage(i18n.language as Lang, who.user.name);
      setMe(who);
    },
    [i18n],
  );

  if (me === undefined) return <p className="loading">{t('common.loading')}</p>;
  if (me === null) return <Login onSignedIn={signedIn} />;
  if (me.enrol)
    return (
      <main id="main" className="login">
        <Security enrol onDone={() => void api.me().then(setMe, () => setMe(null))} />
        <button type="button" onClick={() => void api.logout().finally(() => setMe(null))}>
          {t('common.signOut')}
        </button>
      </main>
    );
  return <Console me={me} onSignOut={() => setMe(null)} />;
}

function Console({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = (i18n.language === 'zh' ? 'zh' : 'en') as Lang;
  const [path, setPath] = useState(location.pathname);
  const [status, setStatus] = useState<NodeStatus>();
  const [inbox, setInbox] = useState<InboxItem[]>([]);
  const [outbox, setOutbox] = useState<OutboxItem[]>([]);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [codes, setCodes] = useState(new Map<string, RenderedCode>());
  const [feed, setFeed] = useState<FeedState>('connecting');
  const [attempt, setAttempt] = useState(0);
  const [silenced, setSilenced] = useState(
    () => new Set<number>(JSON.parse(localStorage.getItem(SILENCED) ?? '[]') as number[]),
  );
  const [audio, setAudio] = useState(audioReady());
  const [theme, setThemeState] = useState<Theme>(currentTheme);
  const tNow = useRef(t);
  tNow.current = t;
  // Many new items at once (a login after a busy night) make one notification, not one each.
  const [alarmer] = useState(
    () =>
      new Alarmer((fresh) => ({
        key: 'many',
        title: tNow.current('alarm.many', { count: fresh.length }),
        detail: tNow.current('alarm.manyDetail', { first: fresh[0]?.title ?? '' }),
        href: '/',
      })),
  );
  const { onFrame: onIncidentFrame, ...live } = useIncidentsLive();
  const main = useRef<HTMLElement>(null);

  const navigate = useCallback((href: string) => {
    history.pushState(null, '', href);
    setPath(new URL(href, location.href).pathname);
    window.scrollTo(0, 0);
    // The new page's heading takes the focus, so a keyboard or screen-reader user starts there.
    requestAnimationFrame(() => main.current?.querySelector<HTMLElement>('h1')?.focus());
  }, []);

  useEffect(() => {
    const back = () => setPath(location.pathname);
    const fromNotification = (e: Event) => navigate((e as CustomEvent<string>).detail);
    window.addEventListener('popstate', back);
    window.addEventListener('hotline:navigate', fromNotification);
    return () => {
      window.removeEventListener('popstate', back);
      window.removeEventListener('hotline:navigate', fromNotification);
    };
  }, [navigate]);

  const refreshMessages = useCallback(async () => {
    const [i, o] = await Promise.all([api.inbox(), api.outbox()]);
    setInbox(i);
    setOutbox(o);
  }, []);
  const refreshStatus = useCallback(async () => {
    const s = await api.status();
    setStatus(s);
    // Faults first: no number of messages awaiting a person may push one out of sight.
    setAlarms([...s.alarms, ...s.waiting]);
  }, []);
  const refresh = useCallback(async () => {
    await Promise.all([refreshMessages(), refreshStatus()]);
  }, [refreshMessages, refreshStatus]);

  useEffect(() => {
    api.vocabulary(lang).then(
      (v) => setCodes(new Map(v.entries.map((e) => [e.code, e]))),
      () => undefined,
    );
  }, [lang]);

  // The live feed: each event refreshes what it changed; a reconnect refreshes everything.
  useEffect(() => {
    void refresh().catch(() => undefined);
    // State changes of links come over the feed; this keeps round-trip times and heartbeat times
    // current between them.
    const statusEvery = setInterval(() => void refreshStatus().catch(() => undefined), 10_000);
    const close = openFeed({
      onState: (state, n) => {
        setFeed(state);
        setAttempt(n);
      },
      onSessionEnded: onSignOut,
      onFrame: (frame) => {
        if (frame.type === 'hello') void refresh().catch(() => undefined);
        else if (frame.type === 'received' || frame.type === 'receipted')
          void refreshMessages().catch(() => undefined);
        else if (frame.type === 'alarm' || frame.type === 'alarm-cleared' || frame.type === 'link')
          void refreshStatus().catch(() => undefined);
        // An ack clears its alarms by reference, with no alarm-cleared event.
        else if (frame.type === 'acknowledged') void refresh().catch(() => undefined);
        onIncidentFrame(frame);
      },
    });
    return () => {
      close();
      clearInterval(statusEvery);
    };
  }, [refresh, refreshMessages, refreshStatus, onSignOut, onIncidentFrame]);

  const silence = useCallback((id: number) => {
    setSilenced((before) => {
      const after = new Set(before).add(id);
      localStorage.setItem(SILENCED, JSON.stringify([...after]));
      return after;
    });
  }, []);

  const words = useMemo<Words>(
    () => ({
      t: t as unknown as Words['t'],
      lang,
      code: (code: string) => codes.get(code)?.text ?? code,
      party: (p: string) =>
        (p === status?.party ? status.names[lang] : undefined) ??
        status?.peers.find((x) => x.party === p)?.names[lang] ??
        p,
      desk: (d: string) => status?.deskLabels?.[d]?.[lang] ?? d,
    }),
    [t, lang, codes, status],
  );

  const items = useMemo<AlarmItem[]>(() => {
    const out: AlarmItem[] = [];
    if (feed === 'down')
      out.push({ key: 'feed', title: t('feed.downTitle'), detail: t('feed.downDetail') });
    out.push(
      ...alarmItems(words, {
        unacknowledged: unacknowledged(inbox, outbox),
        inbox,
        outbox,
        alarms,
        silenced,
        escalations: live.escalations,
        // A draft held by the two-person rule waits for a person as a flash message does: every
        // officer who may approve it (not its author) hears it until it is decided.
        drafts:
          me.user.role === 'operator' ? [] : live.drafts.filter((d) => d.author !== me.user.name),
      }),
    );
    return out;
  }, [feed, inbox, outbox, alarms, silenced, words, t, live.escalations, live.drafts, me]);

  useEffect(() => {
    alarmer.update(items);
  }, [items, alarmer]);

  // Keyboard shortcuts, with Alt so typing never triggers them (WCAG 2.1.4): Alt+N opens the
  // next alarm, Alt+A acknowledges the message shown, Alt+R goes to its reply box.
  const itemsRef = useRef(items);
  itemsRef.current = items;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const target = (selector: string) => document.querySelector<HTMLElement>(selector);
      if (e.code === 'KeyN') {
        const open = itemsRef.current.filter((i) => i.href);
        if (!open.length) return;
        e.preventDefault();
        const here = open.findIndex((i) => i.href === location.pathname);
        navigate((open[(here + 1) % open.length] as AlarmItem).href as string);
      } else if (e.code === 'KeyA') {
        const button = target('[data-shortcut="ack"]:not(:disabled)');
        if (!button) return;
        e.preventDefault();
        button.click();
      } else if (e.code === 'KeyR') {
        const box = target('[data-shortcut="reply"]');
        if (!box) return;
        e.preventDefault();
        box.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);
  useEffect(() => () => alarmer.update([]), [alarmer]);

  const data: ConsoleData = {
    me,
    lang,
    status,
    inbox,
    outbox,
    alarms,
    codes,
    feed,
    silenced,
    silence,
    refresh,
    navigate,
    live,
    words,
  };
  const r = route(path);
  const signOut = async () => {
    await api.logout().catch(() => undefined);
    onSignOut();
  };

  return (
    <ConsoleContext.Provider value={data}>
      <a className="skip" href="#main">
        {t('common.skip')}
      </a>
      <header className="top">
        <div className="brand">
          <span className="party">{status?.names[lang] ?? status?.party ?? ''}</span>{' '}
          {t('app.title')}
        </div>
        <nav aria-label={t('nav.label')}>
          <ul className="nav-list">
            {NAV.filter((n) => !n.admin || me.user.role === 'admin').map((n) => (
              <li key={n.href}>
                <Link href={n.href} className={path === n.href ? 'current' : undefined}>
                  {t(n.label)}
                  {n.href === '/approvals' && live.drafts.length > 0 && (
                    <>
                      {' '}
                      <span className="nav-count" data-testid="approvals-count">
                        <span aria-hidden="true">{live.drafts.length}</span>
                        <span className="sr-only">
                          {t('inc.approvals.count', { count: live.drafts.length })}
                        </span>
                      </span>
                    </>
                  )}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span data-testid="feed-state" className={`feed feed-${feed}`}>
            {t(`feed.${feed}`)}
          </span>
          <label>
            <span className="sr-only">{t('common.language')}</span>
            <select
              value={lang}
              onChange={(e) => setLanguage(e.target.value as Lang, me.user.name)}
            >
              <option value="en">English</option>
              <option value="zh">中文</option>
            </select>
          </label>
          <button
            type="button"
            aria-pressed={theme === 'night'}
            data-testid="theme-toggle"
            onClick={() => {
              const next = theme === 'night' ? 'day' : 'night';
              setTheme(next);
              setThemeState(next);
            }}
          >
            {t('common.nightTheme')}
          </button>
          <span>
            {me.user.name} ({t(`role.${me.user.role}`)})
          </span>
          <button type="button" onClick={signOut}>
            {t('common.signOut')}
          </button>
        </div>
      </header>
      {feed === 'down' && (
        <div className="feed-down" role="alert" data-testid="feed-down">
          <strong>{t('feed.downTitle')}</strong> {t('feed.downDetail')}{' '}
          {t('feed.reconnecting', { attempt })}
        </div>
      )}
      {!audio && (
        <div className="sound-off" role="alert">
          {t('sound.off')}{' '}
          <button type="button" onClick={async () => setAudio(await unlockAudio())}>
            {t('sound.enable')}
          </button>
        </div>
      )}
      <AlarmBanner items={items.filter((i) => i.key !== 'feed')} sounding={items.length > 0} />
      <main id="main" ref={main}>
        {r.page === 'board' && <Board />}
        {r.page === 'message' && <MessagePage party={r.party} id={r.id} />}
        {r.page === 'compose' && <Compose />}
        {r.page === 'duty' && <Duty />}
        {r.page === 'record' && <Record />}
        {r.page === 'admin' && <Admin />}
        {r.page === 'incident' && <IncidentPage id={r.id} />}
        {r.page === 'report' && <ReportPage id={r.id} />}
        {r.page === 'history' && <History />}
        {r.page === 'approvals' && <Approvals held={r.id} />}
        {r.page === 'drills' && <Drills />}
        {r.page === 'flows' && <Flows />}
        {r.page === 'compliance' && <Compliance />}
        {r.page === 'security' && <Security />}
        {r.page === 'keys' && <Keys />}
        {r.page === 'missing' && (
          <>
            <h1 tabIndex={-1}>{t('common.notFound')}</h1>
            <Link href="/board">{t('nav.board')}</Link>
          </>
        )}
      </main>
    </ConsoleContext.Provider>
  );
}

function AlarmBanner({ items, sounding }: { items: AlarmItem[]; sounding: boolean }) {
  const { t } = useTranslation();
  const { silence, navigate } = useConsole();
  if (!items.length) return null;
  return (
    <section
      className="alarms"
      aria-label={t('alarm.banner')}
      data-testid="alarm-banner"
      data-sounding={String(sounding)}
    >
      <h2>{t('alarm.banner')}</h2>
      <div role="alert">
        <ul className="alarm-list">
          {items.map((item) => (
            <li key={item.key} data-alarm-key={item.key}>
              <strong>{item.title}</strong> <span className="detail">{item.detail}</span>{' '}
              {item.href && (
                <button type="button" onClick={() => navigate(item.href as string)}>
                  {t('alarm.open')}
                </button>
              )}
              {item.silence !== undefined && (
                <button type="button" onClick={() => silence(item.silence as number)}>
                  {t('alarm.silence')}
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
