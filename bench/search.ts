/**
 * History and search (issue 17): `Store.search` over 100,000 stored messages on SQLite, beside
 * the floor of one indexed SQLite query in the same run (an inbox row by its primary key).
 * Messages are written the way the node writes them — `addInbox` in transactions of 1,000 — with
 * English texts and Chinese translations drawn from small word lists, so a term's frequency is
 * known: a rare term (≈ 1 in 10,000 messages), a common one (≈ 1 in 10), a two-character Chinese
 * term (≈ 1 in 20), filters alone, and text with filters. Each query runs 50 times after 5 warm-up
 * runs; each answer is at most 50 hits, newest first, as the console asks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Body } from '../src/protocol/body.ts';
import type { Envelope } from '../src/protocol/envelope.ts';
import type { SearchQuery } from '../src/store/search.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { InboxRow } from '../src/store/store.ts';

const MESSAGES = 100_000;
const RUNS = 50;
const WARMUP = 5;

const EN =
  'model weights hosts network access operator cluster training outage data centre grid alert'.split(
    ' ',
  );
const ZH = [
  '模型',
  '权重',
  '网络',
  '访问',
  '集群',
  '训练',
  '中断',
  '数据',
  '中心',
  '电网',
  '警报',
  '主机',
  '系统',
  '攻击',
  '恢复',
  '核查',
  '报告',
  '确认',
  '部署',
  '风险',
];
const PRECEDENCES = ['flash', 'immediate', 'priority', 'routine'] as const;
const STATUSES = ['actual', 'exercise', 'test'] as const;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), max: s.at(-1) ?? 0 };
}

/** A deterministic pseudo-random sequence, so every run stores the same messages. */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function id(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `01937a8e-4f00-7000-8000-${hex}`;
}

export async function benchSearch() {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-search-'));
  const store = await openSqliteStore(join(dir, 'hotline.db'));
  try {
    const next = random(17);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const loadStarted = performance.now();
    for (let n = 0; n < MESSAGES; n += 1000) {
      const rows: InboxRow[] = [];
      for (let k = n; k < n + 1000; k++) {
        const sent = new Date(start + k * 60_000).toISOString();
        const words = Array.from({ length: 12 }, () => pick(EN));
        if (k % 10 === 0) words.push('exfiltrated');
        if (k % 10_000 === 7) words.push('quasar');
        const zh = Array.from({ length: 10 }, () => pick(ZH));
        if (k % 20 === 3) zh.push('封锁');
        const body = {
          salt: 'x',
          type: k % 5 === 0 ? 'incident.report' : 'reply',
          incident: id(1_000_000 + Math.floor(k / 5)),
          precedence: pick(PRECEDENCES),
          status: pick(STATUSES),
          tlp: 'amber',
          codes: [],
          text: { lang: 'en', body: `${words.join(' ')}.` },
          translations: [{ lang: 'zh', body: `${zh.join('')}。` }],
          attachments: [],
          author: { desk: 'ops' },
          approvals: [],
          ...(k % 5 === 0
            ? {
                report: {
                  nature: 'incident',
                  category: k % 3 ? 'category.ai-cyberattack' : 'category.loss-of-control',
                  actionsTaken: [],
                  actionsRequested: [],
                },
              }
            : {}),
        } as unknown as Body;
        rows.push({
          party: 'cn',
          id: id(k),
          seq: k + 1,
          header_hash: 'h',
          envelope: { header: { from: 'cn', sent } } as Envelope,
          body,
          received_at: sent,
          leaf_index: k,
          receipt_id: 1,
        });
      }
      await store.transaction((tx) => store.addInbox(rows, tx));
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    const time = async (fn: () => Promise<unknown>) => {
      const out: number[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const t0 = performance.now();
        await fn();
        if (i >= WARMUP) out.push(performance.now() - t0);
      }
      return summary(out);
    };
    const queries: Array<[string, SearchQuery]> = [
      ['rare English term (10 of 100,000)', { text: 'quasar' }],
      ['common English term (1 in 10)', { text: 'exfiltrated' }],
      ['two-character Chinese term (1 in 20)', { text: '封锁' }],
      ['two words, one Chinese', { text: 'weights 封锁' }],
      [
        'text + status + precedence + date range',
        {
          text: 'exfiltrated',
          status: 'actual',
          precedence: 'flash',
          from: '2026-02-01T00:00:00.000Z',
          to: '2026-02-10T00:00:00.000Z',
        },
      ],
      ['category + status, no text', { category: 'category.loss-of-control', status: 'exercise' }],
      ['an incident id', { id: id(1_000_000 + 4321) }],
    ];
    const figures: Record<string, ReturnType<typeof summary> & { hits: number }> = {};
    for (const [name, query] of queries) {
      const hits = (await store.search({ ...query, limit: 50 })).length;
      figures[name] = { ...(await time(() => store.search({ ...query, limit: 50 }))), hits };
    }
    let k = 0;
    const floor = await time(() => {
      k = (k + 7919) % MESSAGES;
      return store.getInbox('cn', id(k));
    });
    return { messages: MESSAGES, loadSeconds, queries: figures, floorIndexedQueryMs: floor };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printSearch(figures: Awaited<ReturnType<typeof benchSearch>>): void {
  const ms = (s: { p50: number; p90: number; max: number }) =>
    `p50 ${s.p50.toFixed(2)} ms, p90 ${s.p90.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`;
  console.log(
    `\n## Search over ${figures.messages.toLocaleString('en')} messages (SQLite FTS5; stored in ${figures.loadSeconds.toFixed(1)} s)`,
  );
  for (const [name, s] of Object.entries(figures.queries))
    console.log(`${name.padEnd(42)} ${ms(s)}  (${s.hits} hits)   target p50 ≤ 50 ms`);
  console.log(
    `${'floor: one indexed query (inbox by key)'.padEnd(42)} ${ms(figures.floorIndexedQueryMs)}`,
  );
}
