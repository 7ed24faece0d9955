/**
 * `hotline regimes`, `hotline notify` and `hotline compliance` (docs/regimes.md): the agreed
 * notification types, sending one with its fields, and the compliance board.
 */
import { type Command, Option } from 'commander';
import { PRECEDENCES, STATUSES, TLPS } from '../protocol/values.ts';
import type { ComplianceBoard } from '../protocol/views.ts';
import {
  heldLine,
  secondFactorOption,
  stepUpNames,
  stepUpOf,
  warnUnusedSecondFactor,
} from './approvals.ts';
import { CliError, callNode, toPinned } from './client.ts';
import { eachOnce, malformed, nameOf, offeredLanguage, typedTime } from './inputs.ts';

/** `name=value` as the field's kind wants it: numbers, years and booleans parsed, dates kept. */
function fieldValue(name: string, kind: string | undefined, text: string): unknown {
  if (kind === 'number' || kind === 'integer' || kind === 'year') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n))
      throw malformed(`--field ${name}: "${text}" is not a number`);
    return n;
  }
  if (kind === 'boolean') {
    if (text !== 'true' && text !== 'false')
      throw malformed(`--field ${name}: "${text}" is not true or false`);
    return text === 'true';
  }
  return text;
}

export function registerRegimes(program: Command): void {
  const regimes = program
    .command('regimes')
    .description('the agreed notification regimes: check a file, list the types and their fields');

  regimes
    .command('check')
    .description('validate a regimes file; print its version and hash')
    .option('--file <file>', 'the regimes file (default: the shipped one)')
    .action(async (o) => {
      const { DEFAULT_REGIMES_FILE, loadRegimes, RegimesError } = await import(
        '../protocol/regimes.ts'
      );
      const file = o.file ?? DEFAULT_REGIMES_FILE;
      try {
        const r = loadRegimes(file);
        console.log(`OK: regimes ${r.version}, hash ${r.hash}, ${r.types.length} types`);
      } catch (e) {
        if (!(e instanceof RegimesError)) throw e;
        console.error(`${file} is not a valid regimes file:`);
        for (const p of e.problems) console.error(`  - ${p}`);
        process.exitCode = 1;
      }
    });

  regimes
    .command('show [type]')
    .description('list the notification types, or one type with its fields')
    .option('--file <file>', 'the regimes file (default: the shipped one)')
    .option('--lang <tag>', 'the language to show', 'en')
    .action(async (code: string | undefined, o) => {
      const { loadRegimes } = await import('../protocol/regimes.ts');
      const r = loadRegimes(o.file);
      const lang = offeredLanguage(o.lang, r.languages, 'the regimes file');
      const pick = (m: Record<string, string>) => m[lang] ?? '';
      for (const t of r.types) {
        if (code && t.code !== code) continue;
        console.log(`${t.code}  ${pick(t.name)}`);
        console.log(`  ${pick(t.description)}`);
        if (!code) continue;
        for (const f of t.fields)
          console.log(
            `  --field ${f.name}=…  ${f.type}${f.values ? ` (${f.values.join('|')})` : ''}${f.required ? ', required' : ''}  ${pick(f.label)}`,
          );
      }
      if (code && !r.type(code))
        throw malformed(
          `<type> "${code}" is not a notification type (hotline regimes show lists them)`,
        );
    });

  program
    .command('notify')
    .description('send a regime notification: a notice on the type, its fields attached')
    .addOption(new Option('--data <dir>', 'the node data folder').makeOptionMandatory())
    .requiredOption(
      '--to <party>',
      'recipient (repeat for several)',
      eachOnce('--to', 'recipient'),
      [],
    )
    .requiredOption('--type <code>', 'the notification type, e.g. regime.training-run')
    .option(
      '--field <name=value>',
      'a field of the type (repeat, each field once)',
      eachOnce('--field', 'field', nameOf),
      [],
    )
    .option('--incident <id>', 'the incident whose report owes this notice')
    .addOption(new Option('--precedence <p>', 'precedence').choices(PRECEDENCES).default('routine'))
    .addOption(new Option('--status <s>', 'status').choices(STATUSES).default('actual'))
    .addOption(new Option('--tlp <label>', 'TLP 2.0 marking').choices(TLPS).default('green'))
    .option('--text <text>', 'free text beside the fields, in --lang')
    .option('--lang <tag>', 'language of the text', 'en')
    .option('--desk <desk>', 'the author desk shown to the peer', 'ops')
    .option('--break-glass <reason>', 'officers: release without the second approval (recorded)')
    .addOption(secondFactorOption())
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const [{ loadRegimes }, { readConfig }, { releasedLine }] = await Promise.all([
        import('../protocol/regimes.ts'),
        import('../node/core/config.ts'),
        import('./approvals.ts'),
      ]);
      const r = loadRegimes(readConfig(o.data).regimesFile);
      const type = r.type(o.type);
      if (!type)
        throw malformed(
          `--type "${o.type}" is not a notification type (hotline regimes show lists them)`,
        );
      const fields: Record<string, unknown> = {};
      for (const f of o.field as string[]) {
        const at = f.indexOf('=');
        if (at < 1) throw new CliError(`--field takes name=value, not "${f}"`);
        const name = f.slice(0, at);
        fields[name] = fieldValue(
          name,
          type.fields.find((x) => x.name === name)?.type,
          f.slice(at + 1),
        );
      }
      const result = (await toPinned(
        o.data,
        o.to,
        callNode(
          o.data,
          'POST',
          '/api/v1/notifications',
          {
            to: o.to,
            type: o.type,
            fields,
            desk: o.desk,
            precedence: o.precedence,
            status: o.status,
            tlp: o.tlp,
            ...(o.incident ? { incident: o.incident } : {}),
            ...(o.text ? { text: { lang: o.lang, body: o.text } } : {}),
            ...(o.breakGlass !== undefined
              ? { breakGlass: { reason: o.breakGlass, ...stepUpOf(o.secondFactor) } }
              : {}),
          },
          {
            'body/to': '--to',
            'body/to/<i>': '--to #<i+1>',
            'body/type': '--type',
            'body/fields': '--field',
            ...Object.fromEntries(
              type.fields.map((f) => [`body/fields/${f.name}`, `--field ${f.name}`]),
            ),
            'body/desk': '--desk',
            'body/precedence': '--precedence',
            'body/status': '--status',
            'body/tlp': '--tlp',
            'body/incident': '--incident',
            'body/text/lang': '--lang',
            'body/text/body': '--text',
            'body/breakGlass': '--break-glass',
            'body/breakGlass/reason': '--break-glass',
            ...stepUpNames('body/breakGlass'),
          },
        ),
      )) as { state: string; id: string; seq: Record<string, number>; draft: string | null };
      warnUnusedSecondFactor(o);
      if (o.json) console.log(JSON.stringify(result));
      else if (result.state === 'pending') console.log(heldLine(result));
      else console.log(releasedLine(result));
    });

  program
    .command('compliance')
    .description('the compliance board: what each side owes, sent on time, late, acknowledged')
    .addOption(new Option('--data <dir>', 'the node data folder').makeOptionMandatory())
    .option('--at <time>', 'as at this time, with its zone (e.g. 2027-02-01T00:00Z)')
    .option('--lang <tag>', 'the language of the type names', 'en')
    .option('--json', 'print the table as JSON')
    .action(async (o) => {
      const [{ loadRegimes }, { readConfig }] = await Promise.all([
        import('../protocol/regimes.ts'),
        import('../node/core/config.ts'),
      ]);
      const { languages } = loadRegimes(readConfig(o.data).regimesFile);
      const lang = offeredLanguage(o.lang, languages, 'the node’s regimes file');
      const query = new URLSearchParams({
        lang,
        ...(o.at ? { at: typedTime(o.at, '--at') } : {}),
      });
      const board = (await callNode(
        o.data,
        'GET',
        `/api/v1/compliance?${query}`,
      )) as ComplianceBoard;
      if (o.json) {
        console.log(JSON.stringify(board, null, 2));
        return;
      }
      console.log(`Compliance, regimes ${board.regimes.version}, at ${board.at}`);
      for (const x of board.obligations)
        console.log(
          `  ${x.state.padEnd(5)} ${x.owedBy} → ${x.owedTo}  ${board.names[x.type] ?? x.type}${x.mode === 'actual' ? '' : ` [${x.mode}]`}  due ${x.due}` +
            `${x.notice ? `  sent ${x.notice.sent}` : ''}${x.acknowledged ? `  acknowledged ${x.acknowledged.at}` : ''}`,
        );
      for (const [party, c] of Object.entries(board.byParty))
        console.log(
          `  ${party}: ${c.owed} owed, ${c.sent} sent on time, ${c.late} late, ${c.acknowledged} acknowledged`,
        );
    });
}
