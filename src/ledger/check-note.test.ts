import { describe, expect, it } from 'vitest';
import hotline from '../../test/vectors/ledger/hotline-cosigned-checkpoint.json' with {
  type: 'json',
};
import arche from '../../test/vectors/ledger/tlog-scales-arche2025h1.json' with { type: 'json' };
import { utf8 } from '../protocol/encoding.ts';
import { checkNote, describeNoteCheck } from './check-note.ts';
import type { NoteError } from './note.ts';

/** The witness line with one signature byte changed (its last base64 character before `==`). */
const tampered = hotline.note.replace('5v1yxQAAAABnwvbAI7bB', '5v1yxQAAAABnwvbAI7bC');
/**
 * The same bytes spelled with a non-zero unused bit (`…qCw==` → `…qCx==`): Go's base64 decoder,
 * which sumdb/note uses, reads the same signature and accepts it; a strict one must not.
 */
const nonCanonical = hotline.note.replace('oTLVRPWyqCw==', 'oTLVRPWyqCx==');

describe('checking a witness cosignature, which Go sumdb/note cannot', () => {
  it("verifies the project's cosigned checkpoint by its log key and its witness key", () => {
    const check = checkNote(utf8(hotline.note), [hotline.logKey, hotline.witnessKey]);
    expect(check).toEqual({
      ok: true,
      checkpoint: {
        origin: 'hotline/us/log',
        size: 3,
        root: '+5P64npvtUrQKjqvZWUKRKv+eMklXu8QVZ573DzYDBg=',
      },
      keys: [
        { vkey: hotline.logKey, name: 'hotline/us/log', kind: 'ed25519', state: 'valid' },
        {
          vkey: hotline.witnessKey,
          name: 'hotline/cn/witness',
          kind: 'cosignature/v1',
          state: 'valid',
          time: hotline.cosignatureTime,
        },
      ],
      others: [],
    });
    expect(describeNoteCheck(check)).toEqual([
      'checkpoint hotline/us/log, size 3, root +5P64npvtUrQKjqvZWUKRKv+eMklXu8QVZ573DzYDBg=',
      'VALID   ed25519 hotline/us/log',
      'VALID   cosignature/v1 hotline/cn/witness at 2025-03-01T12:00:00.000Z',
      'OK: every given key signed this note',
    ]);
  });

  it('checks the witness alone, ignoring the log line', () => {
    const check = checkNote(utf8(hotline.note), [hotline.witnessKey]);
    expect(check.ok).toBe(true);
    expect(check.others).toEqual(['hotline/us/log']);
  });

  it('says a changed cosignature is invalid and a missing one is missing', () => {
    expect(checkNote(utf8(tampered), [hotline.witnessKey]).keys[0]?.state).toBe('invalid');
    const logOnly = hotline.note.replace(hotline.cosignatureLine, '');
    const check = checkNote(utf8(logOnly), [hotline.logKey, hotline.witnessKey]);
    expect(check.ok).toBe(false);
    expect(check.keys.map((k) => k.state)).toEqual(['valid', 'missing']);
  });

  it('refuses non-canonical base64 that Go decodes to the same signature', () => {
    expect(Buffer.from('oTLVRPWyqCx==', 'base64')).toEqual(Buffer.from('oTLVRPWyqCw==', 'base64'));
    let reason = 'accepted';
    try {
      checkNote(utf8(nonCanonical), [hotline.witnessKey]);
    } catch (e) {
      reason = (e as NoteError).reason;
    }
    expect(reason).toBe('malformed');
  });

  it('verifies a real public witness (remora.n621.de) on a real log (arche2025h1)', () => {
    const check = checkNote(utf8(arche.note), [arche.logKey, arche.witnessKey]);
    expect(check.ok).toBe(true);
    expect(check.keys[1]).toMatchObject({ kind: 'cosignature/v1', state: 'valid' });
  });

  it('refuses a key of an unknown type and a key whose ID does not match', () => {
    expect(() => checkNote(utf8(hotline.note), ['hotline/us/log+00000000+AQOh'])).toThrow();
    expect(() => checkNote(utf8(hotline.note), [])).not.toThrow();
    expect(checkNote(utf8(hotline.note), []).ok).toBe(false);
  });
});
