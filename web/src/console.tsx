/**
 * What every page takes from the console's frame: its live data (`useConsole`) and in-app links.
 * Apart from App.tsx, which provides them and imports the pages, so no page imports App.tsx.
 */
import { createContext, type MouseEvent, type ReactNode, useContext } from 'react';
import type {
  Alarm,
  InboxItem,
  Me,
  NodeStatus,
  OutboxItem,
  RenderedCode,
} from '../../src/protocol/views.ts';
import type { Words } from './alarm-items.ts';
import type { FeedState } from './feed.ts';
import type { Lang } from './i18n.ts';
import type { IncidentsLive } from './incidents-live.ts';

export interface ConsoleData {
  me: Me;
  lang: Lang;
  status: NodeStatus | undefined;
  inbox: InboxItem[];
  outbox: OutboxItem[];
  alarms: Alarm[];
  /** The vocabulary in the reader's language, by code. */
  codes: Map<string, RenderedCode>;
  feed: FeedState;
  /** Alarms this console has acknowledged (silenced) without clearing them. */
  silenced: Set<number>;
  silence(id: number): void;
  refresh(): Promise<void>;
  navigate(href: string): void;
  /** Open incidents, the approvals queue and escalation steps, kept live by the feed. */
  live: IncidentsLive;
  /** Names in the reader's language: parties, desks, vocabulary codes (alarm-items.ts). */
  words: Words;
}

export const ConsoleContext = createContext<ConsoleData | null>(null);

export function useConsole(): ConsoleData {
  const data = useContext(ConsoleContext);
  if (!data) throw new Error('useConsole outside the console');
  return data;
}

export function Link(props: { href: string; children: ReactNode; className?: string }) {
  const { navigate } = useConsole();
  return (
    <a
      href={props.href}
      className={props.className}
      onClick={(e: MouseEvent) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
