/**
 * A store test on both backends: SQLite in a file of a temporary folder, PostgreSQL in a fresh
 * schema on 127.0.0.1:5432 (HOTLINE_TEST_POSTGRES overrides the URL). Each `open` opens the same
 * store again; the folder and the schema are removed after the calling file's tests.
 *
 * @example
 *   const { backends } = storeBackends('search');
 *   describe.each(backends)('on %s', (_name, open) => { … });
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/store.ts';
import { dropSchemas, TEST_POSTGRES } from './postgres.ts';

export function storeBackends(name: string): {
  /** The temporary folder, for other files the test makes. */
  dir: string;
  backends: Array<['sqlite' | 'postgres', () => Promise<Store>]>;
} {
  const schema = `hotline_test_${name}_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `hotline-${name}-store-`));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas(schema);
  });
  return {
    dir,
    backends: [
      ['sqlite', () => openSqliteStore(join(dir, 'hotline.db'))],
      ['postgres', () => openPostgresStore({ url: TEST_POSTGRES, schema })],
    ],
  };
}
