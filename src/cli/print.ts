/** Human-readable renderings of operator API answers for the terminal. */
import type { SealingKeyView } from '../protocol/views.ts';

interface InboxItem {
  from: string;
  id: string;
  seq: number;
  receivedAt: string;
  body: { type: string; precedence: string; status: string; text?: { lang: string; body: string } };
}

export function printInbox(rows: InboxItem[]): void {
  if (!rows.length) {
    console.log('No messages.');
    return;
  }
  for (const r of rows) {
    const banner = r.body.status === 'actual' ? '' : ` [${r.body.status.toUpperCase()}]`;
    console.log(
      `${r.receivedAt}  from ${r.from} #${r.seq}  ${r.body.precedence.toUpperCase()} ${r.body.type}${banner}  ${r.id}`,
    );
    if (r.body.text) console.log(`    (${r.body.text.lang}) ${r.body.text.body}`);
  }
}

interface VocabularyComparison {
  ours: { version: string; hash: string };
  same: boolean;
  warning?: string;
}

export interface Status {
  party: string;
  ledger: { size: number };
  vocabulary?: VocabularyComparison;
  peers: Array<{
    party: string;
    fingerprint: string;
    path: {
      path: string;
      url: string;
      state: string;
      rttMs: number | null;
      lastHeartbeat: string | null;
    };
    paths?: Array<{
      path: string;
      kind: string;
      url: string;
      state: string;
      rttMs: number | null;
      failures: number;
      lastError: string | null;
    }>;
    failovers?: number;
    lastFailover?: { at: string; from: string; to: string; reason: string } | null;
    outbox: { pending: number; oldestPending: string | null; lastReceiptAt: string | null };
    received: number;
    vocabulary?: VocabularyComparison;
    witness?: {
      witnessed: { size: number; at: string } | null;
      cosigned: { size: number; time: string; at: string } | null;
    };
  }>;
  alarms: StatusAlarm[];
  waiting: StatusAlarm[];
  counts: { fault: number; waiting: number };
  watchdog?: { url: string; lastPing: string | null; lastError: string | null } | null;
  sealingKeys?: SealingKeyView[];
}

interface StatusAlarm {
  id: number;
  at: string;
  type: string;
  party: string | null;
  message: string;
  count: number;
  last_at: string | null;
}

export function printStatus(s: Status): void {
  console.log(
    `Node ${s.party} — ledger ${s.ledger.size} leaves${s.vocabulary ? ` — vocabulary ${s.vocabulary.ours.version}` : ''}`,
  );
  if (s.vocabulary && !s.vocabulary.same)
    console.log(`  WARNING: our card announces another vocabulary than this node loaded`);
  for (const k of s.sealingKeys ?? [])
    console.log(
      k.state === 'destroyed'
        ? `  retired sealing key ${k.kid} (${k.suite}) destroyed ${k.destroyedAt}`
        : `  retired sealing key ${k.kid} (${k.suite}) ${k.state.toUpperCase()} since ${k.retiredAt}${k.waiting.length ? `: waiting — ${k.waiting.join('; ')}` : ''}`,
    );
  for (const p of s.peers) {
    const rtt = p.path.rttMs === null ? '—' : `${p.path.rttMs.toFixed(1)} ms`;
    console.log(
      `  peer ${p.party}  path ${p.path.path} ${p.path.state.toUpperCase()}  rtt ${rtt}  last heartbeat ${p.path.lastHeartbeat ?? 'never'}`,
    );
    for (const q of p.paths ?? []) {
      const qrtt = q.rttMs === null ? '—' : `${q.rttMs.toFixed(1)} ms`;
      const why = q.lastError ? `  (${q.failures} failed: ${q.lastError})` : '';
      console.log(
        `    ${q.kind} path ${q.path} ${q.state.toUpperCase()}  rtt ${qrtt}  ${q.url}${why}`,
      );
    }
    if (p.failovers)
      console.log(
        `    ${p.failovers} failovers${p.lastFailover ? `, last ${p.lastFailover.at} ${p.lastFailover.from} → ${p.lastFailover.to} (${p.lastFailover.reason})` : ''}`,
      );
    console.log(
      `    outbox ${p.outbox.pending} pending${p.outbox.oldestPending ? ` (oldest ${p.outbox.oldestPending})` : ''}  last receipt ${p.outbox.lastReceiptAt ?? 'never'}  received up to #${p.received}`,
    );
    if (p.witness) {
      const { witnessed, cosigned } = p.witness;
      console.log(
        `    ledger: ${p.party}'s checkpoint ${witnessed ? `witnessed at size ${witnessed.size} (${witnessed.at})` : 'not witnessed yet'}; ${cosigned ? `our last checkpoint co-signed by ${p.party} at size ${cosigned.size}, time ${cosigned.time}` : `no co-signature from ${p.party} yet`}`,
      );
    }
    if (p.vocabulary?.warning) console.log(`    WARNING: ${p.vocabulary.warning}`);
    console.log(`    fingerprint ${p.fingerprint}`);
  }
  if (s.watchdog)
    console.log(
      `  watchdog: last ping ${s.watchdog.lastPing ?? 'never'}${s.watchdog.lastError ? `, failing: ${s.watchdog.lastError}` : ''}`,
    );
  // Messages waiting for a person are listed apart from faults of the system, which they can
  // outnumber by thousands: every fault is listed, the waiting ones are counted.
  if (!s.alarms.length) console.log('  no alarms');
  for (const a of s.alarms) {
    const repeated = a.count > 1 ? ` (${a.count} times, last ${a.last_at})` : '';
    console.log(
      `  ALARM ${a.at} ${a.type}${a.party ? ` (${a.party})` : ''}${repeated}: ${a.message}`,
    );
  }
  if (s.counts.waiting)
    console.log(`  awaiting a person (${s.counts.waiting}; hotline ack / remind):`);
  for (const a of s.waiting) console.log(`    ${a.at} ${a.type}: ${a.message}`);
  if (s.counts.waiting > s.waiting.length)
    console.log(`    … and ${s.counts.waiting - s.waiting.length} more`);
}
