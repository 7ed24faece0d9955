/**
 * Key files in a data folder keep the recovery key's secret apart, readable by the owner only.
 */
import {
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
import { afterEach, describe, expect, it } from 'vitest';
import { generateNodeKeys } from '../../crypto/keys.ts';
import { readKeyFiles, replaceKeyFiles, writeKeyFiles } from './keyfiles.ts';

describe('key files', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('are readable by the owner only, and the recovery secret is left for the operator', async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-keys-'));
    const dir = join(root, 'keys');
    const keys = await generateNodeKeys('us');
    writeKeyFiles(dir, keys);
    expect(readdirSync(dir).sort()).toEqual([
      'identity.key',
      'log.key',
      'recovery-OFFLINE.key',
      'sealing-x-wing.key',
      'sealing-x25519.key',
      'signing.key',
      'witness.key',
    ]);
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    const read = readKeyFiles(dir);
    expect(read).toEqual(keys.filter((k) => k.entry.purpose !== 'recovery'));
    expect(() => writeKeyFiles(dir, keys)).toThrow('already exists');
  });

  it('a rotation’s new key is not written through a link left where it is first written', async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-keys-'));
    const dir = join(root, 'keys');
    writeKeyFiles(dir, await generateNodeKeys('us'));
    const next = (await generateNodeKeys('us')).filter((k) => k.entry.purpose === 'signing');
    const public_ = join(root, 'public.txt');
    writeFileSync(public_, 'public\n', { mode: 0o644 });
    symlinkSync(public_, join(dir, 'signing.key.next'));
    replaceKeyFiles(dir, next);
    expect(readFileSync(public_, 'utf8')).toBe('public\n');
    expect(statSync(join(dir, 'signing.key')).mode & 0o777).toBe(0o600);
    expect(readKeyFiles(dir).find((k) => k.entry.purpose === 'signing')).toEqual(next[0]);
    expect(readdirSync(dir).filter((f) => f.includes('.next'))).toEqual([]);
  });
});
