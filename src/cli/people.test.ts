/**
 * The people commands as an administrator runs them: on a stopped node's data folder, then
 * through the running node's API with a person's own scoped token.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../test/support/ports.ts';
import { type RunningNode, startNode } from '../app/start.ts';
import { initNode } from '../node/core/data.ts';

async function hotline(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'node',
      ['bin/hotline.js', ...args],
      { env: { ...process.env, HOTLINE_TOKEN: '', ...options.env } },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

let root: string;
let dir: string;
let running: RunningNode | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hotline-people-'));
  dir = join(root, 'us');
  const listen = `127.0.0.1:${await freePort()}`;
  const operatorListen = `127.0.0.1:${await freePort()}`;
  await initNode(dir, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: [`http://${listen}`],
    listen,
    operatorListen,
  });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('hotline user, desk, roster and audit', () => {
  test('with the node stopped, user add works on the data folder', async () => {
    const added = await hotline(
      ['user', 'add', 'wang', '--role', 'operator', '--data', dir, '--password-stdin'],
      { input: 'wang-passphrase-1\n' },
    );
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe('Added operator "wang".\n');
    const token = await hotline([
      'user',
      'token',
      'wang',
      '--scope',
      'read',
      '--out',
      join(root, 'wang.token'),
      '--data',
      dir,
    ]);
    expect(token.stdout).toMatch(/^Wrote token [0-9a-f]{16} \(read\) to /);
  }, 120_000);

  test('the node anchors what was done on the folder; audit lists it and verifies it', async () => {
    running = await startNode(dir, { logLevel: 'silent' });
    const listed = await hotline(['audit', '--data', dir, '--json', '--limit', '20']);
    const entries = JSON.parse(listed.stdout) as Array<{
      action: string;
      target: string;
      via: string;
      actor: string;
      leafIndex: number | null;
    }>;
    const add = entries.find((e) => e.action === 'user.add' && e.target === 'wang');
    expect(add).toMatchObject({ via: 'data-folder', actor: expect.stringMatching(/^os:/) });
    expect(add?.leafIndex).toEqual(expect.any(Number));
    const verified = await hotline(['audit', '--verify', '--data', dir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/0 waiting for the node/);
    expect(verified.stdout).toContain('The audit trail is intact.');
  }, 120_000);

  test('a person’s own read-only token cannot manage accounts: one line, non-zero', async () => {
    const token = readFileSync(join(root, 'wang.token'), 'utf8').trim();
    const refused = await hotline(['user', 'list', '--data', dir], {
      env: { HOTLINE_TOKEN: token },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'hotline: E_FORBIDDEN: operator "wang" may not GET /api/v1/users: it needs the role admin\n',
    );
    const duty = await hotline(['roster', 'duty', 'ops', '--data', dir], {
      env: { HOTLINE_TOKEN: token },
    });
    expect(duty.stdout).toMatch(/^Nobody is on duty at ops: no shift at "ops" covers /);
  }, 120_000);

  test('user unlock clears a lockout after failed logins', async () => {
    const accounts = running?.people.accounts;
    if (!accounts) throw new Error('the node is not running');
    for (let i = 0; i < 5; i++)
      await accounts.login('wang', 'not the password', `10.0.3.${i}`).catch(() => undefined);
    expect((await accounts.get('wang')).lockedUntil).not.toBeNull();
    const unlocked = await hotline(['user', 'unlock', 'wang', '--data', dir]);
    expect(unlocked.stderr).toBe('');
    expect(unlocked.stdout).toBe('Unlocked "wang": it can sign in again.\n');
    expect((await accounts.get('wang')).lockedUntil).toBeNull();
    await expect(accounts.login('wang', 'wang-passphrase-1', '10.0.3.9')).resolves.toBeDefined();
  }, 120_000);
});
