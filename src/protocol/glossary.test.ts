/**
 * One glossary, everywhere: the vocabulary, the console's labels and every doc name flash,
 * immediate, priority and routine (and the statuses) with the glossary's words. Written after
 * docs/operators.md called flash 特急 — the console's word for immediate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { incidentsEn } from '../../web/src/locales/incidents.en.ts';
import { incidentsZh } from '../../web/src/locales/incidents.zh.ts';
import { zh } from '../../web/src/locales/zh.ts';
import { parseConfig } from '../node/core/config.ts';
import { PRECEDENCE_DEADLINES, PRECEDENCE_TERMS, STATUS_TERMS } from './glossary.ts';
import { PRECEDENCES, STATUSES } from './values.ts';
import { loadVocabulary } from './vocabulary.ts';

const ROOT = join(import.meta.dirname, '../..');
const TERMS = { ...PRECEDENCE_TERMS, ...STATUS_TERMS };

describe('the glossary', () => {
  test('the joint vocabulary renders each precedence and status with its words', () => {
    const vocabulary = loadVocabulary();
    for (const p of PRECEDENCES)
      for (const lang of ['en', 'zh'] as const)
        expect(vocabulary.render(`precedence.${p}`, lang).text, `${p} in ${lang}`).toBe(
          PRECEDENCE_TERMS[p][lang],
        );
    for (const s of STATUSES)
      for (const lang of ['en', 'zh'] as const)
        expect(vocabulary.render(`status.${s}`, lang).text, `${s} in ${lang}`).toBe(
          STATUS_TERMS[s][lang],
        );
  });

  test('the vocabulary states the configured acknowledgement deadlines and the objectives', () => {
    const vocabulary = loadVocabulary();
    const config = parseConfig({ party: 'us' });
    for (const p of PRECEDENCES) {
      const { ackMinutes, objective } = PRECEDENCE_DEADLINES[p];
      expect(config.incidents.precedence[p].ackMinutes, `${p}: config default`).toBe(ackMinutes);
      const en = vocabulary.render(`precedence.${p}`, 'en').definition;
      const zh = vocabulary.render(`precedence.${p}`, 'zh').definition;
      expect(en, `${p} in en`).toContain(`within ${ackMinutes} minutes by default`);
      expect(en, `${p} in en`).toContain(`objective for ${p} traffic is ${objective.en}.`);
      expect(zh, `${p} in zh`).toContain(`默认须在${ackMinutes}分钟内由值班人员确认`);
      expect(zh, `${p} in zh`).toContain(
        `${PRECEDENCE_TERMS[p].zh}报文的传递时限目标为${objective.zh}。`,
      );
      // No other number of minutes or hours is claimed in either language.
      const numbers = (text = '') =>
        [...text.matchAll(/\d+/g)].map((m) => Number(m[0])).sort((a, b) => a - b);
      const stated = [ackMinutes, Number.parseInt(objective.en.replace(/\D+/g, ''), 10)].sort(
        (a, b) => a - b,
      );
      expect(numbers(en), `${p} in en`).toEqual(stated);
      expect(numbers(zh), `${p} in zh`).toEqual(stated);
    }
  });

  test('the console labels precedences with them', () => {
    for (const p of PRECEDENCES) {
      expect(incidentsEn.precedence[p]).toBe(PRECEDENCE_TERMS[p].en);
      expect(incidentsZh.precedence[p]).toBe(PRECEDENCE_TERMS[p].zh);
    }
    // A Chinese label that names two precedences names them with the glossary's words.
    expect(zh.board.nothingUnacked).toContain(
      `${PRECEDENCE_TERMS.flash.zh}和${PRECEDENCE_TERMS.immediate.zh}`,
    );
  });

  test('every doc pairs an English term with its own Chinese word', () => {
    const files = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const words = Object.keys(TERMS).join('|');
    // "特提（flash）", "特提（`flash`）" and a table's "| 特提 flash |"; "`flash`（特提）".
    const zhFirst = new RegExp(
      `([\\u4e00-\\u9fff]{2,4})(?:（\`?(${words})\`?）| (${words}) \\|)`,
      'g',
    );
    const enFirst = new RegExp(`\`(${words})\`（([\\u4e00-\\u9fff]{2,4})`, 'g');
    const wrong: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, word, inParens, inTable] of text.matchAll(zhFirst)) {
        const en = inParens ?? inTable;
        const term = TERMS[en as keyof typeof TERMS].zh;
        if (!word?.endsWith(term)) wrong.push(`${file}: ${word} ${en} (glossary: ${term})`);
      }
      for (const [, en, word] of text.matchAll(enFirst)) {
        const term = TERMS[en as keyof typeof TERMS].zh;
        if (!word?.startsWith(term)) wrong.push(`${file}: ${en} ${word} (glossary: ${term})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
