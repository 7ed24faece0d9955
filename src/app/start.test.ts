/**
 * What `hotline serve` refuses before it serves: a configuration that names another party than
 * the node's card, a listener given on the command line that is not a host:port, and an
 * escalation ladder naming a desk the node does not have.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readConfig, writeConfig } from '../node/core/config.ts';
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

test('a ladder naming a desk the node does not have is refused, naming the desks it has', async () => {
  const config = readConfig(dir);
  writeConfig(dir, {
    ...config,
    incidents: { ...config.incidents, ladder: ['ops', 'duty-oficer'] },
  });
  await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
    'hotline.yaml: incidents.ladder names a desk this node does not have ("duty-oficer"); its desks are ops: correct the name, or create the desk first (hotline desk add <id> --name …)',
  );
  writeConfig(dir, { ...config, approvals: { ...config.approvals, ladder: ['principal'] } });
  await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
    /approvals\.ladder names a desk this node does not have \("principal"\); its desks are ops/,
  );
  writeConfig(dir, config);
});

test('a configuration naming another party than the card is refused', async () => {
  const file = join(dir, CONFIG_FILE);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^party: us$/m, 'party: xx'));
  await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
    /says party "xx", but the node's card \(card\.json\) is "us"'s/,
  );
});
