/**
 * docs/vocabulary.md, generated from the vocabulary file: every entry with its text and agreed
 * interpretation in every language side by side, and each language's review state, for native
 * speakers of both sides to review, then the vocabulary's change log (`<file>.changes.md` beside
 * the vocabulary file, each change with its reason). `hotline vocabulary doc` writes it; a test
 * keeps it current.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Vocabulary, VocabularyEntry } from './vocabulary.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The change log that goes with a vocabulary file: `hotline.json` → `hotline.changes.md`. */
export function changesFileOf(vocabularyFile: string): string {
  return vocabularyFile.replace(/(\.json)?$/, '.changes.md');
}

/** The change log of a vocabulary file, or undefined when it has none. */
export function readChanges(vocabularyFile: string): string | undefined {
  const file = changesFileOf(vocabularyFile);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export function vocabularyMarkdown(v: Vocabulary, changes?: string): string {
  const langs = v.languages;
  const doc = v.document;
  const name = (lang: string) => doc.languages[lang]?.name ?? lang;
  const unreviewed = doc.entries.reduce(
    (n, e) => n + langs.filter((l) => v.reviewOf(e, l).state !== 'reviewed').length,
    0,
  );
  const lines = [
    '<!-- Generated from vocabulary/hotline.json by `hotline vocabulary doc`; do not edit by hand. -->',
    `# ${langs.map((l) => doc.name[l]).join(' · ')}`,
    '',
    `Version **${v.version}**, hash \`${v.hash}\` (SHA-256 of the file's RFC 8785 canonical JSON;`,
    'both are in every party card). Languages: ' +
      `${langs.map((l) => `${name(l)} (\`${l}\`)`).join(', ')}.`,
    '',
    'Each code has a text and an agreed interpretation in every language. Messages carry codes,',
    'never texts, so the structured part of a message reads the same on both sides without anyone',
    'translating under pressure. A language’s text counts as reviewed when a native speaker has',
    'recorded a review of exactly that text (`hotline vocabulary review`); editing the text voids',
    'the review. Wherever an unreviewed text is shown, the node shows a warning beside it.',
    '',
    `**Review state:** ${unreviewed} of ${doc.entries.length * langs.length} texts are not yet reviewed` +
      (unreviewed ? ' — marked ⚠ below.' : '.'),
    '',
    'How to add a language, change an entry or record a review: [language.md](language.md).',
    '',
  ];
  for (const group of doc.groups) {
    const entries = doc.entries.filter((e) => e.code.split('.')[0] === group.id);
    if (!entries.length) continue;
    lines.push(`## ${langs.map((l) => group.label[l]).join(' · ')}`, '');
    lines.push(`| code | ${langs.map(name).join(' | ')} |`);
    lines.push(`|---|${langs.map(() => '---').join('|')}|`);
    for (const entry of entries)
      lines.push(`| \`${entry.code}\` | ${langs.map((l) => entryCell(v, entry, l)).join(' | ')} |`);
    lines.push('');
  }
  if (changes?.trim()) lines.push(changes.trim());
  return `${lines.join('\n').trimEnd()}\n`;
}

function entryCell(v: Vocabulary, entry: VocabularyEntry, lang: string): string {
  const review = v.reviewOf(entry, lang);
  const mark =
    review.state === 'reviewed'
      ? `✓ ${review.review?.by}, ${review.review?.at.slice(0, 10)}`
      : review.state === 'outdated'
        ? '⚠ changed since review'
        : '⚠ unreviewed';
  return `**${cell(entry.text[lang] as string)}**<br>${cell(entry.definition[lang] as string)}<br><sub>${mark}</sub>`;
}
