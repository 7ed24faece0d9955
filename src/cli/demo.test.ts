import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hotline } from '../../test/integration/nodes.ts';
import { fingerprint } from '../crypto/card.ts';
import { initNode } from '../node/core/data.ts';
import { clearDemoFolder } from './demo.ts';

const root = mkdtempSync(join(tmpdir(), 'hotline-demo-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder as a run of the demo leaves it: its marker and Washington's node, named in it. */
async function demoMade(name: string): Promise<string> {
  const dir = join(root, name);
  const { signed } = await initNode(join(dir, 'us'), {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: ['https://127.0.0.1:7100'],
    listen: '127.0.0.1:7100',
    operatorListen: '127.0.0.1:7101',
  });
  writeFileSync(
    join(dir, 'hotline-demo.json'),
    JSON.stringify({ madeBy: 'hotline demo', fingerprints: { us: fingerprint(signed.card) } }),
  );
  return dir;
}

describe('the folder hotline demo starts afresh in', () => {
  it('is not deleted when the demo did not make it: the evidence in it stays', async () => {
    const dir = join(root, 'copy');
    mkdirSync(join(dir, 'us'), { recursive: true });
    writeFileSync(join(dir, 'us', 'evidence.txt'), 'kept');
    const run = await hotline(['demo', '--dir', dir]);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toBe(
      `hotline: E_CONFLICT: ${dir} is not empty and has no hotline-demo.json: the demo did not make it. Nothing was deleted: give --dir a new or empty folder, or one an earlier demo made`,
    );
    expect(existsSync(join(dir, 'us', 'evidence.txt'))).toBe(true);
  });

  it('is never the current folder by an empty --dir', async () => {
    await expect(clearDemoFolder('')).rejects.toThrow(
      'E_MALFORMED: --dir is empty: name a folder for the demo (it makes one)',
    );
    await expect(clearDemoFolder('  ')).rejects.toThrow('E_MALFORMED: --dir is empty');
  });

  it('is refused when a node other than the demo’s was put in it, or another file', async () => {
    const swapped = await demoMade('swapped');
    await initNode(join(swapped, 'cn'), {
      party: 'cn',
      names: { en: 'Beijing' },
      endpoints: ['https://127.0.0.1:7200'],
      listen: '127.0.0.1:7200',
      operatorListen: '127.0.0.1:7201',
    });
    await expect(clearDemoFolder(swapped)).rejects.toThrow(
      `E_CONFLICT: ${join(swapped, 'cn')} is not a node the demo made`,
    );
    expect(readdirSync(join(swapped, 'cn'))).toContain('hotline.db');

    const beside = await demoMade('beside');
    writeFileSync(join(beside, 'notes.txt'), 'kept');
    await expect(clearDemoFolder(beside)).rejects.toThrow(
      `E_CONFLICT: ${beside} holds notes.txt, which the demo did not make`,
    );
  });

  it('is not deleted when a port the demo needs is taken', async () => {
    const dir = await demoMade('busy');
    // Taken here, or by another program already: either way the demo cannot listen there.
    const holder: Server = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen({ host: '127.0.0.1', port: 7101, exclusive: true }, resolve);
    });
    try {
      await expect(clearDemoFolder(dir)).rejects.toThrow(
        /another program listens on 127.0.0.1:710[01]/,
      );
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    expect(readdirSync(dir).sort()).toEqual(['hotline-demo.json', 'us']);
  });
});
