/**
 * Commands that refuse change nothing first: given a stopped Washington node, `hotline restore`
 * from its own database, a second in-place restore, `hotline serve` on a port another program
 * holds, and `hotline relay` on a file each say in one line what is wrong and leave the data
 * folder as it was; `hotline backup` leaves its one file and nothing beside it; a database that
 * is no longer one is `E_STORE` in one line, whatever command opened it.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readConfig } from '../../src/node/core/config.ts';
import { HotlineNode, hotline, hotlineOk, killAll, removeUnlessKept, WASHINGTON } from './nodes.ts';

let root: string;
let us: HotlineNode;

/** The data folder's files and what each holds: what a refused command must leave as it was. */
function folder(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, readFileSync(join(dir, e.name)).toString('base64')]),
  );
}

/** A failure is one line on stderr, and nothing else there. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hotline-refusals-'));
  us = await HotlineNode.init(root, WASHINGTON);
}, 60_000);

afterAll(async () => {
  await killAll();
  removeUnlessKept(root);
});

test('restore from the node’s own database is refused before its records are moved', async () => {
  const db = join(us.dir, 'hotline.db');
  const link = join(root, 'link.db');
  symlinkSync(db, link);
  const before = folder(us.dir);
  for (const from of [db, link]) {
    const r = await hotline(['restore', '--data', us.dir, '--from', from]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `hotline: --from ${from} is this node's own database (${db}), which restore replaces: name a copy made by \`hotline backup\``,
    );
    expect(folder(us.dir)).toEqual(before);
  }
}, 60_000);

test('a second in-place restore before the node serves keeps the first marker', async () => {
  const first = await hotlineOk(['restore', '--data', us.dir]);
  expect(first.stdout).toContain(
    `Nothing copied: the records of "us" are taken as they are (restored by other means) and marked as restored in ${join(us.dir, 'restored.json')}.`,
  );
  const origin = /starts the log origin "([^"]+)"/.exec(first.stdout)?.[1];
  expect(origin).toMatch(/^hotline\/us\/log\/restored\//);
  const before = folder(us.dir);
  const again = await hotlineOk(['restore', '--data', us.dir]);
  expect(again.stdout).toBe(
    `Nothing changed: ${join(us.dir, 'restored.json')} (left by an earlier restore) stays as it was, as the node has not served since.\n` +
      `When it next serves, the node starts the log origin "${origin}" and recovers from its peers before serving.\n`,
  );
  expect(folder(us.dir)).toEqual(before);
}, 60_000);

test('serve on a port another program holds is refused before a restored node recovers', async () => {
  // The marker of the test above, or a fresh one.
  await hotlineOk(['restore', '--data', us.dir]);
  const { listen } = readConfig(us.dir);
  const at = listen.lastIndexOf(':');
  // Another program: it reads what it is sent and never answers.
  const taken: Server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) =>
    taken.listen(Number(listen.slice(at + 1)), listen.slice(0, at), resolve),
  );
  try {
    const before = folder(us.dir);
    const r = await hotline(['serve', '--data', us.dir]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `hotline: another program listens on ${listen} (listen in hotline.yaml): stop it or choose another port`,
    );
    expect(folder(us.dir)).toEqual(before);
    expect(Object.keys(before)).toContain('restored.json');
    // A relay on it makes no data folder and no TLS key.
    const relayData = join(root, 'relay');
    const relay = await hotline(['relay', '--data', relayData, '--listen', listen]);
    expect(relay.code).toBe(1);
    expect(oneLine(relay.stderr)).toBe(
      `hotline: another program listens on ${listen} (--listen): stop it or choose another port`,
    );
    expect(existsSync(relayData)).toBe(false);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}, 60_000);

test('backup leaves one file, and nothing beside it', async () => {
  const out = join(root, 'backups');
  mkdirSync(out);
  await hotlineOk(['backup', '--data', us.dir, '--out', join(out, 'us.db')]);
  expect(readdirSync(out)).toEqual(['us.db']);
  // And it restores: the copy in place, the records it replaced kept, nothing half-made left.
  const restored = await hotlineOk(['restore', '--data', us.dir, '--from', join(out, 'us.db')]);
  expect(restored.stdout).toContain(`Restored "us" from ${join(out, 'us.db')}`);
  const files = readdirSync(us.dir);
  expect(files.filter((f) => f.startsWith('hotline.db.replaced-'))).toHaveLength(1);
  expect(files.filter((f) => f.includes('partial'))).toEqual([]);
}, 60_000);

test('relay on a file given as its data folder says so, as the node commands do', async () => {
  const file = join(us.dir, 'hotline.yaml');
  const r = await hotline(['relay', '--data', file, '--listen', '127.0.0.1:7299']);
  expect(r.code).toBe(1);
  expect(oneLine(r.stderr)).toBe(`hotline: --data ${file} is a file, not a folder`);
}, 60_000);

test('a store that is not a database is E_STORE in one line from every command that opens it', async () => {
  const other = mkdtempSync(join(tmpdir(), 'hotline-refusals-store-'));
  try {
    const damaged = await HotlineNode.init(other, WASHINGTON);
    for (const f of ['hotline.db-wal', 'hotline.db-shm'])
      rmSync(join(damaged.dir, f), { force: true });
    writeFileSync(join(damaged.dir, 'hotline.db'), 'not a database\n'.repeat(512));
    const out = join(other, 'out');
    for (const command of [
      ['export', '--out', out],
      ['backup', '--out', out],
      ['user', 'list'],
    ]) {
      const r = await hotline([...command, '--data', damaged.dir]);
      expect([command[0], r.code]).toEqual([command[0], 1]);
      expect(oneLine(r.stderr)).toBe(
        "hotline: E_STORE: the node's store failed: file is not a database",
      );
      expect(existsSync(out)).toBe(false);
    }
  } finally {
    removeUnlessKept(other);
  }
}, 60_000);
