/**
 * Evaluation results and framework exports (issue 18): what the release check of an evaluation
 * attachment costs (the shipped example, and one at the schema's limits: 64 evidence hashes and
 * 64 red-team findings of 4,000 characters), and what exporting an incident of MESSAGES messages
 * as OECD and Article 73 JSON costs. Each figure is the median of ROUNDS timed rounds.
 */
import { readFileSync } from 'node:fs';
import { deriveIncident, type IncidentMessage } from '../src/node/incidents/incidents.ts';
import { makeAttachment, viewAttachment } from '../src/protocol/attachments.ts';
import type { Body } from '../src/protocol/body.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { EVALUATION_MEDIA_TYPE } from '../src/protocol/evaluation.ts';
import { exportEuAiAct73, exportOecd, type FrameworkInput } from '../src/protocol/frameworks.ts';
import { loadVocabulary } from '../src/protocol/vocabulary.ts';
import type { BenchOptions } from './run.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const MESSAGES = Number(process.env.BENCH_FRAMEWORK_MESSAGES ?? 2000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median milliseconds of one call of `f`, over ROUNDS rounds of `perRound` calls. */
function time(f: () => unknown, perRound: number): number {
  for (let i = 0; i < perRound; i++) f();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < perRound; i++) f();
    rounds.push((performance.now() - t) / perRound);
  }
  return median(rounds);
}

export async function benchFrameworks(o: BenchOptions) {
  const example = readFileSync(
    new URL('../test/vectors/evaluation/cyber-offence.json', import.meta.url),
  );
  const big = JSON.parse(example.toString('utf8'));
  big.evidence = Array.from({ length: 64 }, (_, i) => ({
    sha256: i.toString(16).padStart(64, '0'),
    description: `evidence ${i}`,
  }));
  big.redTeam = Array.from({ length: 64 }, (_, i) => ({
    finding: `${i} ${'x'.repeat(3990)}`,
    severity: 'high',
  }));
  const small = makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, example);
  const large = makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8(JSON.stringify(big)));
  const checkSmallMs = time(() => viewAttachment(small), 200);
  const checkLargeMs = time(() => viewAttachment(large), 10);

  const vocabulary = loadVocabulary();
  const incident = '019a8f00-0000-7000-8000-000000000000';
  const base: Omit<Body, 'type'> = {
    salt: 'AAAAAAAAAAAAAAAAAAAAAA',
    incident,
    precedence: 'priority',
    status: 'exercise',
    tlp: 'amber',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
  };
  const messages: IncidentMessage[] = Array.from({ length: MESSAGES }, (_, i) => ({
    dir: i % 2 ? 'in' : 'out',
    party: 'cn',
    id: `019a8f00-${(i + 1).toString(16).padStart(4, '0')}-7000-8000-000000000000`,
    at: new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString(),
    body: {
      ...base,
      type: i === 0 ? 'incident.report' : 'query',
      text: { lang: i % 2 ? 'zh' : 'en', body: `message ${i} of the incident` },
      ...(i === 0
        ? {
            report: {
              nature: 'incident' as const,
              category: 'category.ai-cyberattack',
              actionsTaken: [],
              actionsRequested: [],
            },
          }
        : {}),
    },
  }));
  const view = deriveIncident(incident, 'us', messages);
  if (!view) throw new Error('no incident');
  const input: FrameworkInput = {
    party: 'us',
    view,
    messages: messages.map((m) => ({
      from: m.dir === 'out' ? 'us' : 'cn',
      id: m.id,
      at: m.at,
      body: m.body,
    })),
    text: (code) => vocabulary.render(code, 'en').text,
    lang: 'en',
    generatedAt: new Date().toISOString(),
  };
  const oecdMs = time(() => exportOecd(input), 3);
  const euMs = time(() => exportEuAiAct73(input), 3);
  const figures = {
    evaluationCheckMs: {
      example: checkSmallMs,
      atLimits: checkLargeMs,
      atLimitsBytes: large.data.length,
    },
    exportMs: { messages: MESSAGES, oecd: oecdMs, euAiAct73: euMs },
  };
  if (!o.json) {
    console.log('\nframeworks');
    console.log(
      `  evaluation attachment check: example ${(checkSmallMs * 1000).toFixed(0)} µs, at the limits (${Math.round((large.data.length * 3) / 4 / 1024)} KiB) ${checkLargeMs.toFixed(2)} ms`,
    );
    console.log(
      `  export of a ${MESSAGES}-message incident: OECD ${oecdMs.toFixed(1)} ms, Article 73 ${euMs.toFixed(1)} ms`,
    );
  }
  return figures;
}
