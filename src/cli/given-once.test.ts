/**
 * What an operator types that the CLI once took in silence: an `--out` over an existing file, an
 * option repeated with the same value, a translation into the message's own language, a `--lang`
 * nobody wrote text in, a second factor nothing asked for. Given Washington's node (Beijing's card
 * pinned, Beijing never started), each is said in one line and changes nothing.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hotline } from '../../test/integration/nodes.ts';
import { type ServingNode, washingtonServing } from '../../test/support/cli-node.ts';
import { initNode, paths } from '../node/core/data.ts';
import { exportLedgerToFile } from '../node/record/export.ts';

let node: ServingNode;
let root: string;
let us: string;

const api = <T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown) =>
  node.api<T>(method, path, body);

const sentCount = async () => (await api<unknown[]>('GET', '/api/v1/outbox')).body.length;

beforeAll(async () => {
  node = await washingtonServing('hotline-once-');
  ({ root, us } = node);
}, 120_000);

afterAll(() => node?.close());

describe('a file named by --out', () => {
  test('that exists is refused in one line and left as it was, unless --force is given', async () => {
    const kept = join(root, 'kept.txt');
    writeFileSync(kept, 'keep\n');
    const incident = uuidv7();
    const tokensBefore = (await api<unknown[]>('GET', '/api/v1/tokens?user=admin')).body.length;
    const refusal = `hotline: ${kept} exists: refusing to overwrite it (give --force to replace it)\n`;
    for (const args of [
      ['export', '--data', us, '--out', kept],
      ['export-sealed', '--data', us, '--out', kept],
      ['vocabulary', 'doc', '--out', kept],
      ['cap', incident, '--data', us, '--out', kept],
      ['incident', incident, '--data', us, '--export', 'oecd', '--out', kept],
      ['user', 'token', 'admin', '--data', us, '--out', kept],
    ]) {
      const r = await hotline(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe(refusal);
      expect(readFileSync(kept, 'utf8')).toBe('keep\n');
    }
    // No token was issued for a file that could not take it.
    expect((await api('GET', '/api/v1/tokens?user=admin')).body).toHaveLength(tokensBefore);
    // A backup is never overwritten: it has no --force to offer.
    const backup = await hotline(['backup', '--data', us, '--out', kept]);
    expect(backup.stderr).toBe(`hotline: ${kept} exists: refusing to overwrite it\n`);
    expect(readFileSync(kept, 'utf8')).toBe('keep\n');

    // --force replaces: a service's token file rotated in place stays readable by its owner only.
    chmodSync(kept, 0o644);
    const forced = await hotline([
      'user',
      'token',
      'admin',
      '--data',
      us,
      '--out',
      kept,
      '--force',
    ]);
    expect(forced.stderr).toBe('');
    expect(readFileSync(kept, 'utf8')).toMatch(/^hlt_\S+\n$/);
    expect((await import('node:fs')).statSync(kept).mode & 0o777).toBe(0o600);
    const bundle = await hotline(['export', '--data', us, '--out', kept, '--force']);
    expect(bundle.code).toBe(0);
    expect(readFileSync(kept, 'utf8')).toMatch(/^\{"type":"hotline-export"/);
    expect(existsSync(`${kept}.partial`)).toBe(false);
  }, 120_000);

  test('--force alone writes no file, and is said to', async () => {
    const r = await hotline(['incident', uuidv7(), '--data', us, '--export', 'oecd', '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hotline: --force goes with --out: no file is written\n');
  }, 60_000);

  test('made between the check and the write, is not overwritten by an export either', async () => {
    const late = join(root, 'late.jsonl');
    writeFileSync(late, 'someone else’s\n');
    await expect(exportLedgerToFile(us, late)).rejects.toThrow(/EEXIST/);
    expect(readFileSync(late, 'utf8')).toBe('someone else’s\n');
    expect(existsSync(`${late}.partial`)).toBe(false);
  }, 60_000);
});

describe('an option repeated with the same value', () => {
  test('is refused in one line naming it, and nothing is sent or made', async () => {
    const before = await sentCount();
    const fresh = join(root, 'fresh');
    const cite = `cn/${uuidv7()}/${'a'.repeat(64)}`;
    for (const [args, line] of [
      [
        ['init', '--data', fresh, '--party', 'xx', '--name-en', 'X'].concat([
          '--endpoint',
          'https://a.example:7100',
          '--endpoint',
          'https://A.example:7100/',
        ]),
        '--endpoint https://A.example:7100/: https://a.example:7100/ is given already; give each URL once',
      ],
      [
        ['init', '--data', fresh, '--party', 'xx', '--name-en', 'X'].concat([
          '--relay',
          'https://r.example',
          '--relay',
          'https://r.example',
        ]),
        '--relay https://r.example: https://r.example/ is given already; give each relay once',
      ],
      [
        ['notify', '--data', us, '--to', 'cn', '--type', 'regime.training-run'].concat([
          '--field',
          'flops=1e26',
          '--field',
          'flops=2e26',
        ]),
        '--field flops=2e26: flops is given already; give each field once',
      ],
      [
        ['send', '--data', us, '--to', 'cn', '--to', 'cn', '--text', 'Hi'],
        '--to cn is given twice: give each recipient once',
      ],
      [
        ['send', '--data', us, '--to', 'cn', '--text', 'Hi', '--translation', 'zh=你好'].concat([
          '--translation',
          'ZH=您好',
        ]),
        '--translation ZH=您好: zh is given already; give each language once',
      ],
      [
        ['send', '--data', us, '--to', 'cn', '--code', 'phrase.investigating'].concat([
          '--code',
          'phrase.investigating',
        ]),
        '--code phrase.investigating is given twice: give each code once',
      ],
      [
        ['send', '--data', us, '--to', 'cn', '--text', 'See', '--cite', cite, '--cite', cite],
        `--cite ${cite} is given twice: give each attachment once`,
      ],
      [
        ['conference', 'request', '--data', us, '--to', 'cn'].concat([
          '--at',
          '2031-01-04T09:00Z',
          '--at',
          '2031-01-04 17:00+08:00',
        ]),
        '--at 2031-01-04 17:00+08:00: 2031-01-04T09:00:00.000Z is given already; give each time once',
      ],
    ] as const) {
      const r = await hotline([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe(`hotline: ${line}\n`);
    }
    expect(existsSync(fresh)).toBe(false);
    expect(await sentCount()).toBe(before);
  }, 120_000);

  test('one that takes one value, given twice, is refused for every command before it runs', async () => {
    const before = await sentCount();
    const fresh = join(root, 'fresh-twice');
    const send = ['send', '--data', us, '--to', 'cn'];
    for (const [args, line] of [
      [
        [...send, '--text', 'Hi', '--precedence', 'flash', '--precedence', 'routine'],
        '--precedence is given twice (flash, routine): give it once',
      ],
      [[...send, '--text', 'a', '--text=b'], '--text is given twice (a, b): give it once'],
      [[...send, '--text', 'a', '--text', 'a'], '--text is given twice (a, a): give it once'],
      [
        ['inbox', '--data', us, '--data', root],
        `--data is given twice (${us}, ${root}): give it once`,
      ],
      [
        ['audit', '--data', us, '--limit', '2', '--limit', '3'],
        '--limit is given twice (2, 3): give it once',
      ],
      [
        ['init', '--data', fresh, '--party', 'xx', '--name-en', 'X', '--name-en', 'Y'],
        '--name-en is given twice (X, Y): give it once',
      ],
    ] as const) {
      const r = await hotline([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe(`hotline: E_MALFORMED: ${line}\n`);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(existsSync(fresh)).toBe(false);
    expect(await sentCount()).toBe(before);
  }, 120_000);

  test('through the operator API, a list with the same item twice is refused too', async () => {
    const before = await sentCount();
    const r = await api('POST', '/api/v1/messages', {
      to: ['cn', 'cn'],
      message: {
        type: 'query',
        precedence: 'routine',
        status: 'exercise',
        tlp: 'green',
        codes: [],
        text: { lang: 'en', body: 'Hello twice?' },
        translations: [],
        attachments: [],
        author: { desk: 'ops' },
        approvals: [],
      },
    });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: {
        code: 'E_MALFORMED',
        message: 'request body/to has the same item twice (items 1 and 0)',
      },
    });
    expect(await sentCount()).toBe(before);
  }, 60_000);
});

describe('a relay given two cards for one party', () => {
  test('refuses to start, as a node refuses a second card of a pinned party', async () => {
    const fake = join(root, 'fakecn');
    await initNode(fake, {
      party: 'cn',
      names: { zh: '假北京' },
      endpoints: ['http://127.0.0.1:9'],
      listen: '127.0.0.1:9',
      operatorListen: '127.0.0.1:10',
    });
    const relayData = join(root, 'relay-two-cards');
    const r = await hotline(
      ['relay', '--data', relayData, '--listen', '127.0.0.1:7299'].concat([
        '--card',
        paths(fake).card,
        '--card',
        paths(join(root, 'cn')).card,
      ]),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^hotline: E_CONFLICT: two cards for "cn" \(fingerprints [0-9 ]+ and [0-9 ]+\): give each party's card once\n$/i,
    );
    expect(r.stdout).toBe('');
    expect(existsSync(relayData)).toBe(false);
  }, 60_000);

  test('refuses a box larger than all boxes together, and makes nothing', async () => {
    const relayData = join(root, 'relay-box-bytes');
    const r = await hotline([
      'relay',
      '--data',
      relayData,
      '--max-bytes',
      '1000',
      '--max-box-bytes',
      '2000',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'hotline: --max-box-bytes 2000 is more than --max-bytes 1000: one box cannot hold more than all boxes together\n',
    );
    expect(existsSync(relayData)).toBe(false);
  }, 60_000);
});

describe('a translation into the language the message is written in', () => {
  test('is refused at release and as a local translation, by the CLI and the API alike', async () => {
    const before = await sentCount();
    const own = await hotline(
      ['send', '--data', us, '--to', 'cn', '--text', 'Hello', '--lang', 'en'].concat([
        '--translation',
        'EN=Hello again',
      ]),
    );
    expect(own.code).toBe(1);
    expect(own.stderr).toBe(
      'hotline: E_MALFORMED: message translations/0: the text is in "en" already: a translation goes into another language\n',
    );
    const codeTwice = await api<{ error: unknown }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: {
        type: 'query',
        precedence: 'routine',
        status: 'exercise',
        tlp: 'green',
        codes: ['phrase.investigating', 'phrase.investigating'],
        translations: [],
        attachments: [],
        author: { desk: 'ops' },
        approvals: [],
      },
    });
    expect(codeTwice.body.error).toEqual({
      code: 'E_MALFORMED',
      message: 'message codes has "phrase.investigating" twice: give each code once',
    });
    expect(await sentCount()).toBe(before);

    const sent = await hotline(['send', '--data', us, '--to', 'cn', '--text', 'Hello', '--json']);
    const { id } = JSON.parse(sent.stdout) as { id: string };
    const local = await hotline(
      ['translate', 'add', 'us', id, '--data', us, '--lang', 'en', '--text', 'Hi'].concat([
        '--status',
        'final',
        '--translator',
        'ops',
      ]),
    );
    expect(local.code).toBe(1);
    expect(local.stderr).toBe(
      `hotline: E_MALFORMED: message ${id}: the text is in "en" already: a translation goes into another language\n`,
    );
    expect((await api('GET', `/api/v1/messages/us/${id}/translations`)).body).toEqual([]);
    const other = await hotline(
      ['translate', 'add', 'us', id, '--data', us, '--lang', 'zh', '--text', '你好'].concat([
        '--status',
        'final',
        '--translator',
        'ops',
      ]),
    );
    expect(other.code).toBe(0);
  }, 120_000);
});

describe('a --lang to read in', () => {
  test('that has no text is refused naming the languages there are', async () => {
    const id = uuidv7();
    for (const [args, line] of [
      [
        ['regimes', 'show', '--lang', 'xx'],
        '--lang xx: the regimes file has no text in that language; give one of en, zh',
      ],
      [
        ['vocabulary', 'show', '--lang', 'fr'],
        '--lang fr: the vocabulary has no text in that language; give one of en, zh',
      ],
      [
        ['compliance', '--data', us, '--lang', 'fr'],
        '--lang fr: the node’s regimes file has no text in that language; give one of en, zh',
      ],
      [
        ['show', 'cn', id, '--data', us, '--lang', 'fr'],
        '--lang fr: the node’s vocabulary has no text in that language; give one of en, zh',
      ],
      [
        ['translate', 'list', 'cn', id, '--data', us, '--lang', 'fr'],
        '--lang fr: the node’s vocabulary has no text in that language; give one of en, zh',
      ],
      [
        ['incident', id, '--data', us, '--export', 'oecd', '--lang', 'fr'],
        '--lang fr: the node’s vocabulary has no text in that language; give one of en, zh',
      ],
    ] as const) {
      const r = await hotline([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe(`hotline: ${line}\n`);
      expect(r.stdout).toBe('');
    }
    // A tag is not case sensitive, and a script subtag reads its language's text.
    const zh = await hotline(['regimes', 'show', 'regime.training-run', '--lang', 'ZH-hans']);
    expect(zh.stdout).toMatch(/^regime\.training-run {2}超过算力阈值/);
  }, 120_000);
});

describe('a second factor given to a send that needs none', () => {
  test('is said on stderr in one line, and the message is still released', async () => {
    const before = await sentCount();
    const r = await hotline(
      ['send', '--data', us, '--to', 'cn', '--text', 'Routine check'].concat([
        '--second-factor',
        '123456',
      ]),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Released /);
    expect(r.stderr.split('\n')[0]).toBe(
      'Warning: --second-factor was not needed and not used: a release asks for it only with --break-glass',
    );
    expect(await sentCount()).toBe(before + 1);
    const plain = await hotline(['send', '--data', us, '--to', 'cn', '--text', 'Routine check']);
    expect(plain.stderr).not.toContain('--second-factor');
  }, 120_000);
});
