import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotline } from '../../test/integration/nodes.ts';
import { initOnLoopback } from '../../test/support/node.ts';
import { paths } from '../node/core/paths.ts';
import { DEFAULT_VOCABULARY_FILE } from '../protocol/vocabulary.ts';
import {
  checkGivenOnce,
  eachOnce,
  nameOf,
  offeredLanguage,
  ownFileOf,
  typedDay,
  typedRange,
  typedTime,
  urlKey,
  writeOutput,
} from './inputs.ts';

describe('a time typed on the command line', () => {
  it('is read in the forms people type, to the wire form', () => {
    expect(typedTime('2026-12-06T14:00Z', '--at')).toBe('2026-12-06T14:00:00.000Z');
    expect(typedTime('2026-12-06 22:00+08:00', '--at')).toBe('2026-12-06T14:00:00.000Z');
    expect(typedTime('2026-12-06T09:00-0500', '--at')).toBe('2026-12-06T14:00:00.000Z');
    expect(typedTime('2028-02-29T23:59:59Z', '--at')).toBe('2028-02-29T23:59:59.000Z');
    expect(typedTime('2027-02-01T00:00:00.000Z', '--at')).toBe('2027-02-01T00:00:00.000Z');
  });

  it('is refused when it names no real instant, not moved to the next month', () => {
    expect(() => typedTime('2027-02-30T14:00Z', '--at')).toThrow(
      'E_MALFORMED: --at: "2027-02-30T14:00Z" is not a calendar date/time (February 2027 has no day 30)',
    );
    expect(() => typedTime('2027-02-29', '--from')).toThrow(/February 2027 has no day 29/);
    expect(() => typedTime('2026-12-06 25:00+08:00', '--until')).toThrow(/hours run 00 to 23/);
    expect(() => typedTime('tomorrow', '--at')).toThrow('--at: "tomorrow" is not a time');
    expect(() => typedTime('2026-12-06T14:00+25:00', '--at')).toThrow(/no real offset from UTC/);
  });

  it('is refused when its zone carries it past the year 9999 or before 0000 in UTC', () => {
    expect(() => typedTime('9999-12-31T23:00-05:00', '--at')).toThrow(
      'E_MALFORMED: --at: "9999-12-31T23:00-05:00" is in the year 10000 in UTC: give a time from the year 0000 to 9999 in UTC',
    );
    expect(() => typedTime('0000-01-01 00:30+01:00', '--from')).toThrow(
      /"0000-01-01 00:30\+01:00" is in the year -1 in UTC/,
    );
    expect(() =>
      typedRange(['--from', '9999-12-31T00:00Z'], ['--until', '9999-12-31T20:00-08:00']),
    ).toThrow(/--until: "9999-12-31T20:00-08:00" is in the year 10000 in UTC/);
    expect(typedTime('9999-12-31T23:59Z', '--at')).toBe('9999-12-31T23:59:00.000Z');
    expect(typedTime('0000-01-01T01:00+01:00', '--at')).toBe('0000-01-01T00:00:00.000Z');
  });

  it('is refused without its zone: the machine’s own zone is not assumed', () => {
    expect(() => typedTime('2026-12-07T03:00', '--at')).toThrow(
      'E_MALFORMED: --at: "2026-12-07T03:00" has no time zone: add Z for UTC or the offset from UTC, e.g. 2026-12-07T03:00Z or 2026-12-07T03:00+08:00',
    );
    expect(() => typedTime('2026-12-07 03:00:00', '--since')).toThrow(/has no time zone/);
    expect(() => typedTime('December 7, 2026 03:00', '--at')).toThrow(/is not a time/);
  });

  it('is refused as a day alone: a day is no instant, as for the operator API', () => {
    expect(() => typedTime('2026-12-07', '--from')).toThrow(
      'E_MALFORMED: --from: "2026-12-07" is a day, not a time: give the time and its zone, e.g. 2026-12-07T00:00Z (the start of that day in UTC)',
    );
  });

  it('is refused on the wrong side of now where only the past makes sense', () => {
    const now = new Date('2026-12-07T18:00:00.000Z');
    const must = { must: 'past', why: 'give when the keys were taken', now } as const;
    expect(typedTime('2026-12-07T17:00Z', '--since', must)).toBe('2026-12-07T17:00:00.000Z');
    expect(() => typedTime('2026-12-08T03:00+08:00', '--since', must)).toThrow(
      'E_MALFORMED: --since 2026-12-08T03:00+08:00 is in the future (it is 2026-12-07T18:00:00.000Z): give when the keys were taken',
    );
  });
});

describe('a range typed on the command line', () => {
  it('is refused when it ends before it starts, naming both as typed', () => {
    expect(() =>
      typedRange(['--from', '2026-12-07T00:00Z'], ['--until', '2026-12-01T00:00Z']),
    ).toThrow(
      'E_MALFORMED: --until 2026-12-01T00:00Z is before --from 2026-12-07T00:00Z: the range ends before it starts; give the earlier time as --from',
    );
    // The same instant in two zones: 08:00+08:00 is 00:00Z, before 01:00Z.
    expect(() =>
      typedRange(['--from', '2026-12-07T01:00Z'], ['--until', '2026-12-07T08:00+08:00']),
    ).toThrow(/--until 2026-12-07T08:00\+08:00 is before --from 2026-12-07T01:00Z/);
  });

  it('is refused empty where its end is not part of it (a shift)', () => {
    const same = ['2026-12-07T08:00Z', '2026-12-07T16:00+08:00'];
    expect(() =>
      typedRange(['--from', same[0]], ['--until', same[1]], { exclusive: true }),
    ).toThrow(
      'E_MALFORMED: --until 2026-12-07T16:00+08:00 is the same time as --from 2026-12-07T08:00Z: the range is empty; give a later --until',
    );
    expect(typedRange(['--from', same[0]], ['--until', same[1]])).toEqual({
      from: '2026-12-07T08:00:00.000Z',
      until: '2026-12-07T08:00:00.000Z',
    });
  });

  it('takes one end alone', () => {
    expect(typedRange(['--from', '2026-12-07T00:00Z'], ['--until', undefined])).toEqual({
      from: '2026-12-07T00:00:00.000Z',
    });
  });
});

describe('a day on which something was done', () => {
  const now = new Date('2026-12-07T23:30:00.000Z');
  it('is a real day, not after today in UTC', () => {
    expect(typedDay('2026-12-07', '--at', now)).toBe('2026-12-07');
    expect(() => typedDay('2026-12-08', '--at', now)).toThrow(
      'E_MALFORMED: --at 2026-12-08 is in the future (today is 2026-12-07 in UTC): give the day it was done',
    );
    expect(() => typedDay('2026-02-30', '--at', now)).toThrow(/February 2026 has no day 30/);
    expect(() => typedDay('2026-12-07T10:00Z', '--at', now)).toThrow(
      '--at: "2026-12-07T10:00Z" is not a day (YYYY-MM-DD, e.g. 2026-12-07)',
    );
  });
});

describe('time options of commands that work on files', () => {
  let root: string;
  let dir: string;
  const tomorrow = new Date(Date.now() + 86_400_000);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-times-'));
    dir = join(root, 'us');
    await initOnLoopback(dir);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('vocabulary review --at a day to come is refused, and the file is unchanged', async () => {
    const file = join(root, 'vocabulary.json');
    writeFileSync(file, readFileSync(DEFAULT_VOCABULARY_FILE));
    const before = readFileSync(file, 'utf8');
    const day = tomorrow.toISOString().slice(0, 10);
    const code = (JSON.parse(before) as { entries: Array<{ code: string }> }).entries[0]?.code;
    const review = await hotline([
      'vocabulary',
      'review',
      '--file',
      file,
      '--code',
      String(code),
      '--lang',
      'zh',
      '--by',
      'cn/linguist-1',
      '--at',
      day,
    ]);
    expect(review.code).toBe(1);
    expect(review.stderr).toBe(
      `hotline: E_MALFORMED: --at ${day} is in the future (today is ${new Date().toISOString().slice(0, 10)} in UTC): give the day it was done\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('vocabulary review --by of spaces, or with a bidi override, is refused; the file is unchanged', async () => {
    const file = join(root, 'vocabulary-by.json');
    writeFileSync(file, readFileSync(DEFAULT_VOCABULARY_FILE));
    const before = readFileSync(file, 'utf8');
    const code = (JSON.parse(before) as { entries: Array<{ code: string }> }).entries[0]?.code;
    for (const [by, said] of [
      ['   ', 'is blank: write something besides spaces and invisible characters'],
      ['\u202ecn', 'has U+202E RIGHT-TO-LEFT OVERRIDE, which reorders the characters after it'],
    ]) {
      const review = await hotline(
        ['vocabulary', 'review', '--file', file, '--code', String(code), '--lang', 'zh'].concat([
          '--by',
          String(by),
        ]),
      );
      expect(review.code).toBe(1);
      expect(review.stderr).toContain(`the reviewer ${said}`);
      expect(readFileSync(file, 'utf8')).toBe(before);
    }
  });

  it('a second review of a text reviewed already is refused, naming the first; an edited text is reviewed again', async () => {
    const file = join(root, 'vocabulary-twice.json');
    writeFileSync(file, readFileSync(DEFAULT_VOCABULARY_FILE));
    const review = (by: string, at: string) =>
      hotline(
        ['vocabulary', 'review', '--file', file, '--code', 'severity.severe'].concat([
          '--lang',
          'zh',
          '--by',
          by,
          '--at',
          at,
        ]),
      );
    expect((await review('cn/linguist-1', '2026-11-20')).code).toBe(0);
    const reviewed = readFileSync(file, 'utf8');
    const second = await review('cn/linguist-2', '2026-11-21');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      '"severity.severe" in "zh" was reviewed by cn/linguist-1 on 2026-11-20, and its text has not changed since: that review stands, and a second would erase it',
    );
    expect(readFileSync(file, 'utf8')).toBe(reviewed);
    // Once the text is edited the first review is outdated, and a new one replaces it.
    const doc = JSON.parse(reviewed) as {
      entries: Array<{ code: string; text: Record<string, string> }>;
    };
    const entry = doc.entries.find((e) => e.code === 'severity.severe');
    if (entry) entry.text.zh = '重大';
    writeFileSync(file, JSON.stringify(doc));
    expect((await review('cn/linguist-2', '2026-11-21')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('"by": "cn/linguist-2"');
  });

  it('init with a party name of spaces or a control character is refused, and makes nothing', async () => {
    const dir = join(root, 'blank-names');
    for (const [names, said] of [
      [
        ['--name-en', '  ', '--name-zh', '  '],
        '--name-en is blank: write something besides spaces and invisible characters',
      ],
      [['--name-en', 'Wash\u001bington'], '--name-en has U+001B ESCAPE, a control character'],
      [['--name-zh', '\u202e京北'], '--name-zh has U+202E RIGHT-TO-LEFT OVERRIDE'],
    ] as const) {
      const r = await hotline(['init', '--data', dir, '--party', 'xx', ...names]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`hotline: E_BAD_CARD: ${said}`);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('rotate --since or --recovery-key without --compromise is refused, nothing rotated', async () => {
    const card = readFileSync(paths(dir).card, 'utf8');
    const since = await hotline(['rotate', '--data', dir, '--since', '2026-12-05T21:00Z']);
    expect(since.code).toBe(1);
    expect(since.stderr).toBe(
      'hotline: --since goes with --compromise: without it, the rotation is routine: signed with the current keys, and every old message stays trusted\n',
    );
    const key = join(dir, 'keys', 'recovery-OFFLINE.key');
    const recovery = await hotline(['rotate', '--data', dir, '--recovery-key', key]);
    expect(recovery.code).toBe(1);
    expect(recovery.stderr).toMatch(/^hotline: --recovery-key goes with --compromise: /);
    expect(readFileSync(paths(dir).card, 'utf8')).toBe(card);
  });

  it('rotate --compromise --since a time to come is refused, nothing rotated', async () => {
    const card = readFileSync(paths(dir).card, 'utf8');
    const key = join(dir, 'keys', 'recovery-OFFLINE.key');
    const at = `${tomorrow.toISOString().slice(0, 16)}Z`;
    const rotated = await hotline([
      'rotate',
      '--data',
      dir,
      '--compromise',
      '--recovery-key',
      key,
      '--since',
      at,
    ]);
    expect(rotated.code).toBe(1);
    expect(rotated.stderr).toMatch(
      new RegExp(
        `^hotline: E_MALFORMED: --since ${at} is in the future \\(it is [^)]+\\): give when the keys were taken, at the latest now \\(leave --since out for now\\)\\n$`,
      ),
    );
    const local = await hotline([
      'rotate',
      '--data',
      dir,
      '--compromise',
      '--recovery-key',
      key,
      '--since',
      '2026-12-05T21:00',
    ]);
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/--since: "2026-12-05T21:00" has no time zone/);
    expect(readFileSync(paths(dir).card, 'utf8')).toBe(card);
  });
});

describe('a value outside an option’s choices', () => {
  it('is refused in one line naming the option, the value and the choices, without the help', async () => {
    const data = ['--data', join(tmpdir(), 'hotline-no-such-folder')];
    const id = '01900000-0000-7000-8000-000000000000';
    const precedences = 'flash, immediate, priority, routine';
    const tlps = 'red, amber+strict, amber, green, clear';
    const cases: Array<[command: string, rest: string[], refused: string]> = [
      [
        'send',
        ['--to', 'cn', '--precedence', 'urgentt'],
        `--precedence "urgentt" is not one of ${precedences}`,
      ],
      [
        'send',
        ['--to', 'cn', '--status', 'drill'],
        '--status "drill" is not one of actual, exercise, test',
      ],
      ['send', ['--to', 'cn', '--tlp', 'white'], `--tlp "white" is not one of ${tlps}`],
      ['send', ['--to', 'cn', '--type', 'ask'], '--type "ask" is not one of query, reply, test'],
      [
        'notify',
        ['--to', 'cn', '--type', 'x', '--tlp', 'white'],
        `--tlp "white" is not one of ${tlps}`,
      ],
      [
        'presence ask',
        ['--to', 'cn', '--precedence', 'high'],
        `--precedence "high" is not one of ${precedences}`,
      ],
      [
        'drafts',
        ['--state', 'open'],
        '--state "open" is not one of pending, released, rejected, all',
      ],
      [
        'translate add',
        ['cn', id, '--lang', 'zh', '--text', 't', '--status', 'done'],
        '--status "done" is not one of sight, rough, final',
      ],
      ['incident', [id, '--set', 'shut'], '--set "shut" is not one of '],
      ['user add', ['bob', '--role', 'boss'], '--role "boss" is not one of '],
      [
        'user token',
        ['bob', '--scope', 'read', 'all'],
        '--scope "all" is not one of read, write, admin',
      ],
      [
        'relay',
        ['--log-level', 'loud'],
        '--log-level "loud" is not one of fatal, error, warn, info, debug, trace, silent',
      ],
    ];
    for (const [command, rest, refused] of cases) {
      const r = await hotline([...command.split(' '), ...rest, ...data]);
      const [line, ...more] = r.stderr.split('\n');
      expect(line, command).toMatch(/^hotline: E_MALFORMED: /);
      expect(line).toContain(refused);
      expect(line).toMatch(new RegExp(`\\(see "hotline ${command} --help"\\)$`));
      expect(more, command).toEqual(['']);
      expect(r.code).toBe(1);
    }
  }, 120_000);
});

describe('a command typed wrongly', () => {
  it('is refused in one line with the code and where the help is, without the help', async () => {
    const data = ['--data', join(tmpdir(), 'hotline-no-such-folder')];
    const cases: Array<[command: string, rest: string[], refused: string]> = [
      [
        'send',
        ['--preccedence', 'flash', ...data],
        "unknown option '--preccedence'; did you mean --precedence?",
      ],
      ['send', ['--to', 'cn'], "required option '--data <dir>' not specified"],
      ['peer add', data, "missing required argument 'cardFile'"],
      ['peer add', ['a.json', 'b.json', ...data], "too many arguments for 'add'"],
      ['user add', ['bob', ...data], "required option '--role <role>' not specified"],
    ];
    for (const [command, rest, refused] of cases) {
      const r = await hotline([...command.split(' '), ...rest]);
      const [line, ...more] = r.stderr.split('\n');
      expect(line, command).toMatch(/^hotline: E_MALFORMED: /);
      expect(line).toContain(refused);
      expect(line).toMatch(new RegExp(`\\(see "hotline ${command} --help"\\)$`));
      expect(more, command).toEqual(['']);
      expect(r.code).toBe(1);
    }
  }, 120_000);

  it('still shows the help asked for', async () => {
    const r = await hotline(['send', '--help']);
    expect(r.stdout).toContain('Usage: hotline send');
    expect(r.code).toBe(0);
  });
});

describe('an option repeated once per value', () => {
  it('keeps the values in order, and refuses one given already', () => {
    const to = eachOnce('--to', 'recipient');
    expect(to('cn', to('us', []))).toEqual(['us', 'cn']);
    expect(() => to('cn', ['us', 'cn'])).toThrow(
      '--to cn is given twice: give each recipient once',
    );
  });

  it('compares by a key when the values differ only in form', () => {
    const field = eachOnce('--field', 'field', nameOf);
    expect(() => field('size=2', ['size=1'])).toThrow(
      '--field size=2: size is given already; give each field once',
    );
    const endpoint = eachOnce('--endpoint', 'URL', urlKey);
    expect(() => endpoint('https://A:7100/', ['https://a:7100'])).toThrow(/give each URL once/);
    expect(endpoint('https://b:7100', ['https://a:7100'])).toHaveLength(2);
  });
});

describe('an option that takes one value', () => {
  const send = new Command('send')
    .option('--text <text>')
    .option('-l, --limit <n>')
    .option('--to <party>', 'recipient', eachOnce('--to', 'recipient'), [])
    .option('--yes')
    .addOption(new Option('--precedence <p>').choices(['flash', 'routine']));

  it('given twice, in any form, is refused naming the values, even when they are the same', () => {
    for (const [argv, line] of [
      [
        ['send', '--precedence', 'flash', '--precedence', 'routine'],
        'E_MALFORMED: --precedence is given twice (flash, routine): give it once',
      ],
      [
        ['send', '--text=a', '--text', 'b'],
        'E_MALFORMED: --text is given twice (a, b): give it once',
      ],
      [
        ['send', '--text', 'a', '--text', 'a'],
        'E_MALFORMED: --text is given twice (a, a): give it once',
      ],
      [
        ['send', '-l', '2', '--limit', '3', '-l4'],
        'E_MALFORMED: --limit is given 3 times (2, 3, 4): give it once',
      ],
    ] as const)
      expect(() => checkGivenOnce(send, argv), argv.join(' ')).toThrow(line);
  });

  it('once each is taken, as are repeated lists, repeated flags, values and words after --', () => {
    const fine = [
      ['send', '--text', '--text', '--to', 'us', '--to', 'cn', '--yes', '--yes'],
      ['send', '--text', 'a', '--', '--text', 'b'],
    ];
    for (const argv of fine) expect(() => checkGivenOnce(send, argv)).not.toThrow();
  });
});

describe('a language a reader asks for', () => {
  it('is one the file has text in, or its base language; else the ones it has are named', () => {
    expect(offeredLanguage('zh', ['en', 'zh'], 'the vocabulary')).toBe('zh');
    expect(offeredLanguage('zh-Hans', ['en', 'zh'], 'the vocabulary')).toBe('zh');
    expect(() => offeredLanguage('fr', ['en', 'zh'], 'the vocabulary')).toThrow(
      '--lang fr: the vocabulary has no text in that language; give one of en, zh',
    );
  });
});

describe('a file --out names', () => {
  it('is never overwritten, even when it appears after the check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-out-'));
    try {
      const file = join(dir, 'out.json');
      writeFileSync(file, 'theirs');
      await expect(writeOutput(file, {}, (write) => write('ours'))).rejects.toThrow(
        `${file} exists: refusing to overwrite it (give --force to replace it)`,
      );
      expect(readFileSync(file, 'utf8')).toBe('theirs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --force, is replaced whole, with the mode asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-out-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'old');
      chmodSync(file, 0o644);
      await writeOutput(file, { force: true, mode: 0o600 }, (write) => write('new\n'));
      expect(readFileSync(file, 'utf8')).toBe('new\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a node's and a relay's own files, named by --out", () => {
  let root: string;
  let us: string;
  let cn: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-own-'));
    [us, cn] = [join(root, 'us'), join(root, 'cn')];
    for (const [dir, party] of [
      [us, 'us'],
      [cn, 'cn'],
    ] as const) {
      await initOnLoopback(dir, { party, names: { en: party } });
    }
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('are not written over, even with --force: the database stays the node’s', async () => {
    const db = paths(us).db;
    const before = readFileSync(db);
    for (const args of [
      ['export', '--data', us, '--out', db, '--force'],
      ['user', 'token', 'admin', '--data', us, '--out', db, '--force'],
      ['export', '--data', us, '--out', paths(cn).config, '--force'],
    ]) {
      const run = await hotline(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(
        /^hotline: E_CONFLICT: --out \S+ is the (database|configuration) of the node in \S+: refusing to write over it, even with --force; write the file elsewhere\n$/,
      );
    }
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('nor a relay’s: its mailboxes and keys are not written over, even with --force', async () => {
    const relay = join(root, 'relay');
    mkdirSync(join(relay, 'keys'), { recursive: true });
    writeFileSync(join(relay, 'relay.db'), 'mailboxes');
    writeFileSync(join(relay, 'keys', 'tls.key'), 'the relay’s key', { mode: 0o600 });
    for (const [file, what] of [
      [join(relay, 'relay.db'), 'the mailboxes database'],
      [join(relay, 'RELAY.DB-wal'), 'the mailboxes database'],
      [join(relay, 'keys', 'tls.key'), 'a key'],
    ] as const) {
      const run = await hotline(['export', '--data', us, '--out', file, '--force']);
      expect(run.code, file).toBe(1);
      expect(run.stderr).toBe(
        `hotline: E_CONFLICT: --out ${file} is ${what} of the relay in ${realpathSync(relay)}: refusing to write over it, even with --force; write the file elsewhere\n`,
      );
    }
    expect(readFileSync(join(relay, 'relay.db'), 'utf8')).toBe('mailboxes');
    expect(readFileSync(join(relay, 'keys', 'tls.key'), 'utf8')).toBe('the relay’s key');
    expect(existsSync(join(relay, 'RELAY.DB-wal'))).toBe(false);
  });

  it('do not become a relay’s: relay --data a node’s folder is refused, nothing made', async () => {
    const card = join(root, 'cn-card.json');
    writeFileSync(card, readFileSync(paths(cn).card));
    const run = await hotline([
      'relay',
      '--data',
      us,
      '--card',
      card,
      '--listen',
      '127.0.0.1:7299',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `hotline: E_CONFLICT: --data ${us} is a node's data folder (it has hotline.yaml): a relay keeps its own folder, with its own TLS key; give --data another folder\n`,
    );
    expect(existsSync(join(us, 'relay.db'))).toBe(false);
  });

  it('are known through a link, another spelling, and in any data folder', () => {
    const link = join(root, 'export.jsonl');
    symlinkSync(paths(us).db, link);
    expect(ownFileOf(link)).toEqual({ what: 'the database', owner: 'node', folder: us });
    expect(ownFileOf(join(us, 'keys', '..', 'HOTLINE.DB-wal'))?.what).toBe('the database');
    expect(ownFileOf(join(cn, 'keys', 'identity.key'))).toEqual({
      what: 'a key',
      owner: 'node',
      folder: cn,
    });
    expect(ownFileOf(join(cn, 'keys', 'new-file'))?.what).toBe('a key');
    expect(ownFileOf(paths(cn).card)?.what).toBe('the card');
    expect(ownFileOf(paths(cn).token)?.what).toBe('the first admin’s operator token');
    expect(ownFileOf(join(cn, 'export.jsonl'))).toBeUndefined();
    expect(ownFileOf(join(root, 'nowhere', 'hotline.db'))).toBeUndefined();
  });
});
