/**
 * What a user types, checked before a command runs: numbers where they are parsed, the data
 * folder and every file a command reads or writes before it starts. A mistake is one line naming
 * the option or path, never a schema pattern from the node or a system error half-way through.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, paths } from '../node/core/paths.ts';
import { calendarFault } from '../protocol/common.ts';
import { CliError } from './client.ts';

const TYPED_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/;

/**
 * A UTC time as the wire writes it, from what a person types for `option` ("2026-12-06T14:00Z",
 * "2026-12-06 22:00+08:00"): a day or time that names no real instant (30 February, 25:00) is
 * refused, as the node refuses it, rather than moved by `Date` to the next month.
 */
export function typedTime(text: string, option: string): string {
  const typed = text.trim().replace(' ', 'T');
  const m = TYPED_TIME.exec(typed);
  const written = m && (m[2] === undefined ? m[1] : `${m[1]}T${m[2]}:${m[3]}:${m[4] ?? '00'}Z`);
  const fault = written ? calendarFault(written) : undefined;
  if (fault)
    throw new CliError(`${option}: "${text}" is not a calendar ${fault.what} (${fault.why})`);
  const ms = Date.parse(typed);
  if (Number.isNaN(ms))
    throw new CliError(`${option}: "${text}" is not a time (e.g. 2026-12-06T14:00Z)`);
  return new Date(ms).toISOString();
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

/** As protocol/common.ts's Uuid7 (not imported: the CLI starts without TypeBox). */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A message's or an incident's id as typed, or a one-line error before the node is asked. */
export function messageId(id: string): string {
  if (!UUID_V7.test(id)) throw new CliError(`"${id}" is not a message or incident id (a UUIDv7)`);
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

/** A node's data folder: there, and made by `hotline init` (its configuration is in it). */
export function checkDataFolder(dir: string): void {
  if (!dir.trim()) throw new CliError('--data is empty: name the node’s data folder');
  const what = kind(dir);
  if (what === undefined)
    throw new CliError(
      `the data folder ${dir} does not exist (check --data; "hotline init" makes one)`,
    );
  if (what !== 'folder') throw new CliError(`--data ${dir} is not a folder`);
  if (kind(paths(dir).config) !== 'file')
    throw new CliError(
      `${dir} is not a Hotline data folder: it has no ${CONFIG_FILE} (check --data; "hotline init" makes one)`,
    );
}

/** A file to read: there, and a file (a named pipe or device is taken as it is). */
function checkInput(path: string, named: string): void {
  const what = kind(path);
  if (what === undefined) throw new CliError(`${named} ${path} does not exist`);
  if (what === 'folder') throw new CliError(`${named} ${path} is a folder, not a file`);
}

/** A file to write: its folder exists, and the name is not a folder's. */
function checkOutput(path: string, named: string): void {
  if (kind(path) === 'folder') throw new CliError(`${named} ${path} is a folder, not a file`);
  const folder = dirname(path);
  if (kind(folder) !== 'folder') throw new CliError(`the folder of ${path} does not exist`);
}

const FILE = /<\w*file>/i;

/**
 * Every `<file>` option and `<…file>` argument `command` was given: `--out` is written, the rest
 * are read. Run before the action, so nothing has been done when a path is wrong.
 */
export function checkFiles(command: Command): void {
  for (const option of command.options) {
    if (!FILE.test(option.flags)) continue;
    const value = command.getOptionValue(option.attributeName()) as unknown;
    const paths = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    for (const path of paths as string[])
      if (option.long === '--out') checkOutput(path, option.long);
      else checkInput(path, option.long ?? option.flags);
  }
  command.registeredArguments.forEach((argument, i) => {
    const value = command.processedArgs[i] as unknown;
    if (/file$/i.test(argument.name()) && typeof value === 'string') checkInput(value, 'the file');
  });
}

/** `--reason` and `--desk` say who forces TLP:RED out: alone, without `--include-red`, a mistake. */
export function redOptionsAlone(o: { includeRed?: boolean; reason?: string; desk?: string }): void {
  if (o.includeRed) return;
  const alone = o.reason !== undefined ? '--reason' : o.desk !== undefined ? '--desk' : undefined;
  if (alone)
    throw new CliError(
      `${alone} goes with --include-red: without it, no TLP:RED content is included`,
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
};

/**
 * A system call's failure (`ENOENT: no such file or directory, open 'x'`) as one sentence naming
 * the path, or undefined for any other error.
 */
export function systemErrorSentence(e: unknown): string | undefined {
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof syscall !== 'string' || typeof code !== 'string') return undefined;
  const said = SYSTEM[code];
  if (!said) return undefined;
  return path ? `${path}: ${said}` : `${said} (${code})`;
}
