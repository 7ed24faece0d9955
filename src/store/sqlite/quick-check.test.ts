import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { openSqliteStore } from './index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-quick-check-'));
  dirs.push(dir);
  return dir;
}

test('a quick check of a sound file finds nothing', async () => {
  const store = await openSqliteStore(join(folder(), 'hotline.db'));
  try {
    expect(await store.checkIntegrity()).toEqual({ checked: true, problems: [] });
  } finally {
    await store.close();
  }
});

test('closing the store ends a quick check under way, and its worker holds the file no more', async () => {
  const dir = folder();
  const store = await openSqliteStore(join(dir, 'hotline.db'));
  let settled = false;
  const check = store.checkIntegrity().finally(() => {
    settled = true;
  });
  await store.close();
  // The check answered before close() returned: nothing of it is left to touch the folder.
  expect(settled).toBe(true);
  expect((await check).problems).toEqual([]);
  rmSync(dir, { recursive: true });
  expect(() => readdirSync(dir)).toThrow(/ENOENT/);
});
