import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair } from '../../test/support/pair.ts';
import { fromBase64url, toBase64url } from '../protocol/encoding.ts';
import { jcs } from '../protocol/jcs.ts';
import { verifyBundleFile } from './bundle-files.ts';

const run = promisify(execFile);

/** Runs the `hotline` command; answers its exit code and output, whatever the code. */
async function hotline(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/hotline.js', ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

let pair: Pair;
const file = (name: string) => join(pair.root, name);

beforeAll(async () => {
  pair = await createPair();
  const us = await pair.start(pair.us);
  await pair.start(pair.cn);
  const { id } = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Audit me.' } }));
  await eventually(
    async () => ((await us.store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined),
    15_000,
    'a verified receipt',
  );
}, 60_000);

afterAll(async () => {
  await pair.close();
});

describe('hotline export and hotline verify', () => {
  test('a running node’s export verifies; a stopped node’s too; together they match', async () => {
    const exported = await hotline('export', '--data', pair.us.dir, '--out', file('us.jsonl'));
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^Exported the ledger of "us" to .*us\.jsonl: \d+ leaves/);
    await pair.stop(pair.cn);
    expect((await hotline('export', '--data', pair.cn.dir, '--out', file('cn.jsonl'))).code).toBe(
      0,
    );

    const alone = await hotline('verify', file('us.jsonl'));
    expect(alone.code).toBe(0);
    expect(alone.stdout.split('\n')[0]).toBe(`OK: ${file('us.jsonl')} verifies`);
    expect(alone.stdout).toMatch(/fingerprint of "cn": (\d{5} ){7}\d{5}/);

    const both = await hotline('verify', file('us.jsonl'), '--peer-export', file('cn.jsonl'));
    expect(both.code).toBe(0);
    expect(both.stdout.split('\n')[0]).toBe(
      `OK: ${file('us.jsonl')} and ${file('cn.jsonl')} verify, and both views of the conversation match`,
    );

    const json = await hotline(
      'verify',
      file('cn.jsonl'),
      '--peer-export',
      file('us.jsonl'),
      '--json',
    );
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(true);
    expect(report.bundles.map((b: { party: string }) => b.party)).toEqual(['cn', 'us']);
    expect(report.views.matched).toBeGreaterThanOrEqual(1);
    await pair.start(pair.cn);
  });

  test('an export without bodies carries no plaintext and still verifies', async () => {
    const bare = await hotline(
      'export',
      '--data',
      pair.us.dir,
      '--out',
      file('bare.jsonl'),
      '--no-bodies',
    );
    expect(bare.stdout).toMatch(/: \d+ leaves, 0 bodies,/);
    expect(readFileSync(file('bare.jsonl'), 'utf8')).not.toContain('Audit me.');
    const verified = await hotline('verify', file('bare.jsonl'));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/bodies +0 against their bodyHash, [1-9]\d* withheld/);
  });

  test('a bundle whose first envelope leaf was changed from out to in fails, naming that leaf', async () => {
    const lines = readFileSync(file('us.jsonl'), 'utf8').split('\n');
    // The first leaves of a node are audit anchors of its first admin; then comes the envelope.
    const at = lines.findIndex(
      (l) => l.startsWith('{"type":"leaf",') && l.includes('"dir\\":\\"out\\"'),
    );
    const index = Number(/^\{"type":"leaf","index":(\d+),/.exec(lines[at] as string)?.[1]);
    lines[at] = (lines[at] as string).replace('"dir\\":\\"out\\"', '"dir\\":\\"in\\"');
    writeFileSync(file('tampered.jsonl'), lines.join('\n'));
    const result = await hotline('verify', file('tampered.jsonl'));
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^FAILED \\(\\d+ failures?\\): us: leaf ${index} \\(envelope\\) \\[in, id [0-9a-f-]{36}, line \\d+\\]: `,
      ),
    );
  });

  test('a forged header signature is named as the first failure, whether signatures are checked in line or on threads', async () => {
    const lines = readFileSync(file('us.jsonl'), 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('\\"leaf\\":\\"envelope\\"'));
    const record = JSON.parse(lines[at] as string);
    const leaf = JSON.parse(record.leaf);
    const sig = fromBase64url(leaf.sig);
    sig[10] = (sig[10] as number) ^ 1;
    record.leaf = jcs({ ...leaf, sig: toBase64url(sig) });
    lines[at] = JSON.stringify(record);
    writeFileSync(file('forged.jsonl'), lines.join('\n'));
    for (const threads of [0, 2]) {
      const { report } = await verifyBundleFile(file('forged.jsonl'), { threads, progress: false });
      expect(report.ok).toBe(false);
      expect(report.failures[0]).toMatchObject({
        kind: 'envelope',
        index: record.index,
        line: at + 1,
        message: expect.stringMatching(/^the header signature does not verify/),
      });
    }
  });

  test('a file that is not there is an error, not a verdict', async () => {
    const result = await hotline('verify', file('missing.jsonl'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`hotline: <file> ${file('missing.jsonl')} does not exist\n`);
  });
});
