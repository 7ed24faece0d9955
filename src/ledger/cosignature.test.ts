import { describe, expect, it } from 'vitest';
import formats from '../../test/vectors/ledger/formats-cosignature.json' with { type: 'json' };
import arche from '../../test/vectors/ledger/tlog-scales-arche2025h1.json' with { type: 'json' };
import examples from '../../test/vectors/ledger/tlog-spec-examples.json' with { type: 'json' };
import { ed25519FromSeed } from '../crypto/ed25519.ts';
import { fromUtf8, sha256, utf8 } from '../protocol/encoding.ts';
import { fromBase64 } from './base64.ts';
import { type Checkpoint, formatCheckpoint, openCheckpoint } from './checkpoint.ts';
import {
  cosignatureKeyId,
  cosignatureSigner,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignatureVerifierFromKey,
  cosignCheckpoint,
  cosignedMessage,
  verifyCosignature,
} from './cosignature.ts';
import {
  decodeVerifierKey,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  type NoteError,
  type NoteSignature,
  openNote,
  parseNote,
  signNote,
  verifierFromKey,
} from './note.ts';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return (error as NoteError).reason ?? (error as Error).message;
  }
}

function withSignature(sig: NoteSignature, bytes: Uint8Array): NoteSignature {
  return { ...sig, signature: bytes };
}

describe('the example of C2SP tlog-cosignature', () => {
  const note = parseNote(utf8(examples.note));
  const witness = note.signatures.find((sig) => sig.name === examples.cosigner);

  it('signs the message the spec shows', () => {
    expect(fromUtf8(cosignedMessage(examples.cosignatureTime, utf8(note.text)))).toBe(
      examples.cosignedMessage,
    );
  });

  it('frames the witness line as key ID, big-endian time and Ed25519 signature', () => {
    expect(witness?.keyId).toBe(0x8d66cf3f);
    expect(witness?.signature).toHaveLength(8 + 64);
    expect(witness && cosignatureTimestamp(witness)).toBe(examples.cosignatureTime);
  });
});

describe('a real cosigned checkpoint (florolf/tlog-scales test_signing.py)', () => {
  const msg = utf8(arche.note);
  const log = verifierFromKey(arche.logKey);
  const remora = cosignatureVerifierFromKey(arche.witnessKey);

  it('verifies the remora.n621.de cosignature and the log signature', () => {
    const { checkpoint, note } = openCheckpoint(msg, arche.origin, log, [remora]);
    expect(checkpoint.size).toBe(arche.size);
    expect(note.verified.map((sig) => sig.name)).toEqual([arche.origin, 'remora.n621.de']);
    const cosig = note.verified[1];
    // The time in the signature bytes (0x6a122120).
    expect(cosig && cosignatureTimestamp(cosig)).toBe(1779573024);
    expect(cosig && verifyCosignature(checkpoint, cosig, remora)).toBe(true);
  });

  it('ignores the log name signing with another type and the unknown witnesses', () => {
    const { note } = openCheckpoint(msg, arche.origin, log, [remora]);
    expect(note.unverified.map((sig) => sig.name)).toEqual([
      arche.origin,
      'transparency.dev/DEV:witness-little-garden',
      'witness1.smartit.nu/witness1',
      'witness.stagemole.eu',
    ]);
  });

  it('refuses the cosignature once the size, the time or a signature byte changes', () => {
    const { checkpoint, note } = openCheckpoint(msg, arche.origin, log, [remora]);
    const cosig = note.verified[1];
    if (cosig === undefined) throw new Error('no cosignature');
    const later = cosig.signature.slice();
    later[7] = (later[7] ?? 0) + 1;
    const broken = cosig.signature.slice();
    broken[40] = (broken[40] ?? 0) ^ 0x10;
    expect(verifyCosignature({ ...checkpoint, size: checkpoint.size + 1 }, cosig, remora)).toBe(
      false,
    );
    expect(verifyCosignature(checkpoint, withSignature(cosig, later), remora)).toBe(false);
    expect(verifyCosignature(checkpoint, withSignature(cosig, broken), remora)).toBe(false);
    expect(
      reasonOf(() => openNote(utf8(arche.note.replace('1432088532', '1432088533')), [remora])),
    ).toBe('invalid-signature');
  });

  it('derives the published key IDs of the witness', () => {
    const key = decodeVerifierKey(arche.witnessKey);
    expect(cosignatureKeyId(key.name, key.publicKey)).toBe(0xda77ade7);
    expect(() => cosignatureVerifierFromKey(arche.logKey)).toThrow('cosignature/v1');
  });
});

describe('timestamps of transparency-dev/formats note_cosigv1_test.go', () => {
  it.each(formats.timestamps)('reads $time', ({ base64, time }) => {
    const sig: NoteSignature = { name: 'w', keyId: 0, signature: fromBase64(base64).slice(4) };
    if (time === null) expect(() => cosignatureTimestamp(sig)).toThrow('not a cosignature');
    else expect(cosignatureTimestamp(sig)).toBe(time);
  });
});

describe('cosigning a checkpoint', () => {
  const seed = sha256(utf8('hotline test witness'));
  const { publicKey } = ed25519FromSeed(seed);
  const now = () => 1_760_000_000;
  const witness = cosignatureSigner('witness.hotline.example/w1', seed, now);
  const verifier = cosignatureVerifier('witness.hotline.example/w1', publicKey);
  const checkpoint: Checkpoint = {
    origin: 'hotline.example/log',
    size: 42,
    root: sha256(utf8('a root')),
    extensions: [],
  };

  it('states the time and verifies, for this checkpoint and this key only', () => {
    const cosig = cosignCheckpoint(checkpoint, witness);
    expect(cosig.keyId).toBe(verifier.keyId);
    expect(cosignatureTimestamp(cosig)).toBe(1_760_000_000);
    expect(verifyCosignature(checkpoint, cosig, verifier)).toBe(true);
    // The signed message does not name the cosigner, so the line's name and key ID are checked.
    expect(verifyCosignature(checkpoint, { ...cosig, name: 'someone.else/w1' }, verifier)).toBe(
      false,
    );
    expect(verifyCosignature(checkpoint, { ...cosig, keyId: 0 }, verifier)).toBe(false);
    expect(verifyCosignature({ ...checkpoint, size: 43 }, cosig, verifier)).toBe(false);
    expect(verifyCosignature({ ...checkpoint, extensions: ['x'] }, cosig, verifier)).toBe(false);
    const other = cosignatureVerifier(verifier.name, ed25519FromSeed(sha256(seed)).publicKey);
    expect(verifyCosignature(checkpoint, { ...cosig, keyId: other.keyId }, other)).toBe(false);
  });

  it('covers extension lines', () => {
    const extended = { ...checkpoint, extensions: ['extension 1', 'extension 2'] };
    const cosig = cosignCheckpoint(extended, witness);
    expect(verifyCosignature(extended, cosig, verifier)).toBe(true);
    const changed = { ...extended, extensions: ['extension 1', 'extension X'] };
    expect(verifyCosignature(changed, cosig, verifier)).toBe(false);
  });

  it('joins the log signature in the note, and openCheckpoint checks both', () => {
    const logSeed = sha256(utf8('log key'));
    const logSigner = ed25519NoteSigner(checkpoint.origin, logSeed);
    const log = ed25519NoteVerifier(checkpoint.origin, ed25519FromSeed(logSeed).publicKey);
    const signed = signNote(formatCheckpoint(checkpoint), [logSigner]);
    const cosigned = signNote(parseNote(signed), [witness]);
    const opened = openCheckpoint(cosigned, checkpoint.origin, log, [verifier]);
    expect(opened.note.verified.map((sig) => sig.name)).toEqual([log.name, verifier.name]);
  });

  it('keeps the cosignature type apart from plain Ed25519 signatures by the same key', () => {
    const plain = ed25519NoteSigner(verifier.name, seed);
    expect(plain.keyId).not.toBe(verifier.keyId);
    const text = utf8(formatCheckpoint(checkpoint));
    expect(verifier.verify(text, plain.sign(text))).toBe(false);
  });

  it('refuses to cosign what is not a checkpoint, or at a bad time', () => {
    expect(() => witness.sign(utf8('not a checkpoint\n'))).toThrow();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      const stamped = cosignatureSigner(verifier.name, seed, () => bad);
      expect(() => cosignCheckpoint(checkpoint, stamped)).toThrow('bad cosignature time');
    }
  });

  it('refuses a timestamp past 2^63 - 1', () => {
    const cosig = cosignCheckpoint(checkpoint, witness);
    const huge = cosig.signature.slice();
    huge[0] = 0x80;
    expect(verifier.verify(utf8(formatCheckpoint(checkpoint)), huge)).toBe(false);
    expect(() => cosignatureTimestamp(withSignature(cosig, huge))).toThrow(RangeError);
    expect(() => cosignedMessage(2n ** 63n, new Uint8Array())).toThrow(RangeError);
    expect(fromUtf8(cosignedMessage(2n ** 63n - 1n, utf8('x\n')))).toBe(
      'cosignature/v1\ntime 9223372036854775807\nx\n',
    );
  });
});
