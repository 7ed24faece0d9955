/**
 * The console's live view of incidents, the approvals queue and escalation: fetched at start and
 * whenever the feed says something changed (`incident`, `escalation`, `acknowledged`, a message
 * received or receipted), so the board's countdowns and queues are never stale. Each escalation
 * step is an alarm item of its own, so it sounds and notifies like any alarm until the message
 * is acknowledged (or its incident retracted).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import './incidents.css';
import type {
  DraftView,
  EscalationStep,
  FeedFrame,
  IncidentSummary,
} from '../../src/protocol/views.ts';
import { incidentsApi } from './incidents-api.ts';

export interface IncidentsLive {
  incidents: IncidentSummary[];
  /** The approvals queue: drafts still pending. */
  drafts: DraftView[];
  /** The latest drafts in every state, newest first (what became of each: its author's view). */
  recentDrafts: DraftView[];
  /** The latest escalation step of each message not yet acknowledged, by `party/id`. */
  escalations: EscalationStep[];
  /**
   * The incident the last `incident` event named (`*` for a receipt, which may concern any), with
   * a counter, so its open page reloads.
   */
  changed: { incident: string; n: number } | null;
  refresh(): Promise<void>;
}

const POLL_MS = 10_000;

export function useIncidentsLive(): IncidentsLive & { onFrame(frame: FeedFrame): void } {
  const [incidents, setIncidents] = useState<IncidentSummary[]>([]);
  const [recentDrafts, setRecentDrafts] = useState<DraftView[]>([]);
  const [steps, setSteps] = useState(new Map<string, EscalationStep>());
  const [changed, setChanged] = useState<IncidentsLive['changed']>(null);

  const refreshIncidents = useCallback(async () => {
    const list = await incidentsApi.list();
    setIncidents(list);
    // A message no longer awaited (acknowledged elsewhere, or its incident retracted or
    // closed) stops its escalation alarm.
    const awaited = new Set(list.flatMap((i) => i.awaiting.map((a) => `${a.party}/${a.id}`)));
    setSteps((before) => {
      const after = new Map(
        [...before].filter(([key, s]) => s.incident === null || awaited.has(key)),
      );
      return after.size === before.size ? before : after;
    });
  }, []);
  // One read gives the queue and what became of the latest drafts (held, approved, rejected).
  const refreshDrafts = useCallback(
    async () => setRecentDrafts(await incidentsApi.drafts(true)),
    [],
  );
  const refresh = useCallback(async () => {
    await Promise.all([refreshIncidents(), refreshDrafts()]);
  }, [refreshIncidents, refreshDrafts]);

  const onFrame = useCallback(
    (frame: FeedFrame) => {
      const quietly = (p: Promise<unknown>) => void p.catch(() => undefined);
      switch (frame.type) {
        case 'hello':
          quietly(refresh());
          break;
        case 'incident': {
          const incident = frame.incident;
          if (incident) setChanged((c) => ({ incident, n: (c?.n ?? 0) + 1 }));
          quietly(refresh());
          break;
        }
        case 'received':
          quietly(refresh());
          break;
        case 'receipted':
          // The peer's receipt sets a "received" time on whichever incident page is open.
          setChanged((c) => ({ incident: '*', n: (c?.n ?? 0) + 1 }));
          quietly(refresh());
          break;
        case 'escalation': {
          const step = frame.step;
          if (step) setSteps((before) => new Map(before).set(`${step.party}/${step.id}`, step));
          quietly(refreshIncidents());
          break;
        }
        case 'draft':
          quietly(refreshDrafts());
          break;
        case 'acknowledged': {
          const key = `${frame.party}/${frame.id}`;
          setSteps((before) => {
            if (!before.has(key)) return before;
            const after = new Map(before);
            after.delete(key);
            return after;
          });
          quietly(refreshIncidents());
          break;
        }
      }
    },
    [refresh, refreshIncidents, refreshDrafts],
  );

  // Approvals decided without a message event (a rejection) still show within seconds.
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  useEffect(() => {
    const every = setInterval(() => void refreshRef.current().catch(() => undefined), POLL_MS);
    return () => clearInterval(every);
  }, []);

  const escalations = useMemo(() => [...steps.values()], [steps]);
  const drafts = useMemo(() => recentDrafts.filter((d) => d.state === 'pending'), [recentDrafts]);
  return { incidents, drafts, recentDrafts, escalations, changed, refresh, onFrame };
}
