/**
 * A secret written to a file (a token, a key, a ledger export): given someone who can write in
 * its folder, it is never written through a link they planted, never readable by others even for
 * a moment, and a write that fails leaves nothing behind.
 */
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { writeOutFile, writeOutFileSync } from './out-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotline-out-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a secret written to a file', () => {
  test.each([false, true])(
    'is not written through a link planted beside it (replace %s)',
    async (replace) => {
      const file = join(dir, 'export.jsonl');
      const public_ = join(dir, 'public.txt');
      writeFileSync(public_, 'public\n', { mode: 0o644 });
      symlinkSync(public_, `${file}.partial`);
      await writeOutFile(file, { replace }, (write) => write('secret\n'));
      expect(readFileSync(public_, 'utf8')).toBe('public\n');
      expect(lstatSync(file).isFile()).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toBe('secret\n');
      expect(readdirSync(dir).sort()).toEqual(['export.jsonl', 'public.txt']);
    },
  );

  test('is refused, before anything is made, where a name or a link is already there', async () => {
    const file = join(dir, 'token');
    symlinkSync(join(dir, 'nowhere', 'token'), file);
    let made = false;
    const refused = await writeOutFile(file, {}, () => {
      made = true;
    }).catch((e: NodeJS.ErrnoException) => e.code);
    expect(refused).toBe('EEXIST');
    expect(made).toBe(false);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir)).toEqual(['token']);
  });

  test('that fails half-way leaves nothing behind, and an old file it was to replace as it was', async () => {
    const fresh = join(dir, 'fresh');
    const kept = join(dir, 'kept');
    writeFileSync(kept, 'old\n');
    for (const [file, replace] of [
      [fresh, false],
      [kept, true],
    ] as const)
      await expect(
        writeOutFile(file, { replace }, (write) => {
          write('half of it');
          throw new Error('the disk is full');
        }),
      ).rejects.toThrow('the disk is full');
    expect(existsSync(fresh)).toBe(false);
    expect(readFileSync(kept, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['kept']);
  });

  test('replacing a file, has the mode asked for from the start, whatever the old one had', () => {
    const file = join(dir, 'hotline.yaml');
    writeFileSync(file, 'old\n', { mode: 0o644 });
    writeOutFileSync(file, 'new\n', { replace: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('new\n');
  });
});
