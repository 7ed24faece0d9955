import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import cosigKeys from '../../test/vectors/ledger/formats-cosignature.json' with { type: 'json' };
import formats from '../../test/vectors/ledger/formats-log-note.json' with { type: 'json' };
import spec from '../../test/vectors/ledger/signed-note-spec.json' with { type: 'json' };
import go from '../../test/vectors/ledger/sumdb-note.json' with { type: 'json' };
import { ed25519FromSeed } from '../crypto/ed25519.ts';
import { concatBytes, fromUtf8, toHex, utf8 } from '../protocol/encoding.ts';
import {
  decodeSignerKey,
  decodeVerifierKey,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  encodeSignerKey,
  encodeVerifierKey,
  formatNote,
  formatSignatureLine,
  isValidKeyName,
  keyId,
  MAX_NOTE_SIZE,
  type NoteError,
  type NoteSignature,
  type NoteVerifier,
  openNote,
  parseNote,
  SIGNATURE_TYPE_ED25519,
  signerFromKey,
  signNote,
  verifierFromKey,
} from './note.ts';

const peter = verifierFromKey(go.peter.vkey);
const enoch = verifierFromKey(go.enoch.vkey);
const peterSig = go.peter.signatureLine;
const enochSig = go.enoch.signatureLine;
const text = go.text;

function signatureOf(line: string): NoteSignature {
  const [signature] = parseNote(utf8(`x\n\n${line}`)).signatures;
  if (signature === undefined) throw new Error('no signature line');
  return signature;
}

function refusal(fn: () => unknown): NoteError['reason'] | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return (error as NoteError).reason;
  }
}

describe('the example of C2SP signed-note', () => {
  it('decodes its verifier key and derives its key ID', () => {
    const key = decodeVerifierKey(spec.vkey);
    expect(key).toMatchObject({ name: spec.name, type: SIGNATURE_TYPE_ED25519 });
    expect(key.keyId.toString(16)).toBe(spec.keyId);
    expect(toHex(key.publicKey)).toBe(spec.publicKey);
    expect(keyId(spec.name, SIGNATURE_TYPE_ED25519, key.publicKey).toString(16)).toBe(spec.keyId);
    expect(encodeVerifierKey(key.name, key.type, key.publicKey)).toBe(spec.vkey);
  });

  it('opens its note, and not once the text changes', () => {
    const opened = openNote(utf8(spec.note), [verifierFromKey(spec.vkey)]);
    expect(opened.text).toBe(spec.text);
    expect(opened.verified.map((sig) => sig.name)).toEqual([spec.name]);
    const tampered = spec.note.replace('example message', 'example massage');
    expect(refusal(() => openNote(utf8(tampered), [verifierFromKey(spec.vkey)]))).toBe(
      'invalid-signature',
    );
  });
});

describe('the keys of golang.org/x/mod/sumdb/note note_test.go', () => {
  it('accepts PeterNeumann and refuses every substring and every one-character change', () => {
    expect(peter).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
    const vkey = go.peter.vkey;
    for (let i = 0; i <= vkey.length; i++) {
      for (let j = i + 1; j <= vkey.length; j++) {
        if (i === 0 && j === vkey.length) continue;
        expect(() => verifierFromKey(vkey.slice(i, j)), vkey.slice(i, j)).toThrow();
      }
    }
    for (let i = 0; i < vkey.length; i++) {
      const changed =
        vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1);
      expect(() => verifierFromKey(changed), changed).toThrow();
    }
  });

  it.each(go.badVerifierKeys)('refuses $why', ({ vkey }) => {
    expect(() => verifierFromKey(vkey)).toThrow();
  });

  it('accepts the signer key and refuses every substring and every one-character change', () => {
    const skey = go.peter.skey;
    const signer = signerFromKey(skey);
    expect(signer).toMatchObject({ name: peter.name, keyId: peter.keyId });
    for (let i = 0; i <= skey.length; i++) {
      for (let j = i + 1; j <= skey.length; j++) {
        if (i === 0 && j === skey.length) continue;
        expect(() => signerFromKey(skey.slice(i, j)), skey.slice(i, j)).toThrow();
      }
    }
    for (let i = 0; i < skey.length; i++) {
      const changed =
        skey.slice(0, i) + String.fromCharCode(skey.charCodeAt(i) + 1) + skey.slice(i + 1);
      expect(() => signerFromKey(changed), changed).toThrow();
    }
  });

  it('encodes the keys back byte for byte', () => {
    const { name, type, seed } = decodeSignerKey(go.peter.skey);
    expect(encodeSignerKey(name, type, seed)).toBe(go.peter.skey);
    const { publicKey } = decodeVerifierKey(go.peter.vkey);
    expect(encodeVerifierKey(name, type, publicKey)).toBe(go.peter.vkey);
  });
});

describe('signing as note.Sign does', () => {
  const signer = signerFromKey(go.peter.skey);

  it('writes the published signed note', () => {
    expect(fromUtf8(signNote(text, [signer]))).toBe(go.signed);
  });

  it('replaces an existing signature by the same key', () => {
    const stale = { name: 'PeterNeumann', keyId: 0xc74f20a3, signature: utf8('BADSIGN') };
    expect(fromUtf8(signNote({ text, signatures: [stale] }, [signer]))).toBe(go.signed);
  });

  it('keeps other signatures first, then adds the new ones', () => {
    const enochLine = signatureOf(enochSig);
    const both = fromUtf8(signNote({ text, signatures: [enochLine] }, [signer]));
    expect(both).toBe(`${text}\n${enochSig}${peterSig}`);
    expect(openNote(utf8(both), [peter, enoch]).verified).toHaveLength(2);
  });

  it('refuses text without a final newline and bad key names', () => {
    expect(() => signNote('abc', [signer])).toThrow('newline');
    const badName = { name: 'a+b', keyId: 0, signature: utf8('ABCD') };
    expect(() => signNote({ text, signatures: [badName] }, [])).toThrow('key name');
    expect(() => signNote(text, [{ ...signer, name: 'bad name' }])).toThrow('bad signer');
    expect(() => signNote(text, [])).toThrow('needs a signature');
    expect(() => signNote('a\u0001\n', [signer])).toThrow('control');
    expect(() => signNote('lone \ud800\n', [signer])).toThrow('UTF-8');
  });
});

describe('opening notes as note.Open does (note_test.go TestOpen)', () => {
  const both = utf8(`${text}\n${peterSig}${enochSig}`);

  it('verifies known keys and ignores unknown ones', () => {
    const opened = openNote(both, [peter]);
    expect(opened.text).toBe(text);
    expect(opened.verified).toEqual([signatureOf(peterSig)]);
    expect(opened.unverified).toEqual([signatureOf(enochSig)]);
    expect(openNote(both, [peter, enoch]).verified).toHaveLength(2);
  });

  it('refuses a note no known key signed', () => {
    expect(refusal(() => openNote(both, []))).toBe('unverified');
  });

  it('refuses two verifiers with one name and key ID, when used', () => {
    const note = utf8(`${text}\n${enochSig}`);
    expect(refusal(() => openNote(note, [enoch, peter, enoch]))).toBe('ambiguous-key');
    expect(refusal(() => openNote(utf8(`${text}\n${peterSig}`), [enoch, peter, enoch]))).toBe(
      'accepted',
    );
  });

  it('refuses more than 100 signatures', () => {
    const many = utf8(`${text}\n${peterSig.repeat(101)}`);
    expect(refusal(() => openNote(many, [peter]))).toBe('malformed');
    expect(refusal(() => openNote(many, []))).toBe('malformed');
    expect(openNote(utf8(`${text}\n${peterSig.repeat(100)}`), [peter]).verified).toHaveLength(1);
  });

  it('refuses a bad signature by a known key', () => {
    // Byte 60 of the line, as in Go: the em dash takes three bytes but one UTF-16 unit.
    const bad = `${peterSig.slice(0, 58)}ABCD${peterSig.slice(58)}`;
    expect(refusal(() => openNote(utf8(`${text}\n${bad}`), [peter]))).toBe('invalid-signature');
  });

  it('keeps one copy of repeated signatures', () => {
    const enochABCD = `${enochSig.slice(0, 58)}ABCD${enochSig.slice(58)}`;
    const msg = `${text}\n${peterSig}${peterSig}${enochSig}${enochSig}${enochABCD}`;
    const opened = openNote(utf8(msg), [peter]);
    expect(opened.verified).toEqual([signatureOf(peterSig)]);
    expect(opened.unverified).toEqual([signatureOf(enochSig), signatureOf(enochABCD)]);
  });

  it.each([
    ['the text alone', utf8(text)],
    ['no signature line', utf8(`${text}\n`)],
    ['a signature line without newline', utf8(`${text}\n${peterSig.slice(0, -1)}`)],
    ['a control character', utf8(`\u0001${text}\n${peterSig}`)],
    ['invalid UTF-8', concatBytes(Uint8Array.of(0xff), utf8(`${text}\n${peterSig}`))],
    ['an overlong encoding', concatBytes(Uint8Array.of(0xc0, 0x80), utf8(`${text}\n${peterSig}`))],
    ['a space in a key name', utf8(`${text}\n— Bad Name ${peterSig.slice(15)}`)],
    ['a line that is not a signature', utf8(`${text}\n${peterSig}Unexpected line.\n`)],
    ['non-canonical base64', utf8(`${text}\n${peterSig.replace('AM=', 'AN=')}`)],
    ['unpadded base64', utf8(`${text}\n${peterSig.replace('AM=', 'AM')}`)],
    ['a signature of four bytes', utf8(`${text}\n— PeterNeumann x08gow==\n`)],
    ['an oversized note', utf8(`${'x'.repeat(MAX_NOTE_SIZE)}\n\n${peterSig}`)],
  ])('refuses a note with %s', (_, msg) => {
    expect(refusal(() => openNote(msg, [peter]))).toBe('malformed');
  });

  it('separates text from signatures at the last blank line', () => {
    const signer = signerFromKey(go.peter.skey);
    const tricky = `a\n\n${enochSig}\n`;
    const opened = openNote(signNote(tricky, [signer]), [peter]);
    expect(opened.text).toBe(tricky);
    expect(opened.unverified).toEqual([]);
  });

  it('keeps a leading byte order mark in the signed text', () => {
    const signer = signerFromKey(go.peter.skey);
    const opened = openNote(signNote('\ufeffBOM\n', [signer]), [peter]);
    expect(opened.text).toBe('\ufeffBOM\n');
  });
});

describe('the keys and notes of transparency-dev/formats log/note_test.go', () => {
  it.each(formats.keyPairs)('derives $vkey from its signer key', ({ vkey, skey }) => {
    const { name, type, seed } = decodeSignerKey(skey);
    const signer = ed25519NoteSigner(name, seed);
    expect(encodeVerifierKey(name, type, decodeVerifierKey(vkey).publicKey)).toBe(vkey);
    expect(signer.keyId).toBe(decodeVerifierKey(vkey).keyId);
    expect(openNote(signNote(text, [signer]), [verifierFromKey(vkey)]).text).toBe(text);
  });

  it('opens the sum.golang.org checkpoint with its witnesses, ignoring strangers', () => {
    const verifiers = [formats.sumdb.vkey, ...formats.extraVerifiers].map(verifierFromKey);
    const lines = formats.extraSignatureLines.map((line) => `${line}\n`).join('');
    const opened = openNote(utf8(formats.sumdb.note + lines), verifiers);
    expect(opened.verified.map((sig) => sig.name)).toEqual([
      'sum.golang.org',
      'monkeys',
      'bananas',
      'witness',
    ]);
    expect(opened.unverified.map((sig) => sig.name)).toEqual(['random1', 'random2']);
  });

  it.each(cosigKeys.verifierKeys)('decodes the $desc', ({ vkey, type }) => {
    const key = decodeVerifierKey(vkey);
    expect(key.type).toBe(type);
    expect(encodeVerifierKey(key.name, key.type, key.publicKey)).toBe(vkey);
  });

  it.each(cosigKeys.badVerifierKeys)('refuses a key with $desc', ({ vkey }) => {
    expect(() => decodeVerifierKey(vkey)).toThrow();
  });
});

describe('key names', () => {
  it.each([
    'example.com/log42',
    'PeterNeumann',
    'transparency.dev/DEV:witness-little-garden',
    'Señor-1',
  ])('accepts %s', (name) => {
    expect(isValidKeyName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['a plus', 'a+b'],
    ['a tab', 'a\tb'],
    ['a no-break space', 'a\u00a0b'],
    ['a next line', 'a\u0085b'],
    ['a line separator', 'a\u2028b'],
    ['an ideographic space', 'a\u3000b'],
    ['a control character', 'a\u0001b'],
    ['a lone surrogate', 'a\ud800b'],
  ])('refuses %s', (_, name) => {
    expect(isValidKeyName(name)).toBe(false);
  });
});

describe('properties', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const line = fc
    .string({ unit: 'grapheme', maxLength: 40 })
    .map((s) => [...s].filter((c) => c >= ' ').join(''));
  const noteText = fc
    .array(line, { minLength: 1, maxLength: 5 })
    .map((lines) => `${lines.join('\n')}\n`);

  it('opens what it signs, with the text intact, and refuses another key under its ID', () => {
    fc.assert(
      fc.property(noteText, seed, seed, (body, mine, theirs) => {
        const name = 'example.com/log';
        const msg = signNote(body, [ed25519NoteSigner(name, mine)]);
        const own = ed25519NoteVerifier(name, ed25519FromSeed(mine).publicKey);
        expect(openNote(msg, [own]).text).toBe(body);
        const { verify } = ed25519NoteVerifier(name, ed25519FromSeed(theirs).publicKey);
        const impostor: NoteVerifier = { name, keyId: own.keyId, verify };
        const same = Buffer.compare(mine, theirs) === 0;
        expect(refusal(() => openNote(msg, [impostor]))).toBe(
          same ? 'accepted' : 'invalid-signature',
        );
      }),
      { numRuns: 40 },
    );
  });

  it('parses what it formats', () => {
    const signature = fc.record({
      name: fc.constantFrom('a', 'example.com/w1', 'Señor'),
      keyId: fc.nat({ max: 0xffffffff }),
      signature: fc.uint8Array({ minLength: 1, maxLength: 80 }),
    });
    fc.assert(
      fc.property(noteText, fc.array(signature, { minLength: 1, maxLength: 5 }), (body, sigs) => {
        const note = parseNote(formatNote({ text: body, signatures: sigs }));
        expect(note.text).toBe(body);
        expect(note.signatures).toEqual(sigs);
        expect(sigs.map(formatSignatureLine).join('')).toBe(
          fromUtf8(formatNote({ text: body, signatures: sigs })).slice(body.length + 1),
        );
      }),
      { numRuns: 100 },
    );
  });
});
