import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { body } from '../../test/support/world.ts';
import { jcs } from './jcs.ts';
import { renderBody } from './render.ts';
import {
  compareVocabulary,
  DEFAULT_VOCABULARY_FILE,
  loadVocabulary,
  parseVocabulary,
  type VocabularyDocument,
  vocabularyHash,
  vocabularyProblems,
  withReview,
} from './vocabulary.ts';
import { readChanges, vocabularyMarkdown } from './vocabulary-doc.ts';

const shipped = () =>
  JSON.parse(readFileSync(DEFAULT_VOCABULARY_FILE, 'utf8')) as VocabularyDocument;

/** The shipped vocabulary with a third language added: data only, no code. */
function withFrench(doc: VocabularyDocument): VocabularyDocument {
  const fr = structuredClone(doc);
  fr.languages.fr = { name: 'Français' };
  fr.name.fr = 'Vocabulaire commun de la ligne directe';
  for (const g of fr.groups) g.label.fr = `[fr] ${g.label.en}`;
  for (const texts of Object.values(fr.ui)) texts.fr = `[fr] ${texts.en}`;
  for (const e of fr.entries) {
    e.text.fr = `[fr] ${e.text.en}`;
    e.definition.fr = `[fr] ${e.definition.en}`;
  }
  const cyber = fr.entries.find((e) => e.code === 'category.ai-cyberattack');
  if (cyber) cyber.text.fr = 'Une cyberattaque utilisant l’IA';
  return fr;
}

describe('the vocabulary file', () => {
  test('the shipped file is valid: every entry in every language, codes unique', () => {
    expect(vocabularyProblems(shipped())).toEqual([]);
    const v = loadVocabulary();
    expect(v.languages).toEqual(['en', 'zh']);
    expect(new Set(v.codes).size).toBe(v.codes.length);
    for (const code of v.codes)
      for (const lang of v.languages) {
        expect(v.entry(code)?.text[lang]?.trim()).toBeTruthy();
        expect(v.entry(code)?.definition[lang]?.trim()).toBeTruthy();
      }
  });

  test('has every category, severity, certainty, action and phrase the issue names', () => {
    const codes = loadVocabulary().codes;
    for (const code of [
      'category.autonomous-unpredictable',
      'category.ai-cyberattack',
      'category.ai-nuclear-c2',
      'category.loss-of-control',
      'category.weights-proliferation',
      'category.bio-chem-misuse',
      'category.crisis-disinformation',
      'category.critical-infrastructure',
      'category.other',
      'severity.extreme',
      'certainty.likely',
      'action.confirm-receipt',
      'action.share-indicators',
      'action.halt-system',
      'action.isolate-system',
      'action.investigate-report',
      'action.joint-technical-call',
      'action.stand-down',
      'phrase.no-hostile-intent',
      'phrase.investigating',
      'phrase.system-isolated',
    ])
      expect(codes).toContain(code);
  });

  test('refuses a missing language text, a duplicate code, an undeclared group or language', () => {
    const doc = shipped();
    const missing = structuredClone(doc);
    delete (missing.entries[0] as VocabularyDocument['entries'][number]).text.zh;
    expect(vocabularyProblems(missing)).toContain(
      `"${doc.entries[0]?.code}" text has no "zh" text`,
    );
    const duplicate = structuredClone(doc);
    duplicate.entries.push(structuredClone(doc.entries[3] as never));
    expect(vocabularyProblems(duplicate)).toContain(`code "${doc.entries[3]?.code}" appears twice`);
    const stray = structuredClone(doc);
    (stray.entries[0] as { code: string }).code = 'weather.rain';
    expect(vocabularyProblems(stray)).toContain('code "weather.rain" is not in a declared group');
    const undeclared = structuredClone(doc);
    (undeclared.entries[1] as { definition: Record<string, string> }).definition.fr = 'x';
    expect(vocabularyProblems(undeclared)).toContain(
      `"${doc.entries[1]?.code}" definition has text in undeclared language "fr"`,
    );
    const noUi = structuredClone(doc);
    delete (noUi.ui as Record<string, unknown>).unreviewed;
    expect(vocabularyProblems(noUi)).toContain('ui "unreviewed" is missing');
    expect(() => parseVocabulary(missing, 'test.json')).toThrow(/test\.json: 1 problem/);
  });

  test('the hash is SHA-256 of the canonical JSON: stable across formatting and member order', () => {
    const doc = shipped();
    const expected = createHash('sha256').update(jcs(doc), 'utf8').digest('hex');
    expect(vocabularyHash(doc)).toBe(expected);
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(doc).reverse()), null, 7),
    );
    expect(vocabularyHash(reordered)).toBe(expected);
    expect(loadVocabulary().hash).toBe(expected);
    const edited = structuredClone(doc);
    (edited.entries[0] as { text: Record<string, string> }).text.en = 'Something else';
    expect(vocabularyHash(edited)).not.toBe(expected);
  });

  test('a third language is added as data, with no code change', () => {
    const fr = parseVocabulary(withFrench(shipped()));
    expect(fr.languages).toEqual(['en', 'zh', 'fr']);
    expect(fr.render('category.ai-cyberattack', 'fr')).toMatchObject({
      text: 'Une cyberattaque utilisant l’IA',
      lang: 'fr',
      warnings: ['[fr] not yet reviewed by a native speaker'],
    });
    const incomplete = withFrench(shipped());
    delete (incomplete.entries[5] as { definition: Record<string, string> }).definition.fr;
    expect(vocabularyProblems(incomplete)).toEqual([
      `"${incomplete.entries[5]?.code}" definition has no "fr" text`,
    ]);
  });

  test('docs/vocabulary.md is generated from the file and up to date', () => {
    const doc = readFileSync(new URL('../../docs/vocabulary.md', import.meta.url), 'utf8');
    expect(doc).toBe(vocabularyMarkdown(loadVocabulary(), readChanges(DEFAULT_VOCABULARY_FILE)));
    // Each change is recorded with its reason, in the version it was made.
    expect(doc).toContain('## Changes by version');
    expect(doc).toContain(`### ${loadVocabulary().version}`);
    expect(doc).toContain('| `phrase.no-hostile-intent` | **There is no hostile intent.**');
    expect(doc).toContain('**我方无敌对意图。**');
  });
});

describe('rendering a code', () => {
  test('in each language, with a visible warning while the text is unreviewed', () => {
    const v = loadVocabulary();
    expect(v.render('phrase.system-isolated', 'en')).toMatchObject({
      known: true,
      text: 'The system has been isolated.',
      review: 'unreviewed',
      warnings: ['not yet reviewed by a native speaker'],
    });
    expect(v.render('phrase.system-isolated', 'zh')).toMatchObject({
      known: true,
      text: '该系统已被隔离。',
      review: 'unreviewed',
      warnings: ['尚未经母语人士审核'],
    });
    expect(v.line('phrase.system-isolated', 'zh')).toBe('该系统已被隔离。 [⚠ 尚未经母语人士审核]');
  });

  test('a review removes the warning for that language only; a later edit voids it', () => {
    const doc = withReview(shipped(), 'severity.severe', 'zh', 'cn/linguist-1', '2026-11-20');
    const v = parseVocabulary(doc);
    expect(v.render('severity.severe', 'zh')).toMatchObject({
      text: '严重',
      review: 'reviewed',
      reviewedBy: 'cn/linguist-1',
      warnings: [],
    });
    expect(v.render('severity.severe', 'en').warnings).toEqual([
      'not yet reviewed by a native speaker',
    ]);
    const edited = structuredClone(doc);
    const entry = edited.entries.find((e) => e.code === 'severity.severe');
    if (entry) entry.text.zh = '重大';
    expect(parseVocabulary(edited).render('severity.severe', 'zh')).toMatchObject({
      review: 'outdated',
      warnings: ['审核后已被修改'],
    });
  });

  test('an unknown code is shown as such, never dropped', () => {
    const v = loadVocabulary();
    expect(v.render('phrase.from-a-newer-vocabulary', 'en')).toEqual({
      code: 'phrase.from-a-newer-vocabulary',
      known: false,
      lang: 'en',
      text: 'phrase.from-a-newer-vocabulary',
      review: 'none',
      warnings: ['unknown code: not in vocabulary 2026.3'],
    });
    const rendered = renderBody(
      v,
      body({ codes: ['phrase.investigating', 'phrase.from-a-newer-vocabulary'] }),
      'zh',
    );
    expect(rendered.codes.map((c) => [c.code, c.text, c.known])).toEqual([
      ['phrase.investigating', '我方正在调查。', true],
      ['phrase.from-a-newer-vocabulary', 'phrase.from-a-newer-vocabulary', false],
    ]);
    expect(rendered.warnings).toContain(
      'phrase.from-a-newer-vocabulary: 未知代码：不在词汇表 2026.3 中',
    );
  });

  test('a language the vocabulary lacks falls back to the first, and says so', () => {
    expect(loadVocabulary().render('severity.minor', 'fr')).toMatchObject({
      lang: 'en',
      text: 'Minor',
      warnings: [
        'no text in this language; shown in English',
        'not yet reviewed by a native speaker',
      ],
    });
  });

  test('a whole body: fixed values and codes in the reader’s language, free text untouched', () => {
    const rendered = renderBody(
      loadVocabulary(),
      body({
        precedence: 'flash',
        status: 'exercise',
        tlp: 'amber+strict',
        text: { lang: 'zh', body: '原文' },
        translations: [{ lang: 'en', body: 'The original' }],
      }),
      'en',
    );
    expect(rendered.precedence.text).toBe('Flash');
    expect(rendered.status.text).toBe('Exercise');
    expect(rendered.tlp.text).toBe('TLP:AMBER+STRICT');
    expect(rendered.text).toEqual({ lang: 'zh', body: '原文', label: 'original (authoritative)' });
    expect(rendered.senderTranslations).toEqual([
      { lang: 'en', body: 'The original', label: 'translation by the sender' },
    ]);
  });
});

describe('comparing vocabularies', () => {
  test('the same version and hash: no warning', () => {
    const v = loadVocabulary();
    expect(compareVocabulary(v, 'cn', v.ref)).toEqual({ ours: v.ref, theirs: v.ref, same: true });
  });

  test('another version or hash: a clear warning in the reader’s language', () => {
    const v = loadVocabulary();
    const theirs = { version: '2027.1', hash: 'ab'.repeat(32) };
    const en = compareVocabulary(v, 'cn', theirs);
    expect(en.same).toBe(false);
    expect(en.warning).toBe(
      `cn uses vocabulary 2027.1 (abababababab…), we use 2026.3 (${v.hash.slice(0, 12)}…): codes may be unknown to one side or read differently`,
    );
    expect(compareVocabulary(v, 'us', { ...v.ref, hash: '00'.repeat(32) }, 'zh').warning).toMatch(
      /^us 使用词汇表 2026\.3 \(000000000000…\)，我方使用 2026\.3/,
    );
  });
});
