/**
 * A node refuses a request by the path in it (`request body/to …`); the CLI user typed options,
 * not paths. Given Washington's node (Beijing's card pinned, Beijing never started), each command
 * refused by the node names the option or argument that supplied the part refused, keeps the
 * code and the rest of the node's sentence, exits 1 and changes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hotline } from '../../test/integration/nodes.ts';
import { type ServingNode, washingtonServing } from '../../test/support/cli-node.ts';
import { paths } from '../node/core/data.ts';
import { inOptionTerms } from './client.ts';

let node: ServingNode;
let root: string;
let us: string;

const api = async <T = unknown>(path: string) => (await node.api<T>('GET', path)).body;

beforeAll(async () => {
  node = await washingtonServing('hotline-optnames-');
  ({ root, us } = node);
}, 120_000);

afterAll(() => node?.close());

describe('a request the node refuses by its path', () => {
  test('is said by the option or argument of each command that supplied it', async () => {
    const id = uuidv7();
    const outbox = (await api<unknown[]>('/api/v1/outbox')).length;
    const users = (await api<unknown[]>('/api/v1/users')).length;
    const desks = JSON.stringify(await api('/api/v1/desks'));
    const cases: Array<[string[], string]> = [
      [['send', '--text', 'hi'], 'E_MALFORMED: --to is an empty list'],
      [
        ['send', '--to', 'cn', '--text', 'hi', '--translation', 'zh='],
        'E_MALFORMED: --translation #1 is empty',
      ],
      [
        ['send', '--to', 'cn', '--text', 'hi', '--desk', 'OPS'],
        'E_MALFORMED: --desk is not a short name (a-z and 0-9, joined by . or -, e.g. ops)',
      ],
      [
        ['send', '--to', 'cn', '--text', 'hi', '--break-glass', 'it cannot wait'],
        'E_MALFORMED: this message needs no second approval: send it without --break-glass',
      ],
      [
        ['ack', 'US', id],
        'E_MALFORMED: <party> "US" is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
      ],
      [
        ['show', 'US', id],
        'E_MALFORMED: <party> "US" is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
      ],
      [
        ['translate', 'machine', 'US', id, '--lang', 'zh'],
        'E_MALFORMED: <party> "US" is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
      ],
      [
        ['presence', 'ask', '--to', 'cn', '--desk', 'OPS'],
        'E_MALFORMED: --desk is not a short name (a-z and 0-9, joined by . or -, e.g. ops)',
      ],
      [
        ['conference', 'request', '--to', 'cn', '--at', '2030-01-01T00:00Z', '--desk', 'OPS'],
        'E_MALFORMED: --desk is not a short name (a-z and 0-9, joined by . or -, e.g. ops)',
      ],
      [
        ['desk', 'add', 'OPS', '--name', 'Ops'],
        'E_MALFORMED: <id> "OPS" is not a short name (a-z and 0-9, joined by . or -, e.g. ops)',
      ],
      [
        ['desk', 'staff', 'ops', 'admin', '--email', 'bad'],
        'E_MALFORMED: --email bad is not an e-mail address (name@example.org)',
      ],
      [
        ['user', 'add', 'Bob', '--role', 'officer'],
        'E_MALFORMED: <name> "Bob" is not a user name (2 to 32 of a-z, 0-9, ., _ and -, starting with a letter)',
      ],
      [
        ['handover', 'give', 'OPS'],
        'E_MALFORMED: <desk> "OPS" is not a short name (a-z and 0-9, joined by . or -, e.g. ops)',
      ],
      [
        ['alarm', 'clear', 'x'],
        'E_MALFORMED: <id> "x" is not a row number (1 to 16 digits, no leading 0)',
      ],
      [['reject', id, '--note', ''], 'E_MALFORMED: --note is empty'],
      [['approve', 'x'], 'E_MALFORMED: <id> "x" is not a draft id (hotline drafts lists them)'],
      [['ack', 'cn', 'x'], 'E_MALFORMED: <id> "x" is not a message or incident id (a UUIDv7)'],
      [
        ['conference', 'answer', 'cn', id, 'accept', '--proposal', 'x'],
        'E_MALFORMED: --proposal "x" is not a message or incident id (a UUIDv7)',
      ],
      [
        ['notify', '--to', 'cn', '--type', 'regime.training-runn'],
        'E_MALFORMED: --type "regime.training-runn" is not a notification type (hotline regimes show lists them)',
      ],
      [
        ['notify', '--to', 'cn', '--type', 'regime.training-run', '--field', 'computeFlop=lots'],
        'E_MALFORMED: --field computeFlop: "lots" is not a number',
      ],
      [['break-glass', id, '--reason', ''], 'E_MALFORMED: --reason is shorter than 3 characters'],
    ];
    for (const [args, sentence] of cases) {
      const r = await hotline([...args, '--data', us]);
      expect(r.stderr, args.join(' ')).toBe(`hotline: ${sentence}\n`);
      expect(r.code, args.join(' ')).toBe(1);
    }
    const future = await hotline(['audit', '--since', '2999-01-01T00:00Z', '--data', us]);
    expect(future.stderr).toMatch(
      /^hotline: E_MALFORMED: --since 2999-01-01T00:00Z is in the future \(it is [^)]+\): no entry is recorded after now\n$/,
    );
    expect(future.code).toBe(1);
    const past = await hotline(
      ['conference', 'request', '--to', 'cn', '--at', '2099-12-20T14:00Z'].concat([
        '--at',
        '2020-12-20 22:00+08:00',
        '--data',
        us,
      ]),
    );
    expect(past.stderr).toMatch(
      /^hotline: E_MALFORMED: --at #2: 2020-12-20 22:00\+08:00 is in the past \(it is [^)]+\): propose a time to come\n$/,
    );
    expect((await api<unknown[]>('/api/v1/outbox')).length).toBe(outbox);
    expect((await api<unknown[]>('/api/v1/users')).length).toBe(users);
    expect(JSON.stringify(await api('/api/v1/desks'))).toBe(desks);
  }, 120_000);
});

describe('hotline init --postgres-url', () => {
  test('whose host does not resolve, or where nothing listens, says so naming the option', async () => {
    const folder = join(root, 'pg');
    for (const [url, sentence] of [
      [
        'postgres://hotline@999.0.0.1:5432/db',
        '999.0.0.1: no such host: check the host name in the URL',
      ],
      [
        'postgres://hotline:secret@127.0.0.1:1/db',
        '127.0.0.1:1: nothing listens there: check the host and port in the URL, and that the server runs',
      ],
    ] as const) {
      const r = await hotline([
        'init',
        '--data',
        folder,
        '--party',
        'eu',
        '--name-en',
        'EU',
        '--postgres-url',
        url,
      ]);
      expect(r.stderr).toBe(`hotline: --postgres-url: ${sentence}\n`);
      expect(r.code).toBe(1);
      expect(existsSync(folder)).toBe(false);
    }
  }, 60_000);
});

describe('hotline rotate --compromise --recovery-key', () => {
  test('an empty file, or one not JSON, is said to be no recovery key, and nothing rotates', async () => {
    const cn = join(root, 'cn');
    const card = readFileSync(paths(cn).card, 'utf8');
    for (const [content, sentence] of [
      ['', 'the file is empty, not a recovery key'],
      ['{', 'the file is not JSON, so not a recovery key'],
    ] as const) {
      const file = join(root, 'recovery.key');
      writeFileSync(file, content);
      const r = await hotline(['rotate', '--compromise', '--recovery-key', file, '--data', cn]);
      expect(r.stderr).toBe(
        `hotline: cannot use ${file} as the recovery key: ${sentence}: give recovery-OFFLINE.key as hotline init wrote it (JSON)\n`,
      );
      expect(r.code).toBe(1);
      expect(readFileSync(paths(cn).card, 'utf8')).toBe(card);
    }
  }, 60_000);
});

describe('hotline verify', () => {
  test('of a file that is no bundle (a database, a card) says so once', async () => {
    for (const file of [join(us, 'hotline.db'), paths(us).card]) {
      const r = await hotline(['verify', file]);
      expect(r.stderr).toBe(
        `hotline: ${file} is not a Hotline bundle (JSON Lines): its first line is not JSON\n`,
      );
      expect(r.stdout).toBe('');
      expect(r.code).toBe(1);
    }
  }, 60_000);
});

describe('hotline show --lang zh-Hans', () => {
  test('reads the vocabulary in zh, with no label said to be missing in that language', async () => {
    const sent = await hotline([
      'send',
      '--to',
      'cn',
      '--code',
      'phrase.investigating',
      '--json',
      '--data',
      us,
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    const { id } = JSON.parse(sent.stdout) as { id: string };
    const shown = await hotline(['show', 'us', id, '--lang', 'zh-Hans', '--data', us]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('我方正在调查。');
    expect(shown.stdout).not.toContain('无此语言文本');
  }, 60_000);
});

describe('inOptionTerms', () => {
  const names = {
    'body/to': '--to',
    'body/message/translations/<i>/body': '--translation #<i+1>',
    'body/routes/<i>': '--email #<i>',
    'body/breakGlass': '--break-glass',
  };
  test('names the option for a path, counting a list index as declared', () => {
    expect(inOptionTerms('request body/message/translations/2/body is empty', names)).toBe(
      '--translation #3 is empty',
    );
    expect(inOptionTerms('request body has no "to"', names)).toBe('--to is not given');
    expect(inOptionTerms('request body/routes/1/address is not an e-mail', names)).toBe(
      '--email #1 (its address) is not an e-mail',
    );
  });
  test('quotes what was typed for an argument the node refused in the body, never an option', () => {
    const user = { 'body/name': '<name>', 'body/password': '--password-stdin' };
    const sent = { name: 'Bob', password: 'hunter2 hunter2' };
    expect(inOptionTerms('request body/name is not a user name', user, sent)).toBe(
      '<name> "Bob" is not a user name',
    );
    expect(inOptionTerms('request body/password is too short', user, sent)).toBe(
      '--password-stdin is too short',
    );
  });
  test('leaves a path with no option, and a field word that is also English, as they are', () => {
    expect(inOptionTerms('request body/desk is not a short name', names)).toBe(
      'request body/desk is not a short name',
    );
    expect(inOptionTerms('send it to them without breakGlass', names)).toBe(
      'send it to them without --break-glass',
    );
  });
});
