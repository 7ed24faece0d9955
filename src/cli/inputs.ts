/**
 * What a user types, checked before a command runs: numbers where they are parsed, the data
 * folder and every file a command reads or writes before it starts. A mistake is one line naming
 * the option or path, never a schema pattern from the node or a system error half-way through.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { writeOutFile } from '../node/core/out-file.ts';
import { CONFIG_FILE, paths } from '../node/core/paths.ts';
import {
  calendarFault,
  HostPort,
  offeredLang,
  rangeProblem,
  whenProblem,
} from '../protocol/common.ts';
import { RELAY_DB } from '../relay/paths.ts';
import { CliError } from './client.ts';

/** A day, then optionally a time of day (`T` or a space), then optionally its zone. */
const TYPED_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/** The CLI's refusal of what was typed: the code and the node's sentence form for bad input. */
export function malformed(sentence: string): CliError {
  return new CliError(`E_MALFORMED: ${sentence}`, { cause: 'E_MALFORMED' });
}

/** The CLI's refusal of a change the state forbids: the code the node gives it, and a sentence. */
export function conflict(sentence: string): CliError {
  return new CliError(`E_CONFLICT: ${sentence}`, { cause: 'E_CONFLICT' });
}

/**
 * A UTC time as the wire writes it, from what a person types for `option` ("2026-12-06T14:00Z",
 * "2026-12-06 22:00+08:00"). The zone is required: the parties are in different time zones, so
 * "03:00" alone is no instant (the machine's own zone is not assumed), and a day alone is not a
 * time either (the operator API's `Instant` takes neither). A day or time that names no real
 * instant (30 February, 25:00) is refused, as the node refuses it, rather than moved by `Date` to
 * the next month, and so is one whose zone carries it past the year 9999 (or before 0000) in UTC.
 * With `must`, a time on the wrong side of now is refused too (`whenProblem`).
 */
export function typedTime(
  text: string,
  option: string,
  must?: { must: 'past' | 'future'; why: string; now?: Date },
): string {
  const m = TYPED_TIME.exec(text.trim());
  if (!m) throw malformed(`${option}: "${text}" is not a time (e.g. 2026-12-06T14:00Z)`);
  const [, day, hh, mm, ss = '00', fraction = '', utc, sign, offH, offM] = m;
  const fault = calendarFault(hh === undefined ? `${day}` : `${day}T${hh}:${mm}:${ss}Z`);
  if (fault) throw malformed(`${option}: "${text}" is not a calendar ${fault.what} (${fault.why})`);
  if (hh === undefined)
    throw malformed(
      `${option}: "${text}" is a day, not a time: give the time and its zone, e.g. ${day}T00:00Z (the start of that day in UTC)`,
    );
  if (!utc && !sign)
    throw malformed(
      `${option}: "${text}" has no time zone: add Z for UTC or the offset from UTC, e.g. ${day}T${hh}:${mm}Z or ${day}T${hh}:${mm}+08:00`,
    );
  if (sign && (Number(offH) > 23 || Number(offM) > 59))
    throw malformed(`${option}: "${text}" has no real offset from UTC (e.g. +08:00, -05:00)`);
  const zone = sign ? `${sign}${offH}:${offM}` : 'Z';
  const instant = new Date(Date.parse(`${day}T${hh}:${mm}:${ss}${fraction}${zone}`));
  // Near either end of the years, the offset can carry the instant past them (`+010000-…`),
  // which no Timestamp on the wire or the API can be.
  const year = instant.getUTCFullYear();
  if (year < 0 || year > 9999)
    throw malformed(
      `${option}: "${text}" is in the year ${year} in UTC: give a time from the year 0000 to 9999 in UTC`,
    );
  const at = instant.toISOString();
  const wrong =
    must &&
    whenProblem({ name: option, given: text, at }, must.now ?? new Date(), must.must, must.why);
  if (wrong) throw malformed(wrong);
  return at;
}

/**
 * The two ends of a range typed for `from` and `until` (either may be absent), each as
 * `typedTime` reads it; a range that ends before it starts (or, `exclusive`, where it starts) is
 * refused naming both as typed, as the node refuses it (`rangeProblem`).
 */
export function typedRange(
  from: [option: string, text: string | undefined],
  until: [option: string, text: string | undefined],
  how: { exclusive?: boolean } = {},
): { from?: string; until?: string } {
  const [fromOption, fromText] = from;
  const [untilOption, untilText] = until;
  const start = fromText === undefined ? undefined : typedTime(fromText, fromOption);
  const end = untilText === undefined ? undefined : typedTime(untilText, untilOption);
  if (start === undefined || end === undefined)
    return { ...(start ? { from: start } : {}), ...(end ? { until: end } : {}) };
  const problem = rangeProblem(
    { name: fromOption, given: fromText as string, at: start },
    { name: untilOption, given: untilText as string, at: end },
    how,
  );
  if (problem) throw malformed(problem);
  return { from: start, until: end };
}

/**
 * A day typed for `option` (YYYY-MM-DD, a UTC day) on which something was done: a real calendar
 * day, and not one after today in UTC.
 */
export function typedDay(text: string, option: string, now = new Date()): string {
  const day = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day))
    throw malformed(`${option}: "${text}" is not a day (YYYY-MM-DD, e.g. 2026-12-07)`);
  const fault = calendarFault(day);
  if (fault) throw malformed(`${option}: "${text}" is not a calendar ${fault.what} (${fault.why})`);
  const today = now.toISOString().slice(0, 10);
  if (day > today)
    throw malformed(
      `${option} ${text} is in the future (today is ${today} in UTC): give the day it was done`,
    );
  return day;
}

/** A commander option parser: a whole number from `min` to `max`, or a one-line error. */
export function wholeNumber(option: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*[0-9]+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new CliError(
        `${option} "${text}" is not a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}`,
      );
    return n;
  };
}

/**
 * A commander parser for a listener's address (`--listen`, `--operator-listen`): the check
 * hotline.yaml's `listen` gets, said of the option typed, before anything is made or opened.
 */
export function listenAddress(option: string) {
  const form = new RegExp(HostPort.pattern as string);
  return (text: string): string => {
    if (!form.test(text)) throw malformed(`${option} "${text}" is not ${HostPort.description}`);
    return text;
  };
}

/** A command as typed: `hotline user token`. */
export function commandLine(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/**
 * Every option and argument of `command` and its subcommands that takes one of a fixed list of
 * values: a value not in it refused in one line naming the option, the value and the list, and
 * where the help is, rather than commander's sentence followed by the whole help of the command.
 */
export function choicesInOneLine(command: Command): void {
  const fixed = [...command.options, ...command.registeredArguments].filter(
    (input) => input.argChoices && input.parseArg,
  );
  for (const input of fixed) {
    const choices = input.argChoices as string[];
    const parse = input.parseArg as <T>(value: string, previous: T) => T;
    const named = 'flags' in input ? (input.long ?? input.flags) : `<${input.name()}>`;
    input.argParser((value: string, previous: unknown) => {
      if (!choices.includes(value))
        throw malformed(
          `${named} "${value}" is not one of ${choices.join(', ')} (see "${commandLine(command)} --help")`,
        );
      return parse(value, previous);
    });
  }
  for (const sub of command.commands) choicesInOneLine(sub);
}

/**
 * Commander's own usage errors of `command` and its subcommands (an unknown option, a missing
 * argument or required option, too many arguments) refused in one line with the code and where
 * the help is, rather than commander's sentence followed by the whole help of the command. Help
 * asked for, or shown because a command needs a subcommand, is left to commander.
 */
export function usageErrorsInOneLine(command: Command): void {
  command
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => {} })
    .exitOverride((error) => {
      if (error.code.startsWith('commander.help') || error.code === 'commander.version') return;
      const [what = '', ...hints] = error.message.replace(/^error: /, '').split('\n');
      const hint = hints.map((h) => h.replace(/^\((.*)\)$/, '$1')).join(' ');
      throw malformed(
        `${what}${hint ? `; ${hint.charAt(0).toLowerCase()}${hint.slice(1)}` : ''} (see "${commandLine(command)} --help")`,
      );
    });
  for (const sub of command.commands) usageErrorsInOneLine(sub);
}

/**
 * A commander parser for an option repeated once per value (`--to`, `--field`, `--endpoint`, …):
 * the values in the order given, and a value whose key (`keyOf`: the value itself, or its name
 * before `=`) was given already refused in one line, rather than dropped or counted twice.
 * `noun` names one value in the sentence ("give each recipient once").
 */
export function eachOnce(
  option: string,
  noun: string,
  keyOf: (value: string) => string = (value) => value,
) {
  return (value: string, previous: readonly string[]): string[] => {
    const key = keyOf(value);
    if (previous.some((given) => keyOf(given) === key))
      throw new CliError(
        key === value
          ? `${option} ${value} is given twice: give each ${noun} once`
          : `${option} ${value}: ${key} is given already; give each ${noun} once`,
      );
    return [...previous, value];
  };
}

/** How many times, in words: "twice", "3 times". */
function times(n: number): string {
  return n === 2 ? 'twice' : `${n} times`;
}

/**
 * Every option of `command` that takes one value, given more than once in `argv` (the words typed
 * after `hotline`), refused in one line naming it and the values given, even when they are the
 * same: commander would keep the last silently, so `--precedence flash --precedence routine` sent
 * a routine message. Counts long and short forms, `--opt=value` and `-oValue`, up to `--`. Options
 * that collect values (`eachOnce`, variadic: a default list) are repeated by design; flags that
 * take no value are tolerated twice, as saying the same thing again changes nothing.
 */
export function checkGivenOnce(command: Command, argv: readonly string[]): void {
  const valued = command.options.filter(
    (option) =>
      (option.required || option.optional) &&
      !option.variadic &&
      !Array.isArray(option.defaultValue),
  );
  const byFlag = new Map<string, (typeof valued)[number]>();
  for (const option of command.options) {
    if (option.long) byFlag.set(option.long, option);
    if (option.short) byFlag.set(option.short, option);
  }
  const given = new Map<(typeof valued)[number], string[]>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') continue;
    const long = word.startsWith('--');
    const flag = long ? word.split('=')[0] : word.slice(0, 2);
    const option = byFlag.get(flag as string);
    if (!option) continue;
    const takesValue = option.required || option.optional;
    const inline = long
      ? word.includes('=')
        ? word.slice(word.indexOf('=') + 1)
        : undefined
      : word.slice(2) || undefined;
    let value = inline;
    if (takesValue && value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && (option.required || !next.startsWith('-'))) {
        value = next;
        i++;
      }
    }
    if (valued.includes(option)) given.set(option, [...(given.get(option) ?? []), value ?? '']);
  }
  for (const [option, values] of given)
    if (values.length > 1)
      throw malformed(
        `${option.long ?? option.short} is given ${times(values.length)} (${values.join(', ')}): give it once`,
      );
}

/** The name of a `name=value` option value (`--field`, `--translation`), as `eachOnce` keys it. */
export function nameOf(value: string): string {
  const at = value.indexOf('=');
  return at < 1 ? value : value.slice(0, at);
}

/** A URL as `eachOnce` keys it: `https://a:7100` and `https://A:7100/` are one. */
export function urlKey(text: string): string {
  const url = text.split('#')[0] as string;
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** As protocol/common.ts's Uuid7 (not imported: the CLI starts without TypeBox). */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A message's or an incident's id as typed for `named` (`<id>`, `--proposal`), or a one-line
 * error quoting it before the node is asked.
 */
export function messageId(id: string, named: string): string {
  if (!UUID_V7.test(id))
    throw malformed(`${named} "${id}" is not a message or incident id (a UUIDv7)`);
  return id;
}

/** What a path is, or undefined when nothing is there. */
function kind(path: string): 'file' | 'folder' | 'other' | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A `--data` folder: a folder where something is there (a file is named as one), and, unless the
 * command makes it (`init`, `relay`), there and made by `hotline init` (its configuration is in it).
 */
export function checkDataFolder(dir: string, { made = false } = {}): void {
  if (!dir.trim()) throw new CliError('--data is empty: name the node’s data folder');
  const what = kind(dir);
  if (what === 'file') throw new CliError(`--data ${dir} is a file, not a folder`);
  if (what === 'other') throw new CliError(`--data ${dir} is not a folder`);
  if (made) return;
  if (what === undefined)
    throw new CliError(
      `the data folder ${dir} does not exist (check --data; "hotline init" makes one)`,
    );
  if (kind(paths(dir).config) !== 'file')
    throw new CliError(
      `${dir} is not a Hotline data folder: it has no ${CONFIG_FILE} (check --data; "hotline init" makes one)`,
    );
}

/** Whether `folder` is a node's data folder: `hotline init` wrote its configuration there. */
const isDataFolder = (folder: string) => existsSync(paths(folder).config);

/**
 * A relay's `--data`: never a node's data folder, whose TLS key the relay would take as its own
 * (the pin parties hold for the node) and whose folder it would fill with its mailboxes.
 */
export function checkRelayFolder(dir: string): void {
  if (isDataFolder(dir))
    throw conflict(
      `--data ${dir} is a node's data folder (it has ${CONFIG_FILE}): a relay keeps its own folder, with its own TLS key; give --data another folder`,
    );
}

/** A file to read: there, and a file (a named pipe or device is taken as it is). */
function checkInput(path: string, named: string): void {
  const what = kind(path);
  if (what === undefined) throw new CliError(`${named} ${path} does not exist`);
  if (what === 'folder') throw new CliError(`${named} ${path} is a folder, not a file`);
}

/** Whether `command` may replace a file it writes (it has `--force`, and was given it). */
interface Overwrite {
  offered: boolean;
  given: boolean;
}

/** Why a file to write is not written: it exists, and is never replaced without `--force`. */
function existsSentence(path: string, force: Overwrite): string {
  return `${path} exists: refusing to overwrite it${force.offered ? ' (give --force to replace it)' : ''}`;
}

/** A data folder's own files by name (as `paths` names them), and what each is to the node. */
const NODE_FILES = (() => {
  const named = paths('');
  return [
    [named.db, 'the database'],
    [named.config, 'the configuration'],
    [named.card, 'the card'],
    [named.token, 'the first admin’s operator token'],
    [named.running, 'the running node’s address file'],
    [named.restored, 'the restore marker'],
  ] as const;
})();

/** A relay's folder (one holding its mailboxes): its database and keys are its own. */
const isRelayFolder = (folder: string) => existsSync(join(folder, RELAY_DB));

/**
 * What `path` is to a node or a relay, when it is one of their folders' own files. A node's data
 * folder (any folder holding a `hotline.yaml`, not only `--data`): its database (with `-wal`,
 * `-shm`, and the copies `restore` puts aside), configuration, card, operator token, running or
 * restore marker, or any file in its `keys` folder. A relay's folder (any holding a `relay.db`):
 * its mailboxes (with `-wal`, `-shm`) or any file in its `keys` folder. The path is taken as the
 * system resolves it (links followed, `..` and a linked folder), and names are compared without
 * case, as a case-insensitive disk does.
 */
export function ownFileOf(
  path: string,
): { what: string; owner: 'node' | 'relay'; folder: string } | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    try {
      real = join(realpathSync(dirname(path)), basename(path));
    } catch {
      return undefined;
    }
  }
  const name = basename(real).toLowerCase();
  const folder = dirname(real);
  const keys = basename(paths('').keys);
  if (basename(folder).toLowerCase() === keys) {
    const parent = dirname(folder);
    if (isDataFolder(parent)) return { what: 'a key', owner: 'node', folder: parent };
    if (isRelayFolder(parent)) return { what: 'a key', owner: 'relay', folder: parent };
  }
  if (isRelayFolder(folder) && name.startsWith(RELAY_DB))
    return { what: 'the mailboxes database', owner: 'relay', folder };
  if (!isDataFolder(folder)) return undefined;
  const found = NODE_FILES.find(([file]) =>
    file === paths('').db ? name.startsWith(file) : name === file,
  );
  return found && { what: found[1], owner: 'node', folder };
}

/**
 * A file to write: its folder exists, the name is not a folder's, nor a file's unless forced, and
 * never, even forced, one of a node's or a relay's own files (`ownFileOf`).
 */
function checkOutput(path: string, named: string, force: Overwrite): void {
  const what = kind(path);
  if (what === 'folder') throw new CliError(`${named} ${path} is a folder, not a file`);
  const folder = dirname(path);
  if (kind(folder) !== 'folder') throw new CliError(`the folder of ${path} does not exist`);
  const own = ownFileOf(path);
  if (own)
    throw conflict(
      `${named} ${path} is ${own.what} of the ${own.owner} in ${own.folder}: refusing to write over it, even with --force; write the file elsewhere`,
    );
  if (what !== undefined && !force.given) throw new CliError(existsSentence(path, force));
}

/**
 * Writes the file `--out` named with what `produce` writes (../node/core/out-file.ts): the name
 * is claimed before `produce` runs, so nothing is made (a token issued) for a file that cannot
 * be written, and one that appeared since `checkFiles` is not overwritten either; with `--force`,
 * written beside it and renamed over it. `mode` is the file's from its creation on.
 */
export async function writeOutput<T>(
  path: string,
  o: { force?: boolean; mode?: number },
  produce: (write: (text: string) => void) => Promise<T> | T,
): Promise<T> {
  try {
    return await writeOutFile(path, { replace: o.force === true, mode: o.mode ?? 0o666 }, produce);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !o.force)
      throw new CliError(existsSentence(path, { offered: true, given: false }));
    throw e;
  }
}

/**
 * What `make` answers, its `text` written to the file `--out` names (claimed before `make` runs,
 * so nothing is asked of the node for a file that cannot be written), or to stdout without one.
 */
export async function printOrWrite<T>(
  o: { out?: string; force?: boolean },
  make: () => Promise<T>,
  text: (made: T) => string,
): Promise<T> {
  if (o.out)
    return writeOutput(o.out, o, async (write) => {
      const made = await make();
      write(text(made));
      return made;
    });
  const made = await make();
  process.stdout.write(text(made));
  return made;
}

const FILE = /<\w*file>/i;

/**
 * Every `<file>` option and `<…file>` argument `command` was given: `--out` is written (never over
 * an existing file unless the command has `--force` and it was given), the rest are read. Run
 * before the action, so nothing has been done when a path is wrong.
 */
export function checkFiles(command: Command): void {
  const force = {
    offered: command.options.some((option) => option.long === '--force'),
    given: command.getOptionValue('force') === true,
  };
  if (force.given && command.getOptionValue('out') === undefined)
    throw new CliError('--force goes with --out: no file is written');
  for (const option of command.options) {
    if (!FILE.test(option.flags)) continue;
    const value = command.getOptionValue(option.attributeName()) as unknown;
    const paths = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    for (const path of paths as string[])
      if (option.long === '--out') checkOutput(path, option.long, force);
      else checkInput(path, option.long ?? option.flags);
  }
  command.registeredArguments.forEach((argument, i) => {
    const value = command.processedArgs[i] as unknown;
    if (/file$/i.test(argument.name()) && typeof value === 'string')
      checkInput(value, `<${argument.name()}>`);
  });
}

/**
 * Options that mean something only beside `needed`: given without it, a mistake, not ignored.
 * `alone` maps each such option's attribute name to its flag; `without` says what not giving
 * `needed` means.
 */
export function onlyWith(
  o: Record<string, unknown>,
  needed: [attribute: string, flag: string],
  alone: Record<string, string>,
  without: string,
): void {
  if (o[needed[0]]) return;
  const given = Object.keys(alone).find((attribute) => o[attribute] !== undefined);
  if (given) throw new CliError(`${alone[given]} goes with ${needed[1]}: without it, ${without}`);
}

/** `--reason` and `--desk` say who forces TLP:RED out: alone, without `--include-red`, a mistake. */
export function redOptionsAlone(o: { includeRed?: boolean; reason?: string; desk?: string }): void {
  onlyWith(
    o,
    ['includeRed', '--include-red'],
    { reason: '--reason', desk: '--desk' },
    'no TLP:RED content is included',
  );
}

/**
 * A language tag as BCP 47 spells it (`ZH` → `zh`, `zh-hans` → `zh-Hans`: tags are not case
 * sensitive, the node's are canonical). A value that is no tag is left for the node to refuse.
 */
export function canonicalLang(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? tag;
  } catch {
    return tag;
  }
}

/**
 * The language to show for a reader's `--lang`: itself, or its base (`zh-Hans` → `zh`), when
 * `what` (the vocabulary, the regimes) has text in it; otherwise a one-line error naming the
 * languages it has, rather than a silent fall back to the first of them.
 */
export function offeredLanguage(lang: string, languages: readonly string[], what: string): string {
  const shown = offeredLang(lang, languages);
  if (shown) return shown;
  throw new CliError(
    `--lang ${lang}: ${what} has no text in that language; give one of ${languages.join(', ')}`,
  );
}

/** A JSON file the user named, parsed, or a one-line error naming it. */
export function readJsonFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
}

const SYSTEM: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'a folder where a file was expected',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the disk',
  EROFS: 'the file system is read-only',
  ENOTFOUND: 'no such host: check the host name in the URL',
  EAI_AGAIN: 'the host name could not be looked up now (no answer from the name server)',
  ECONNREFUSED:
    'nothing listens there: check the host and port in the URL, and that the server runs',
  ETIMEDOUT: 'no answer in time: check the host and port in the URL',
};

/**
 * A system call's failure (`ENOENT: no such file or directory, open 'x'`, `getaddrinfo ENOTFOUND
 * db.example`) as one sentence naming the path or host, or undefined for any other error.
 */
export function systemErrorSentence(e: unknown): string | undefined {
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  const { hostname, address, port } = e as { hostname?: string; address?: string; port?: number };
  if (typeof syscall !== 'string' || typeof code !== 'string') return undefined;
  const said = SYSTEM[code];
  if (!said) return undefined;
  const where = path ?? hostname ?? (address && (port ? `${address}:${port}` : address));
  return where ? `${where}: ${said}` : `${said} (${code})`;
}
