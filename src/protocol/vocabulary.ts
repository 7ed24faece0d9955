/**
 * The joint vocabulary (docs/vocabulary.md): the codes the structured part of a message is made
 * of — incident categories, severities, certainty, actions, standard phrases — each with an agreed
 * text and interpretation in every party's language, and a record of who reviewed each language.
 *
 * The vocabulary is data (`vocabulary/hotline.json`), not code: a third party's language is added
 * by adding its texts to the file. Its version and hash go in the party card, so each side knows
 * whether the other reads the same codes the same way.
 *
 * This module is pure apart from `loadVocabulary`: parse and validate a document, hash it, look a
 * code up in a language, and render it with the warnings a reader must see (unreviewed text,
 * unknown code). A code the vocabulary does not know is always shown as such, never dropped.
 */
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Code, Hex32, inputProblem, Label, Lang, offeredLang, Version } from './common.ts';
import { DocumentError, documentLoader, documentSchemaProblems } from './document-file.ts';
import { sha256, toHex, utf8 } from './encoding.ts';
import { jcs } from './jcs.ts';
import type { RenderedCode, VocabularyComparison, VocabularyRef } from './views.ts';

/** The vocabulary this node ships with. */
export const DEFAULT_VOCABULARY_FILE = fileURLToPath(
  new URL('../../vocabulary/hotline.json', import.meta.url),
);

/** Texts keyed by language tag. */
const LangMap = Type.Record(Lang, Type.String({ minLength: 1, maxLength: 2000 }));

const Review = Type.Object(
  {
    /** Who reviewed: a name or desk, as the reviewing party records it. */
    by: Label,
    at: Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z)?$',
      description: 'a date or UTC time (2026-11-30 or 2026-11-30T08:00:00.000Z)',
    }),
    /** SHA-256 of the reviewed text and definition (`reviewDigest`): a later edit voids it. */
    digest: Hex32,
  },
  { additionalProperties: false },
);
export type Review = Static<typeof Review>;

const Entry = Type.Object(
  {
    code: Code,
    text: LangMap,
    definition: LangMap,
    reviews: Type.Record(Lang, Review),
  },
  { additionalProperties: false },
);
export type VocabularyEntry = Static<typeof Entry>;

/** The texts of the reader-facing notices; every language must have each of them. */
export const UI_KEYS = [
  'unreviewed',
  'reviewOutdated',
  'unknownCode',
  'missingLanguage',
  'versionMismatch',
  'original',
  'senderTranslation',
  'localTranslation',
  'byPerson',
  'byMachine',
  'translation.sight',
  'translation.rough',
  'translation.final',
] as const;
export type UiKey = (typeof UI_KEYS)[number];

export const VocabularyDocument = Type.Object(
  {
    format: Type.Literal(1),
    name: LangMap,
    /** As in the card: `^[0-9A-Za-z.+-]{1,32}$`. */
    version: Version,
    languages: Type.Record(Lang, Type.Object({ name: Label }, { additionalProperties: false })),
    groups: Type.Array(
      Type.Object(
        {
          id: Type.String({
            pattern: '^[a-z0-9]+(-[a-z0-9]+)*$',
            description: 'a group id (a-z and 0-9, joined by -, e.g. category)',
          }),
          label: LangMap,
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    ui: Type.Record(Type.String(), LangMap),
    entries: Type.Array(Entry, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type VocabularyDocument = Static<typeof VocabularyDocument>;

export class VocabularyError extends DocumentError {
  override name = 'VocabularyError';
}

/** A validated vocabulary, indexed for lookups. */
export class Vocabulary {
  readonly document: VocabularyDocument;
  readonly version: string;
  /** SHA-256 of JCS(document), hex: what the card carries. */
  readonly hash: string;
  /** Declared languages, in file order; the first is the fallback. */
  readonly languages: readonly string[];
  readonly #entries = new Map<string, VocabularyEntry>();

  constructor(document: VocabularyDocument) {
    this.document = document;
    this.version = document.version;
    this.hash = vocabularyHash(document);
    this.languages = Object.keys(document.languages);
    for (const entry of document.entries) this.#entries.set(entry.code, entry);
  }

  get ref(): VocabularyRef {
    return { version: this.version, hash: this.hash };
  }

  get codes(): string[] {
    return [...this.#entries.keys()];
  }

  entry(code: string): VocabularyEntry | undefined {
    return this.#entries.get(code);
  }

  /** The language to show for `lang`: itself when declared, else the first declared language. */
  languageFor(lang: string): string {
    return offeredLang(lang, this.languages) ?? (this.languages[0] as string);
  }

  /** A reader-facing notice in `lang`, with `{name}` placeholders filled. */
  ui(key: UiKey, lang: string, vars: Record<string, string> = {}): string {
    const texts = this.document.ui[key] as Record<string, string>;
    const text = texts[this.languageFor(lang)] as string;
    return text.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? `{${name}}`);
  }

  /** Review state of one entry in one language. */
  reviewOf(entry: VocabularyEntry, lang: string): ReviewState {
    const review = entry.reviews[lang];
    if (!review) return { state: 'unreviewed' };
    if (review.digest !== reviewDigest(entry, lang)) return { state: 'outdated', review };
    return { state: 'reviewed', review };
  }

  /** A code as a reader in `lang` sees it, with every warning that applies. */
  render(code: string, lang: string): RenderedCode {
    const shown = this.languageFor(lang);
    const entry = this.#entries.get(code);
    if (!entry)
      return {
        code,
        known: false,
        lang: shown,
        text: code,
        review: 'none',
        warnings: [this.ui('unknownCode', shown, { version: this.version })],
      };
    const warnings: string[] = [];
    if (shown !== lang)
      warnings.push(
        this.ui('missingLanguage', shown, { lang: this.document.languages[shown]?.name ?? shown }),
      );
    const review = this.reviewOf(entry, shown);
    if (review.state === 'unreviewed') warnings.push(this.ui('unreviewed', shown));
    if (review.state === 'outdated') warnings.push(this.ui('reviewOutdated', shown));
    return {
      code,
      known: true,
      lang: shown,
      text: entry.text[shown] as string,
      definition: entry.definition[shown] as string,
      review: review.state,
      ...(review.review ? { reviewedBy: review.review.by, reviewedAt: review.review.at } : {}),
      warnings,
    };
  }

  /** Text of a code in `lang` with its warnings inline, for plain-text output. */
  line(code: string, lang: string): string {
    const r = this.render(code, lang);
    return r.warnings.length ? `${r.text} [⚠ ${r.warnings.join('; ')}]` : r.text;
  }
}

export interface ReviewState {
  state: 'reviewed' | 'unreviewed' | 'outdated';
  review?: Review;
}

/** SHA-256 of JCS(document), lowercase hex. Formatting of the file does not change it. */
export function vocabularyHash(document: VocabularyDocument): string {
  return toHex(sha256(utf8(jcs(document))));
}

/** What a review of `lang` covers: that language's text and definition of the entry. */
export function reviewDigest(entry: VocabularyEntry, lang: string): string {
  return toHex(
    sha256(
      utf8(jcs({ code: entry.code, text: entry.text[lang], definition: entry.definition[lang] })),
    ),
  );
}

/** Every problem of a vocabulary document, each as a sentence; empty when it is valid. */
export function vocabularyProblems(raw: unknown): string[] {
  const schema = documentSchemaProblems(VocabularyDocument, raw, 'vocabulary');
  if (schema.length) return schema;
  const doc = raw as VocabularyDocument;
  const problems: string[] = [];
  const langs = Object.keys(doc.languages);
  if (!langs.length) problems.push('no languages are declared');
  const needAll = (what: string, map: Record<string, string>) => {
    for (const lang of langs)
      if (!map[lang]?.trim()) problems.push(`${what} has no "${lang}" text`);
    for (const lang of Object.keys(map))
      if (!langs.includes(lang)) problems.push(`${what} has text in undeclared language "${lang}"`);
  };
  needAll('name', doc.name);
  const groups = new Set<string>();
  for (const group of doc.groups) {
    if (groups.has(group.id)) problems.push(`group "${group.id}" is declared twice`);
    groups.add(group.id);
    needAll(`group "${group.id}"`, group.label);
  }
  for (const key of UI_KEYS) {
    const texts = doc.ui[key];
    if (!texts) problems.push(`ui "${key}" is missing`);
    else needAll(`ui "${key}"`, texts);
  }
  for (const key of Object.keys(doc.ui))
    if (!(UI_KEYS as readonly string[]).includes(key)) problems.push(`ui "${key}" is not used`);
  const seen = new Set<string>();
  for (const entry of doc.entries) {
    if (seen.has(entry.code)) problems.push(`code "${entry.code}" appears twice`);
    seen.add(entry.code);
    const group = entry.code.split('.')[0] as string;
    if (!entry.code.includes('.') || !groups.has(group))
      problems.push(`code "${entry.code}" is not in a declared group`);
    needAll(`"${entry.code}" text`, entry.text);
    needAll(`"${entry.code}" definition`, entry.definition);
    for (const lang of Object.keys(entry.reviews))
      if (!langs.includes(lang))
        problems.push(`"${entry.code}" has a review of undeclared language "${lang}"`);
  }
  return problems;
}

/** Validates and indexes a parsed document; throws VocabularyError listing every problem. */
export function parseVocabulary(raw: unknown, where = 'vocabulary'): Vocabulary {
  const problems = vocabularyProblems(raw);
  if (problems.length) throw new VocabularyError(where, problems);
  return new Vocabulary(raw as VocabularyDocument);
}

const readVocabulary = documentLoader(
  parseVocabulary,
  (file, problem) => new VocabularyError(file, [problem]),
);

/** Reads, validates and indexes a vocabulary file (the shipped one by default); cached per path. */
export function loadVocabulary(file: string = DEFAULT_VOCABULARY_FILE): Vocabulary {
  return readVocabulary(file);
}

/**
 * Adds the review of one language of one entry; returns the new document. The file keeps one
 * review per language, so a review of a text reviewed already and unchanged since is refused,
 * naming who reviewed it and when (it would erase that record); an outdated one is replaced.
 */
export function withReview(
  document: VocabularyDocument,
  code: string,
  lang: string,
  by: string,
  at: string,
): VocabularyDocument {
  const next = structuredClone(document);
  const entry = next.entries.find((e) => e.code === code);
  if (!entry) throw new VocabularyError('review', [`code "${code}" is not in the vocabulary`]);
  if (!(lang in next.languages))
    throw new VocabularyError('review', [`language "${lang}" is not declared`]);
  const reviewer = inputProblem(by, 'name');
  if (reviewer) throw new VocabularyError('review', [`the reviewer ${reviewer}`]);
  const digest = reviewDigest(entry, lang);
  const earlier = entry.reviews[lang];
  if (earlier?.digest === digest)
    throw new VocabularyError('review', [
      `"${code}" in "${lang}" was reviewed by ${earlier.by} on ${earlier.at}, and its text has not changed since: that review stands, and a second would erase it`,
    ]);
  entry.reviews[lang] = { by, at, digest };
  return next;
}

/** Compares our vocabulary with a peer's card; a difference is a warning for operators. */
export function compareVocabulary(
  vocabulary: Vocabulary,
  party: string,
  theirs: VocabularyRef,
  lang = 'en',
): VocabularyComparison {
  const ours = vocabulary.ref;
  const same = ours.version === theirs.version && ours.hash === theirs.hash;
  if (same) return { ours, theirs, same };
  const label = (r: VocabularyRef) => `${r.version} (${r.hash.slice(0, 12)}…)`;
  return {
    ours,
    theirs,
    same,
    warning: vocabulary.ui('versionMismatch', lang, {
      party,
      theirs: label(theirs),
      ours: label(ours),
    }),
  };
}
