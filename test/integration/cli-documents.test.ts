/**
 * The files an operator hands the CLI — a regimes file, a vocabulary, an evaluation result, a
 * peer's card — and the card `hotline init` makes: each schema failure is refused with a sentence
 * that names the field by its path in the file and says what is wrong (missing, of the wrong type,
 * not taken, not among the allowed values, not of its form), never in the validator's own terms.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hotline } from './nodes.ts';

// biome-ignore lint/suspicious/noExplicitAny: documents are mutated loosely to break them
type Doc = any;
type Breakage = [string, (doc: Doc) => void, string];

const root = mkdtempSync(join(tmpdir(), 'hotline-documents-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readJson = (file: string | URL): Doc => JSON.parse(readFileSync(file, 'utf8'));
let written = 0;
/** A copy of `doc` broken by `breakIt`, written to a file of its own. */
function brokenFile(doc: Doc, breakIt: (doc: Doc) => void): string {
  const copy = structuredClone(doc);
  breakIt(copy);
  const file = join(root, `broken-${++written}.json`);
  writeFileSync(file, JSON.stringify(copy));
  return file;
}

describe('a regimes file that breaks its schema', () => {
  const regimes = readJson(new URL('../../vocabulary/regimes.json', import.meta.url));
  const cases: Breakage[] = [
    ['a missing member', (d) => delete d.version, 'the regimes file has no "version"'],
    [
      'a member of the wrong type',
      (d) => {
        d.types[0].remindHours = 'soon';
      },
      '/types/0/remindHours is not a number',
    ],
    [
      'a member it does not take',
      (d) => {
        d.types[0].extra = 1;
      },
      '/types/0 has "extra", which it does not take',
    ],
    [
      'a value not among the allowed ones',
      (d) => {
        d.types[0].owedBy = 'nobody';
      },
      '/types/0/owedBy is not one of: each, reporter',
    ],
    [
      'a value not of its form',
      (d) => {
        d.effective = '1 March 2027';
      },
      '/effective is not a date (YYYY-MM-DD, e.g. 2027-03-01)',
    ],
  ];
  test.each(cases)('%s is named with what is wrong', async (_what, breakIt, said) => {
    const file = brokenFile(regimes, breakIt);
    const r = await hotline(['regimes', 'check', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${file} is not a valid regimes file:\n  - ${said}\n`);
  });
});

describe('a vocabulary that breaks its schema', () => {
  const vocabulary = readJson(new URL('../../vocabulary/hotline.json', import.meta.url));
  const cases: Breakage[] = [
    ['a missing member', (d) => delete d.name, 'the vocabulary has no "name"'],
    [
      'a member of the wrong type',
      (d) => {
        d.groups = {};
      },
      '/groups is not a list',
    ],
    [
      'a member it does not take',
      (d) => {
        d.extra = 1;
      },
      'the vocabulary has "extra", which it does not take',
    ],
    [
      'a value not among the allowed ones',
      (d) => {
        d.format = 2;
      },
      '/format is not 1',
    ],
    [
      'a value not of its form',
      (d) => {
        d.groups[0].id = 'Category';
      },
      '/groups/0/id is not a group id (a-z and 0-9, joined by -, e.g. category)',
    ],
  ];
  test.each(cases)('%s is named with what is wrong', async (_what, breakIt, said) => {
    const file = brokenFile(vocabulary, breakIt);
    const r = await hotline(['vocabulary', 'check', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${file} is not a valid vocabulary:\n  - ${said}\n`);
  });
});

describe('an evaluation result that breaks its schema', () => {
  const evaluation = readJson(new URL('../vectors/evaluation/cyber-offence.json', import.meta.url));
  const cases: Breakage[] = [
    ['a missing member', (d) => delete d.system, 'has no "system"'],
    [
      'a member of the wrong type',
      (d) => {
        d.threshold = '0.5';
      },
      '/threshold is not a number',
    ],
    [
      'a member it does not take',
      (d) => {
        d.extra = 1;
      },
      'has "extra", which it does not take',
    ],
    [
      'a value not among the allowed ones',
      (d) => {
        d.domain = 'nuclear';
      },
      '/domain is not one of: cyber-offence, cbrn-uplift, autonomous-replication, oversight-evasion, other',
    ],
    [
      'a value not of its form',
      (d) => {
        d.evidence[0].sha256 = 'abc';
      },
      '/evidence/0/sha256 is not a SHA-256 digest (64 lowercase hex digits)',
    ],
  ];
  test.each(cases)('%s is named with what is wrong', async (_what, breakIt, said) => {
    const file = brokenFile(evaluation, breakIt);
    const r = await hotline(['evaluation', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`NOT VALID: ${file} ${said}\n`);
  });
});

describe('cards', () => {
  let node = '';
  let card: Doc;
  beforeAll(async () => {
    node = join(root, 'us');
    const init = await hotline(['init', '--data', node, '--party', 'us', '--name-en', 'US']);
    expect(init.code, init.stderr).toBe(0);
    card = readJson(join(node, 'card.json'));
  }, 60_000);

  const cases: Breakage[] = [
    ['a missing member', (d) => delete d.card.party, '/card has no "party"'],
    [
      'a member of the wrong type',
      (d) => {
        d.card.endpoints[0].priority = 'high';
      },
      '/card/endpoints/0/priority is not a whole number',
    ],
    [
      'a member it does not take',
      (d) => {
        d.extra = 1;
      },
      'has "extra", which it does not take',
    ],
    [
      'a value not among the allowed ones',
      (d) => {
        d.card.endpoints[0].kind = 'carrier';
      },
      '/card/endpoints/0/kind is not one of: direct, relay',
    ],
    [
      'a value not of its form',
      (d) => {
        d.card.keys[0].kid = 'XYZ';
      },
      '/card/keys/0/kid is not a key id (32 lowercase hex digits)',
    ],
  ];
  test.each(cases)(
    'a peer’s card with %s is named with what is wrong and not pinned',
    async (_what, breakIt, said) => {
      const file = brokenFile(card, breakIt);
      const r = await hotline(['peer', 'add', file, '--data', node, '--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hotline: E_BAD_CARD: the signed card ${said}\n`);
      expect(r.stdout).toBe('');
    },
  );

  test('hotline init refuses a card value not of its form, or too long, naming its option', async () => {
    const cases: [string[], string][] = [
      [
        ['--name-en', 'UK', '--endpoint', 'ftp://x'],
        '--endpoint #1 is not a URL (https://… or http://…, no spaces)',
      ],
      [['--name-en', 'x'.repeat(300)], '--name-en is longer than 200 characters'],
    ];
    for (const [args, said] of cases) {
      const dir = join(root, `init-${++written}`);
      const r = await hotline(['init', '--data', dir, '--party', 'uk', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hotline: E_BAD_CARD: ${said}\n`);
      expect(readdirSync(root)).not.toContain(`init-${written}`);
    }
  }, 60_000);
});
