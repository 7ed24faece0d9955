/**
 * `hotline note verify`: a third party checks a checkpoint's witness cosignature offline, which
 * Go's sumdb/note cannot (it knows Ed25519 log keys only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import hotline from '../vectors/ledger/hotline-cosigned-checkpoint.json' with { type: 'json' };
import { REPO } from './nodes.ts';

function verify(note: string, ...keys: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'hotline-note-')), 'checkpoint.txt');
  writeFileSync(file, note);
  return spawnSync(
    process.execPath,
    [join(REPO, 'bin', 'hotline.js'), 'note', 'verify', file, ...keys.flatMap((k) => ['--key', k])],
    { encoding: 'utf8', cwd: REPO },
  );
}

describe('hotline note verify', () => {
  test('verifies the log signature and the witness cosignature of a checkpoint', () => {
    const run = verify(hotline.note, hotline.logKey, hotline.witnessKey);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('VALID   ed25519 hotline/us/log');
    expect(run.stdout).toContain(
      'VALID   cosignature/v1 hotline/cn/witness at 2025-03-01T12:00:00.000Z',
    );
  });

  test('fails on a missing cosignature, and refuses non-canonical base64 with a reason', () => {
    const missing = verify(hotline.note.replace(hotline.cosignatureLine, ''), hotline.witnessKey);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('MISSING cosignature/v1 hotline/cn/witness');
    const lenient = verify(hotline.note.replace('yqCw==', 'yqCx=='), hotline.witnessKey);
    expect(lenient.status).toBe(1);
    expect(lenient.stderr).toMatch(/^hotline: .*bad base64 in signature line\n$/);
  });
});
