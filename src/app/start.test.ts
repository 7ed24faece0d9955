/**
 * What `hotline serve` refuses before it opens anything: a configuration that names another party
 * than the node's card, and a listener given on the command line that is not a host:port.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { initNode } from '../node/core/data.ts';
import { CONFIG_FILE } from '../node/core/paths.ts';
import { startNode } from './start.ts';

let root: string;
let dir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hotline-start-'));
  dir = join(root, 'us');
  await initNode(dir, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: ['https://127.0.0.1:7100'],
    listen: '127.0.0.1:7100',
    operatorListen: '127.0.0.1:7101',
  });
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('a listener given on the command line is checked as the configuration is', async () => {
  await expect(startNode(dir, { listen: 'bogus' })).rejects.toThrow(
    /hotline\.yaml with listen given: listen is not a host:port/,
  );
});

test('a configuration naming another party than the card is refused', async () => {
  const file = join(dir, CONFIG_FILE);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^party: us$/m, 'party: xx'));
  await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
    /says party "xx", but the node's card \(card\.json\) is "us"'s/,
  );
});
