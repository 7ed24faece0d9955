import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import formatsCases from '../../test/vectors/ledger/formats-checkpoint.json' with { type: 'json' };
import formats from '../../test/vectors/ledger/formats-log-note.json' with { type: 'json' };
import sumdb from '../../test/vectors/ledger/sumdb-tlog-note.json' with { type: 'json' };
import examples from '../../test/vectors/ledger/tlog-spec-examples.json' with { type: 'json' };
import { fromUtf8, utf8 } from '../protocol/encoding.ts';
import { fromBase64, toBase64 } from './base64.ts';
import {
  type Checkpoint,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from './checkpoint.ts';
import { leafHash, MemoryHashStore, treeHashSync } from './merkle.ts';
import { type NoteError, parseNote, signerFromKey, signNote, verifierFromKey } from './note.ts';

const [logKeys, otherKeys] = formats.keyPairs;
const logSigner = signerFromKey(logKeys?.skey ?? '');
const logVerifier = verifierFromKey(logKeys?.vkey ?? '');
const otherSigner = signerFromKey(otherKeys?.skey ?? '');
const otherVerifier = verifierFromKey(otherKeys?.vkey ?? '');

function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return (error as NoteError).reason ?? (error as Error).message;
  }
}

describe('published checkpoints', () => {
  it('opens the sum.golang.org checkpoint of transparency-dev/formats', () => {
    const { checkpoint } = openCheckpoint(
      utf8(formats.sumdb.note),
      formats.sumdb.origin,
      verifierFromKey(formats.sumdb.vkey),
    );
    expect(checkpoint).toEqual({
      origin: 'go.sum database tree',
      size: formats.sumdb.size,
      root: fromBase64('mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk='),
      extensions: [],
    });
  });

  it('refuses it for another origin, or without the log among the verifiers', () => {
    const msg = utf8(formats.sumdb.note);
    const sumdbKey = verifierFromKey(formats.sumdb.vkey);
    expect(() => openCheckpoint(msg, 'Go rocks but I might have the wrong ID', sumdbKey)).toThrow(
      'another log',
    );
    expect(reasonOf(() => openCheckpoint(msg, formats.sumdb.origin, logVerifier))).toBe(
      'unverified',
    );
  });

  it('formats and parses the tree of golang.org/x/mod sumdb/tlog note_test.go', () => {
    const tree: Checkpoint = {
      origin: sumdb.origin,
      size: sumdb.size,
      root: leafHash(utf8(sumdb.rootIsLeafHashOf)),
      extensions: [],
    };
    expect(formatCheckpoint(tree)).toBe(sumdb.text);
    expect(parseCheckpoint(sumdb.text)).toEqual(tree);
  });

  it('refuses the bad trees of sumdb/tlog note_test.go', () => {
    const [otherOrigin, ...invalid] = sumdb.invalid;
    expect(parseCheckpoint(otherOrigin ?? '').origin).not.toBe(sumdb.origin);
    for (const text of invalid) expect(() => parseCheckpoint(text)).toThrow();
  });

  it.each(formatsCases.invalid)('refuses the transparency-dev/formats case: $desc', ({ text }) => {
    expect(() => parseCheckpoint(text)).toThrow();
  });

  it.each(formatsCases.strictlyRefused)(
    'refuses, unlike transparency-dev/formats: $desc',
    ({ text }) => {
      expect(() => parseCheckpoint(text)).toThrow();
    },
  );

  it('reads the example of C2SP tlog-checkpoint', () => {
    const note = parseNote(utf8(examples.note));
    expect(parseCheckpoint(note.text)).toEqual({
      origin: examples.origin,
      size: examples.size,
      root: fromBase64(examples.root),
      extensions: [],
    });
    expect(note.signatures.map((sig) => sig.name)).toEqual([examples.origin, examples.cosigner]);
  });
});

describe('the tlog-checkpoint note text, strictly', () => {
  const root = `${'A'.repeat(43)}=`;

  it.each([
    ['size zero', `log\n0\n${root}\n`, 0],
    ['the largest safe size', `log\n9007199254740991\n${root}\n`, Number.MAX_SAFE_INTEGER],
    ['an origin with spaces', `go.sum database tree\n1\n${root}\n`, 1],
  ])('accepts %s', (_, text, size) => {
    expect(parseCheckpoint(text).size).toBe(size);
  });

  it.each([
    ['a leading zero', `log\n01\n${root}\n`],
    ['a lone double zero', `log\n00\n${root}\n`],
    ['a plus sign', `log\n+1\n${root}\n`],
    ['a size past 2^53 - 1', `log\n9007199254740992\n${root}\n`],
    ['a 31-byte root', `log\n1\n${'A'.repeat(40)}AA==\n`],
    ['a 33-byte root', `log\n1\n${'A'.repeat(44)}\n`],
    ['a non-canonical root', `log\n1\n${'A'.repeat(42)}B=\n`],
    ['base64url in the root', `log\n1\n${'_'.repeat(43)}=\n`],
    ['an empty extension line', `log\n1\n${root}\next\n\n`],
    ['no final newline', `log\n1\n${root}`],
    ['a carriage return', `log\r\n1\n${root}\n`],
    ['a lone surrogate', `log\ud800\n1\n${root}\n`],
  ])('refuses %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow();
  });

  it('keeps extension lines', () => {
    const text = `log\n1\n${root}\nfirst extension\nsecond\n`;
    expect(parseCheckpoint(text).extensions).toEqual(['first extension', 'second']);
    expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
  });

  it('checks what it formats', () => {
    const ok: Checkpoint = { origin: 'log', size: 1, root: new Uint8Array(32), extensions: [] };
    expect(() => formatCheckpoint({ ...ok, origin: '' })).toThrow('origin');
    expect(() => formatCheckpoint({ ...ok, origin: 'a\nb' })).toThrow('origin');
    expect(() => formatCheckpoint({ ...ok, size: -1 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...ok, size: 2 ** 53 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...ok, root: new Uint8Array(31) })).toThrow('32 bytes');
    expect(() => formatCheckpoint({ ...ok, extensions: [''] })).toThrow('extension');
  });
});

describe('signing and opening checkpoints', () => {
  const store = new MemoryHashStore();
  for (const entry of ['first', 'second', 'third']) store.append(utf8(entry));
  const checkpoint: Checkpoint = {
    origin: 'hotline.example/log',
    size: store.size,
    root: treeHashSync(store.size, store),
    extensions: [],
  };

  it('opens what the log signed, checking the other known signatures too', () => {
    const msg = signCheckpoint(checkpoint, logSigner);
    expect(openCheckpoint(msg, checkpoint.origin, logVerifier).checkpoint).toEqual(checkpoint);
    const twice = signNote(formatCheckpoint(checkpoint), [logSigner, otherSigner]);
    const opened = openCheckpoint(twice, checkpoint.origin, logVerifier, [otherVerifier]);
    expect(opened.note.verified.map((sig) => sig.name)).toEqual(['Log', 'Known']);
    const forged = { ...otherVerifier, verify: () => false };
    expect(reasonOf(() => openCheckpoint(twice, checkpoint.origin, logVerifier, [forged]))).toBe(
      'invalid-signature',
    );
  });

  it('refuses a checkpoint signed only by someone else', () => {
    const msg = signCheckpoint(checkpoint, otherSigner);
    expect(
      reasonOf(() => openCheckpoint(msg, checkpoint.origin, logVerifier, [otherVerifier])),
    ).toBe('unverified');
  });

  it('refuses a signed checkpoint whose size, root or origin changed', () => {
    const text = fromUtf8(signCheckpoint(checkpoint, logSigner));
    const origin = checkpoint.origin;
    const flipped = checkpoint.root.map((byte, i) => (i === 31 ? byte ^ 1 : byte));
    const changes = [
      text.replace('\n3\n', '\n4\n'),
      text.replace(toBase64(checkpoint.root), toBase64(flipped)),
      text.replace('hotline.example/log', 'hotline.example/lag'),
    ];
    for (const changed of changes) {
      expect(changed).not.toBe(text);
      expect(reasonOf(() => openCheckpoint(utf8(changed), origin, logVerifier))).toBe(
        'invalid-signature',
      );
    }
  });

  it('round-trips random checkpoints', () => {
    const arbitrary = fc.record({
      origin: fc.stringMatching(/^[a-z0-9./ -]{1,30}$/),
      size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      extensions: fc.array(fc.stringMatching(/^[ -~]{1,20}$/), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(arbitrary, (cp) => {
        expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
        expect(
          openCheckpoint(signCheckpoint(cp, logSigner), cp.origin, logVerifier).checkpoint,
        ).toEqual(cp);
      }),
      { numRuns: 50 },
    );
  });
});
