/**
 * Evaluation results and reporting frameworks between two real `hotline serve` processes:
 * Washington reports an AI-enabled cyberattack and sends the evaluation result behind it
 * (`hotline send --evaluation`); Beijing reads it, cites it in a query (`--cite`) and in a message
 * of the incident; Washington sees the citation resolved, and exports the two-sided incident as
 * OECD and EU AI Act Article 73 JSON that validates against the frameworks' schemas.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256, toHex } from '../../src/protocol/encoding.ts';
import {
  BEIJING,
  HotlineNode,
  hotline,
  killAll,
  REPO,
  removeUnlessKept,
  until,
  WASHINGTON,
} from './nodes.ts';

const EVALUATION = join(REPO, 'test/vectors/evaluation/cyber-offence.json');
const DIGEST = toHex(sha256(readFileSync(EVALUATION)));

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const schema = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(join(REPO, 'test/vectors/frameworks', name), 'utf8')));

const message = (over: Record<string, unknown>) => ({
  type: 'query',
  precedence: 'priority',
  status: 'exercise',
  tlp: 'amber',
  codes: [],
  translations: [],
  attachments: [],
  author: { desk: 'ops' },
  approvals: [],
  ...over,
});

describe('evaluation results cited across the line, and framework exports', () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  const incident = uuidv7();
  let evaluation = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-evaluations-'));
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, { heartbeatMs: 300 }),
      HotlineNode.init(root, BEIJING, { heartbeatMs: 300 }),
    ]);
    await us.pin(cn);
    await cn.pin(us);
    await Promise.all([us.start(), cn.start()]);
    await us.api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: message({
        type: 'incident.report',
        incident,
        text: { lang: 'en', body: 'An agent swarm is probing the eastern grid.' },
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          system: { developer: 'Example AI Lab', model: 'Frontier-7', version: '2026-11-rc2' },
          harm: {
            types: ['harm.service-disruption'],
            severity: 'severity.severe',
            geography: ['US-East'],
            reversibility: 'partial',
          },
          actionsTaken: ['action.isolate-system'],
          actionsRequested: ['action.share-indicators'],
        },
      }),
    });
  }, 90_000);

  afterAll(async () => {
    await killAll();
    removeUnlessKept(root);
  });

  test('Washington sends an evaluation result; Beijing reads its system, result and threshold', async () => {
    const sent = await hotline([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--precedence',
      'priority',
      '--status',
      'exercise',
      '--text',
      'The evaluation behind our report.',
      '--evaluation',
      EVALUATION,
      '--json',
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    evaluation = (JSON.parse(sent.stdout) as { id: string }).id;
    const shown = await until(
      'the evaluation to reach Beijing',
      async () => {
        const r = await hotline(['show', 'us', evaluation, '--data', cn.dir]);
        return r.code === 0 && r.stdout;
      },
      20_000,
      200,
    );
    expect(shown).toContain(
      'evaluation: Frontier-7 2026-11-rc2 (Example AI Lab), Cyber-offence uplift suite 3.1, cyber-offence: ' +
        'Share of professional-level CTF tasks solved 0.62 against 0.5 — CROSSED; 1 evidence hash(es), 1 red-team finding(s)',
    );
    // No problem with the attachment (the vocabulary's review warnings are another matter).
    expect(shown).not.toMatch(/⚠ "cyber-offence\.json"/);
  }, 60_000);

  test('a sender is refused an evaluation that contradicts itself, before anything leaves', async () => {
    const bad = join(root, 'bad.json');
    const text = readFileSync(EVALUATION, 'utf8').replace('"crossed": true', '"crossed": false');
    writeFileSync(bad, text);
    const r = await hotline(['send', '--data', us.dir, '--to', 'cn', '--evaluation', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /E_BAD_ATTACHMENT: attachment "bad.json" evaluation \/crossed says false/,
    );
    // The same check offline, before anything is sent.
    const offline = await hotline(['evaluation', bad]);
    expect(offline.code).toBe(1);
    expect(offline.stdout).toMatch(
      /^NOT VALID: \S+bad\.json \/crossed says false, but a result of 0\.62/,
    );
    const good = await hotline(['evaluation', EVALUATION]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^OK: Frontier-7 2026-11-rc2 \(Example AI Lab\)/);
  }, 60_000);

  test('Beijing cites it in a query; Washington sees which evaluation the query is about', async () => {
    const wrong = await hotline([
      'send',
      '--data',
      cn.dir,
      '--to',
      'us',
      '--text',
      'Which run?',
      '--cite',
      `us/${evaluation}/${'0'.repeat(64)}`,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      `E_BAD_ATTACHMENT: the message cites an attachment with sha256 ${'0'.repeat(64)} that message ${evaluation} from "us" does not carry`,
    );
    const asked = await hotline([
      'send',
      '--data',
      cn.dir,
      '--to',
      'us',
      '--text',
      'Were the 200 attempts run without internet access?',
      '--cite',
      `us/${evaluation}/${DIGEST}`,
      '--json',
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    const query = (JSON.parse(asked.stdout) as { id: string }).id;
    const shown = await until(
      'the query to reach Washington',
      async () => {
        const r = await hotline(['show', 'cn', query, '--data', us.dir]);
        return r.code === 0 && r.stdout;
      },
      20_000,
      200,
    );
    expect(shown).toContain(
      `cites us/${evaluation} attachment ${DIGEST.slice(0, 16)}…: evaluation Frontier-7 2026-11-rc2`,
    );
  }, 60_000);

  test('the two-sided incident exports as OECD and Article 73 JSON that validate', async () => {
    await cn.api('POST', '/api/v1/messages', {
      to: ['us'],
      message: message({
        incident,
        text: { lang: 'zh', body: '我方已核查该评估，正在隔离相关系统。' },
        ext: { cites: [{ from: 'us', message: evaluation, sha256: DIGEST }] },
      }),
    });
    // A request to the owner may cite it too.
    const asked = await hotline([
      'incident',
      incident,
      '--data',
      cn.dir,
      '--request',
      'mitigating',
      '--text',
      'Please restrict the model whose evaluation crossed the threshold.',
      '--cite',
      `us/${evaluation}/${DIGEST}`,
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    await until(
      'Beijing’s messages of the incident to reach Washington',
      async () => {
        const view = await us.api<{ timeline: unknown[] }>('GET', `/api/v1/incidents/${incident}`);
        return view.timeline.length === 3;
      },
      20_000,
      200,
    );
    const out = join(root, 'oecd.json');
    const r = await hotline([
      'incident',
      incident,
      '--data',
      us.dir,
      '--export',
      'oecd',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/as oecd: \d+ criteria empty \(dateOfOccurrence, /);
    const oecd = JSON.parse(readFileSync(out, 'utf8'));
    const validOecd = schema('oecd-ai-incident.schema.json');
    expect(validOecd(oecd), JSON.stringify(validOecd.errors)).toBe(true);
    expect(oecd.source.messages.map((m: { from: string }) => m.from)).toEqual(['us', 'cn', 'cn']);
    expect(oecd.criteria.description).toContain('cn (zh): 我方已核查该评估');
    expect(oecd.criteria.modelInformation).toEqual([
      { from: 'us', message: evaluation, sha256: DIGEST, cited: true },
      { from: 'us', message: evaluation, sha256: DIGEST, cited: true },
    ]);

    const eu = await us.api<{ report: { deadline: { article: string } } }>(
      'GET',
      `/api/v1/incidents/${incident}/export?format=eu-ai-act-73`,
    );
    const validEu = schema('eu-ai-act-73.schema.json');
    expect(validEu(eu), JSON.stringify(validEu.errors)).toBe(true);
    expect(eu.report.deadline.article).toBe('73(3)');
  }, 60_000);
});
