/**
 * `hotline vocabulary`, `hotline show`, `hotline translate`, `hotline cap` and `hotline stix`:
 * the joint vocabulary, messages as a reader in a language sees them, local translations, CAP
 * 1.2 alerts of incidents, and STIX bundles checked before they are attached (docs/language.md).
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { writeOutFileSync } from '../node/core/out-file.ts';
import { shownName } from '../protocol/attachment-name.ts';
import type { Evaluation } from '../protocol/evaluation.ts';
import type { LocalTranslation, MessageView } from '../protocol/views.ts';
import type { loadVocabulary } from '../protocol/vocabulary.ts';
import { CliError, callNode, type OptionNames } from './client.ts';
import {
  canonicalLang,
  offeredLanguage,
  printOrWrite,
  readJsonFile,
  redOptionsAlone,
  typedDay,
} from './inputs.ts';

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();
const fileOption = () =>
  new Option('--file <file>', 'the vocabulary file (default: the shipped one)');

/** The vocabulary module (loaded when a command needs it) and the file asked for. */
async function vocabularyOf(o: { file?: string }) {
  const vocabulary = await import('../protocol/vocabulary.ts');
  return { ...vocabulary, file: o.file ?? vocabulary.DEFAULT_VOCABULARY_FILE };
}

/**
 * The language to ask the node for, for a reader's `--lang` in a view it renders with its
 * vocabulary (a message, its translations' labels, an incident export): the tag when the
 * vocabulary has text in it, else its base (`zh-Hans` reads `zh`, so no label is said to be
 * missing), or a one-line error.
 */
export async function checkReaderLanguage(dataDir: string, lang: string): Promise<string> {
  const [{ loadVocabulary }, { readConfig }] = await Promise.all([
    import('../protocol/vocabulary.ts'),
    import('../node/core/config.ts'),
  ]);
  const { languages } = loadVocabulary(readConfig(dataDir).vocabularyFile);
  return offeredLanguage(canonicalLang(lang), languages, 'the node’s vocabulary');
}

/** A message named by its party and id, and what the translation commands add to it. */
const MESSAGE_OPTIONS: OptionNames = {
  'params/party': '<party>',
  'params/id': '<id>',
  'querystring/lang': '--lang',
  'body/lang': '--lang',
  'body/text': '--text',
  'body/status': '--status',
  'body/translator': '--translator',
  'body/desk': '--desk',
};

export function registerLanguage(program: Command): void {
  const vocabulary = program
    .command('vocabulary')
    .description('the joint vocabulary: check it, list it, record reviews, write its document');

  vocabulary
    .command('check')
    .description('validate a vocabulary file; print its version, hash and review state')
    .addOption(fileOption())
    .action(async (o) => {
      const { file, parseVocabulary, VocabularyError } = await vocabularyOf(o);
      const parsed = readJsonFile(file);
      let v: ReturnType<typeof loadVocabulary>;
      try {
        v = parseVocabulary(parsed, file);
      } catch (e) {
        if (e instanceof VocabularyError) {
          console.error(`${file} is not a valid vocabulary:`);
          for (const p of e.problems) console.error(`  - ${p}`);
          process.exitCode = 1;
          return;
        }
        throw new CliError(`${file}: ${(e as Error).message}`);
      }
      const texts = v.document.entries.length * v.languages.length;
      const unreviewed = v.document.entries.reduce(
        (n, e) => n + v.languages.filter((l) => v.reviewOf(e, l).state !== 'reviewed').length,
        0,
      );
      console.log(`OK: vocabulary ${v.version}, hash ${v.hash}`);
      console.log(
        `${v.document.entries.length} entries in ${v.languages.join(', ')}; ${unreviewed} of ${texts} texts not yet reviewed`,
      );
    });

  vocabulary
    .command('show [codes...]')
    .description('print entries (all by default) in a language, with their warnings')
    .addOption(fileOption())
    .option('--lang <tag>', 'the language to show', 'en')
    .option('--json', 'print JSON')
    .action(async (codes: string[], o) => {
      const { file, loadVocabulary } = await vocabularyOf(o);
      const v = loadVocabulary(file);
      const lang = offeredLanguage(o.lang, v.languages, 'the vocabulary');
      const rendered = (codes.length ? codes : v.codes).map((c) => v.render(c, lang));
      if (o.json) return console.log(JSON.stringify(rendered, null, 2));
      for (const r of rendered) {
        console.log(`${r.code}  ${r.text}${r.definition ? ` — ${r.definition}` : ''}`);
        for (const w of r.warnings) console.log(`    ⚠ ${w}`);
      }
    });

  vocabulary
    .command('review')
    .description('record that a native speaker reviewed one language of one entry')
    .addOption(fileOption())
    .requiredOption('--code <code>', 'the entry')
    .requiredOption('--lang <tag>', 'the language reviewed')
    .requiredOption('--by <name>', 'who reviewed it (name or desk)')
    .option(
      '--at <date>',
      'the day it was reviewed, in UTC, not after today (YYYY-MM-DD)',
      (v) => typedDay(v, '--at'),
      new Date().toISOString().slice(0, 10),
    )
    .action(async (o) => {
      const { file, loadVocabulary, parseVocabulary, withReview } = await vocabularyOf(o);
      const v = loadVocabulary(file);
      const next = withReview(v.document, o.code, o.lang, o.by, o.at);
      parseVocabulary(next, file);
      writeOutFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { replace: true, mode: 0o666 });
      const after = parseVocabulary(next);
      console.log(`Recorded: ${o.code} (${o.lang}) reviewed by ${o.by} on ${o.at}.`);
      console.log(
        `The vocabulary's hash is now ${after.hash}: re-sign both cards and regenerate docs/vocabulary.md.`,
      );
    });

  vocabulary
    .command('doc')
    .description('write the side-by-side document for reviewers (docs/vocabulary.md)')
    .addOption(fileOption())
    .option('--out <file>', 'where to write it (stdout by default; never overwritten)')
    .option('--force', 'replace the --out file if it exists, e.g. docs/vocabulary.md')
    .action(async (o) => {
      const [{ file, loadVocabulary }, { readChanges, vocabularyMarkdown }] = await Promise.all([
        vocabularyOf(o),
        import('../protocol/vocabulary-doc.ts'),
      ]);
      await printOrWrite(
        o,
        async () => vocabularyMarkdown(loadVocabulary(file), readChanges(file)),
        (text) => text,
      );
    });

  program
    .command('show <party> <id>')
    .description('a message as a reader in a language sees it: original, translations, codes')
    .addOption(dataOption())
    .option('--lang <tag>', 'the reader’s language', 'en')
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, o) => {
      const lang = await checkReaderLanguage(o.data, o.lang);
      const view = (await callNode(
        o.data,
        'GET',
        `/api/v1/messages/${enc(party)}/${enc(id)}?lang=${enc(lang)}`,
        undefined,
        MESSAGE_OPTIONS,
      )) as MessageView;
      if (o.json) console.log(JSON.stringify(view, null, 2));
      else printMessage(view);
    });

  const translate = program
    .command('translate')
    .description('local translations of a message’s free text (never sent to the peer)');
  translate
    .command('add <party> <id>')
    .description('record a person’s translation')
    .addOption(dataOption())
    .requiredOption('--lang <tag>', 'the language translated into')
    .requiredOption('--text <text>', 'the translation')
    .addOption(
      new Option('--status <s>', 'how finished it is')
        .choices(['sight', 'rough', 'final'])
        .makeOptionMandatory(),
    )
    .requiredOption('--translator <name>', 'who translated it')
    .option('--desk <desk>', 'the desk recording it', 'ops')
    .action(async (party: string, id: string, o) => {
      const added = (await callNode(
        o.data,
        'POST',
        `/api/v1/messages/${enc(party)}/${enc(id)}/translations`,
        { lang: o.lang, text: o.text, status: o.status, translator: o.translator, desk: o.desk },
        MESSAGE_OPTIONS,
      )) as LocalTranslation;
      console.log(`Added ${added.id}: ${added.label}`);
    });
  translate
    .command('machine <party> <id>')
    .description('ask the configured machine-translation endpoint')
    .addOption(dataOption())
    .requiredOption('--lang <tag>', 'the language to translate into')
    .option('--desk <desk>', 'the desk asking', 'ops')
    .action(async (party: string, id: string, o) => {
      const added = (await callNode(
        o.data,
        'POST',
        `/api/v1/messages/${enc(party)}/${enc(id)}/translations/machine`,
        { lang: o.lang, desk: o.desk },
        MESSAGE_OPTIONS,
      )) as LocalTranslation;
      console.log(`[${added.label}] (${added.lang}) ${added.text}`);
    });
  translate
    .command('list <party> <id>')
    .description('list the local translations of a message')
    .addOption(dataOption())
    .option('--lang <tag>', 'the language of the labels', 'en')
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, o) => {
      const lang = await checkReaderLanguage(o.data, o.lang);
      const list = (await callNode(
        o.data,
        'GET',
        `/api/v1/messages/${enc(party)}/${enc(id)}/translations?lang=${enc(lang)}`,
        undefined,
        MESSAGE_OPTIONS,
      )) as LocalTranslation[];
      if (o.json) return console.log(JSON.stringify(list, null, 2));
      if (!list.length) console.log('No local translations.');
      for (const t of list) console.log(`${t.createdAt}  [${t.label}] (${t.lang}) ${t.text}`);
    });

  program
    .command('cap <incident>')
    .description('export an incident as an OASIS CAP 1.2 alert (one <info> per language)')
    .addOption(dataOption())
    .option('--out <file>', 'where to write the XML (stdout by default; never overwritten)')
    .option('--force', 'replace the --out file if it exists (otherwise refused)')
    .option('--include-red', 'include TLP:RED messages (recorded in the ledger; needs --reason)')
    .option('--reason <text>', 'why TLP:RED content is included')
    .option('--desk <desk>', 'the desk forcing TLP:RED content out (default: your first)')
    .action(async (incident: string, o) => {
      redOptionsAlone(o);
      if (o.includeRed && !o.reason)
        throw new CliError('--include-red needs --reason: forcing TLP:RED out is recorded');
      const alert = async () =>
        (await callNode(
          o.data,
          'POST',
          `/api/v1/incidents/${enc(incident)}/cap`,
          o.includeRed
            ? { includeRed: { ...(o.desk ? { desk: o.desk } : {}), reason: o.reason } }
            : {},
          {
            'params/incident': '<incident>',
            'body/includeRed/desk': '--desk',
            'body/includeRed/reason': '--reason',
          },
        )) as { xml: string; messages: number; excludedRed: number; auditLeaf?: number };
      const result = await printOrWrite(o, alert, (r) => r.xml);
      console.error(
        `CAP 1.2 alert of ${result.messages} message(s)` +
          (result.excludedRed ? `; ${result.excludedRed} TLP:RED message(s) left out` : '') +
          (result.auditLeaf !== undefined ? `; recorded at ledger leaf ${result.auditLeaf}` : ''),
      );
    });

  program
    .command('stix <file>')
    .description('check a STIX 2.1 bundle file as an attachment would be checked, and summarize it')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      const { checkStixBundle, describeStixProblems } = await import('../protocol/stix.ts');
      const result = checkStixBundle(readJsonFile(file));
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else if (!result.ok) console.log(`NOT VALID: ${describeStixProblems(result.problems)}`);
      else {
        const s = result.summary;
        const marking = s.tlp ? `, marked TLP:${s.tlp.toUpperCase()}` : ', no TLP marking';
        console.log(`OK: ${s.id}, ${s.objects} objects${marking}`);
        console.log(
          `  ${Object.entries(s.types)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ')}`,
        );
        for (const l of s.listed) console.log(`  ${l.type}${l.label ? `: ${l.label}` : ''}`);
      }
      if (!result.ok) process.exitCode = 1;
    });

  program
    .command('evaluation <file>')
    .description('check an evaluation-result file as an attachment would be checked')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      const { checkEvaluationText, describeEvaluationProblems } = await import(
        '../protocol/evaluation.ts'
      );
      const result = checkEvaluationText(readFileSync(file, 'utf8'));
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else if (!result.ok)
        console.log(`NOT VALID: ${describeEvaluationProblems(result.problems, file)}`);
      else console.log(`OK: ${evaluationLine(result.evaluation)}`);
      if (!result.ok) process.exitCode = 1;
    });
}

const enc = encodeURIComponent;

/** An evaluation result in one line, e.g. for `hotline show`. */
function evaluationLine(e: Evaluation): string {
  return (
    `${e.system.name} ${e.system.version} (${e.system.developer}), ${e.suite.name} ${e.suite.version}, ` +
    `${e.domain === 'other' ? e.domainOther : e.domain}: ${e.metric.name} ${e.result} against ${e.threshold} — ` +
    `${e.crossed ? 'CROSSED' : 'not crossed'}; ${e.evidence.length} evidence hash(es), ${e.redTeam.length} red-team finding(s)`
  );
}

function printMessage(v: MessageView): void {
  const r = v.rendered;
  console.log(
    `${v.dir === 'in' ? `from ${v.from}` : 'sent by us'}  ${v.at}  ${v.id}  ${v.body.type}`,
  );
  console.log(`  ${r.precedence.text} · ${r.status.text} · ${r.tlp.text}`);
  if (r.report) {
    console.log(`  ${r.report.nature.text}: ${r.report.category.text}`);
    if (r.report.harm)
      console.log(
        `  ${[r.report.harm.severity, ...r.report.harm.types, r.report.harm.reversibility].map((c) => c.text).join('; ')}`,
      );
    if (r.report.actionsTaken.length)
      console.log(`  → ${r.report.actionsTaken.map((c) => c.text).join('; ')}`);
    if (r.report.actionsRequested.length)
      console.log(`  ? ${r.report.actionsRequested.map((c) => c.text).join('; ')}`);
  }
  if (r.state) console.log(`  ${r.state.text}`);
  if (r.notice) console.log(`  ${r.notice.text}`);
  for (const c of r.codes) console.log(`  ${c.text}`);
  if (r.text) console.log(`  [${r.text.label}] (${r.text.lang}) ${r.text.body}`);
  for (const t of r.senderTranslations) console.log(`  [${t.label}] (${t.lang}) ${t.body}`);
  for (const t of v.localTranslations) console.log(`  [${t.label}] (${t.lang}) ${t.text}`);
  for (const a of v.attachments) {
    const stix =
      a.stix && 'summary' in a.stix
        ? ` STIX: ${Object.entries(a.stix.summary.types)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ')}`
        : '';
    console.log(`  attachment ${shownName(a.name)} (${a.mediaType}, ${a.bytes} bytes)${stix}`);
    if (a.evaluation && 'result' in a.evaluation)
      console.log(`    evaluation: ${evaluationLine(a.evaluation.result)}`);
  }
  for (const c of v.citations ?? []) {
    const e = c.attachment?.evaluation;
    console.log(
      `  cites ${c.from}/${c.message} attachment ${c.sha256.slice(0, 16)}…` +
        (e && 'result' in e ? `: evaluation ${evaluationLine(e.result)}` : ''),
    );
  }
  for (const w of v.warnings) console.log(`  ⚠ ${w}`);
}
