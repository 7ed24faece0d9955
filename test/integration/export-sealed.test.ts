/**
 * `hotline export-sealed`: Beijing hands the sealed parts of what it received to an auditor who
 * holds its sealing key file; the auditor opens them with docs/security.md's recipe alone, and
 * checks each against the ledger. TLP:RED stays out.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseLeaf } from '../../src/ledger/leaves.ts';
import { exportSealed } from '../../src/node/record/export-sealed.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { openSealedBody, sealedHashOf, secretOfKeyFile } from '../support/third-party.ts';
import { REPO } from './nodes.ts';

let pair: Pair;
beforeAll(async () => {
  pair = await createPair();
});
afterAll(async () => {
  await pair?.close();
});

describe('the sealed parts of a ledger, for a third party holding the sealing key', () => {
  test('open with the recipe, match the ledger, and leave TLP:RED out', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const amber = draft({ tlp: 'amber', text: { lang: 'en', body: 'For the auditor.' } });
    const sent = await us.node.release(['cn'], amber);
    const red = await us.node.release(['cn'], draft({ tlp: 'red' }));
    await eventually(async () => {
      const rows = await cn.store.listInbox(10);
      return [sent.id, red.id].every((id) => rows.some((r) => r.id === id)) ? true : undefined;
    }, 20_000);

    const lines: string[] = [];
    const summary = await exportSealed(pair.cn.dir, (line) => {
      lines.push(line);
    });
    expect(summary).toEqual({ sealed: 1, redWithheld: 1 });
    const records = lines.map((l) => JSON.parse(l));
    expect(records.at(-1)).toEqual({ type: 'end', sealed: 1, redWithheld: 1 });
    const record = records[0];
    expect(record).toMatchObject({ type: 'sealed', dir: 'in', party: 'us', id: sent.id });

    // The record is the one the ledger holds.
    const [leafText] = await cn.store.readLeaves(record.index, 1);
    const leaf = parseLeaf(leafText as string);
    expect(leaf.leaf === 'envelope' && leaf.sealedHash).toBe(record.sealedHash);
    expect(sealedHashOf(record.sealed)).toBe(record.sealedHash);

    // Beijing's sealing key file, as its data folder holds it, opens it.
    const keyFile = readFileSync(
      join(pair.cn.dir, 'keys', `sealing-${record.sealed.suite}.key`),
      'utf8',
    );
    const body = await openSealedBody(record, 'cn', secretOfKeyFile(keyFile));
    expect(body).toMatchObject({ tlp: 'amber', text: { lang: 'en', body: 'For the auditor.' } });
    // Washington's does not.
    const wrong = readFileSync(
      join(pair.us.dir, 'keys', `sealing-${record.sealed.suite}.key`),
      'utf8',
    );
    await expect(openSealedBody(record, 'cn', secretOfKeyFile(wrong))).rejects.toThrow();
  }, 60_000);

  test('the CLI writes the same file and records the export in the audit trail', () => {
    const out = join(pair.root, 'cn.sealed.jsonl');
    const run = spawnSync(
      process.execPath,
      [join(REPO, 'bin', 'hotline.js'), 'export-sealed', '--data', pair.cn.dir, '--out', out],
      { encoding: 'utf8', cwd: REPO },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`Exported 1 sealed parts to ${out}; 1 TLP:RED messages withheld\n`);
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.type)).toEqual(['sealed', 'end']);
  }, 60_000);
});
