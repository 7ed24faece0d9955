/**
 * What `hotline serve` refuses before it opens anything: a configuration that names another party
 * than the node's card, a listener given on the command line that is not a host:port, an
 * escalation ladder naming a desk the node does not have, and a TLS key that is not the one the
 * card pins.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeTlsIdentity } from '../crypto/tls.ts';
import { readConfig, writeConfig } from '../node/core/config.ts';
import { initNode } from '../node/core/data.ts';
import { readTlsFiles } from '../node/core/keyfiles.ts';
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
  const held = readFileSync(file, 'utf8');
  writeFileSync(file, held.replace(/^party: us$/m, 'party: xx'));
  try {
    await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
      /says party "xx", but the node's card \(card\.json\) is "us"'s/,
    );
  } finally {
    writeFileSync(file, held);
  }
});

test('a TLS key that is not the one the card pins is refused, naming both pins', async () => {
  const keys = join(dir, 'keys');
  const held = {
    key: readFileSync(join(keys, 'tls.key')),
    cert: readFileSync(join(keys, 'tls.crt')),
  };
  const ours = readTlsFiles(keys)?.pin;
  const other = await makeTlsIdentity('us');
  try {
    // Another node's keys folder put beside this card.
    writeFileSync(join(keys, 'tls.key'), other.key, { mode: 0o600 });
    writeFileSync(join(keys, 'tls.crt'), other.cert);
    const refused = startNode(dir, { logLevel: 'silent' });
    await expect(refused).rejects.toMatchObject({ code: 'E_TLS_PIN' });
    await expect(refused).rejects.toThrow(
      `the TLS key in ${keys} (pin ${other.pin}) is not the one the node's card pins (${ours})`,
    );
    // No TLS key at all beside a card that pins one.
    rmSync(join(keys, 'tls.key'));
    await expect(startNode(dir, { logLevel: 'silent' })).rejects.toThrow(
      `the node's card pins a TLS key (${ours}) but ${keys} has none`,
    );
  } finally {
    writeFileSync(join(keys, 'tls.key'), held.key, { mode: 0o600 });
    writeFileSync(join(keys, 'tls.crt'), held.cert);
  }
});
