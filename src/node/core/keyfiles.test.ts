/**
 * Key files in a data folder keep the recovery key's secret apart, readable by the owner only.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateNodeKeys } from '../../crypto/keys.ts';
import { readKeyFiles, writeKeyFiles } from './keyfiles.ts';

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
});
