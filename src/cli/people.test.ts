/**
 * The people commands as an administrator runs them: on a stopped node's data folder, then
 * through the running node's API with a person's own scoped token.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initOnLoopback } from '../../test/support/node.ts';
import { type RunningNode, startNode } from '../app/start.ts';

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
  await initOnLoopback(dir);
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

  test('user token --out a name a link already takes is refused before a token is issued', async () => {
    const link = join(root, 'svc.token');
    symlinkSync(join(root, 'nowhere', 'svc.token'), link);
    const list = async () =>
      (await hotline(['user', 'token', 'wang', '--list', '--data', dir])).stdout;
    const before = await list();
    const refused = await hotline(['user', 'token', 'wang', '--out', link, '--data', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `hotline: ${link} exists: refusing to overwrite it (give --force to replace it)\n`,
    );
    expect(await list()).toBe(before);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  }, 120_000);

  test('user token --out a file the full disk cannot hold: the token issued is revoked, and it says so', async () => {
    const file = join(root, 'full.token');
    const fullDisk = join(process.cwd(), 'test', 'support', 'full-disk.mjs');
    const failed = await hotline(['user', 'token', 'wang', '--out', file, '--data', dir], {
      env: { NODE_OPTIONS: `--import ${fullDisk}` },
    });
    expect(failed.code).toBe(1);
    const id = /after token ([0-9a-f]{16}) was issued/.exec(failed.stderr)?.[1];
    expect(failed.stderr).toBe(
      `hotline: ${file} could not be written (no space left on the disk (ENOSPC)) after token ${id} was issued: it is revoked, nobody holds it; free the disk or give another --out, then issue one again\n`,
    );
    expect(existsSync(file)).toBe(false);
    const listed = (await hotline(['user', 'token', 'wang', '--list', '--data', dir])).stdout;
    expect(listed).toMatch(new RegExp(`^${id} .* REVOKED `, 'm'));
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

  test('a roster range that ends before it starts is refused, naming both; nothing is rostered', async () => {
    await hotline(['desk', 'staff', 'ops', 'wang', '--data', dir]);
    const reversed = await hotline([
      'roster',
      'add',
      'ops',
      'wang',
      '--from',
      '2030-01-02T08:00Z',
      '--until',
      '2030-01-01T20:00Z',
      '--data',
      dir,
    ]);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toBe(
      'hotline: E_MALFORMED: --until 2030-01-01T20:00Z is before --from 2030-01-02T08:00Z: the range ends before it starts; give the earlier time as --from\n',
    );
    const local = await hotline([
      'roster',
      'add',
      'ops',
      'wang',
      '--from',
      '2030-01-01T08:00',
      '--until',
      '2030-01-01T20:00Z',
      '--data',
      dir,
    ]);
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(
      /^hotline: E_MALFORMED: --from: "2030-01-01T08:00" has no time zone: add Z/,
    );
    const past = await hotline([
      'roster',
      'add',
      'ops',
      'wang',
      '--from',
      '2020-01-01 09:00+08:00',
      '--until',
      '2020-01-02 09:00+08:00',
      '--data',
      dir,
    ]);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(
      /^hotline: E_MALFORMED: --until 2020-01-02 09:00\+08:00 is in the past \(it is [^)]+\): a shift says who will be on duty; who was on duty is in the audit trail\n$/,
    );
    const listed = await hotline([
      'roster',
      'list',
      'ops',
      '--from',
      '2030-01-03T00:00Z',
      '--until',
      '2030-01-01T00:00Z',
      '--data',
      dir,
    ]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toBe(
      'hotline: E_MALFORMED: --until 2030-01-01T00:00Z is before --from 2030-01-03T00:00Z: the range ends before it starts; give the earlier time as --from\n',
    );
    const all = await hotline([
      'roster',
      'list',
      'ops',
      '--from',
      '2029-12-30T00:00Z',
      '--data',
      dir,
    ]);
    expect(all.stdout).toBe('No shifts.\n');
  }, 120_000);

  test('roster list with one end alone lists the week from or up to it', async () => {
    const added = await hotline([
      'roster',
      'add',
      'ops',
      'wang',
      '--from',
      '2030-01-01T08:00+08:00',
      '--until',
      '2030-01-01T20:00+08:00',
      '--data',
      dir,
    ]);
    expect(added.stderr).toBe('');
    const shift = /2030-01-01T00:00:00\.000Z to 2030-01-01T12:00:00\.000Z {2}wang/;
    const from = await hotline([
      'roster',
      'list',
      'ops',
      '--from',
      '2029-12-31T00:00Z',
      '--data',
      dir,
    ]);
    expect(from.stdout).toMatch(shift);
    const until = await hotline([
      'roster',
      'list',
      'ops',
      '--until',
      '2030-01-02T00:00Z',
      '--data',
      dir,
    ]);
    expect(until.stdout).toMatch(shift);
  }, 120_000);

  test('audit --since a time to come is refused: no entry is recorded after now', async () => {
    const since = await hotline(['audit', '--since', '2999-01-01 09:00+08:00', '--data', dir]);
    expect(since.code).toBe(1);
    expect(since.stderr).toMatch(
      /^hotline: E_MALFORMED: --since 2999-01-01 09:00\+08:00 is in the future \(it is [^)]+\): no entry is recorded after now\n$/,
    );
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
  test('desk staff without a route keeps the person’s routes and says what they are', async () => {
    await hotline(['desk', 'add', 'duty', '--name', 'Duty officer', '--data', dir]);
    const first = await hotline([
      'desk',
      'staff',
      'duty',
      'wang',
      '--email',
      'wang@example.gov',
      '--data',
      dir,
    ]);
    expect(first.stdout).toBe(
      '"wang" staffs "duty"; contact routes: console, email wang@example.gov.\n',
    );
    const again = await hotline(['desk', 'staff', 'duty', 'wang', '--data', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      '"wang" staffs "duty"; contact routes: console, email wang@example.gov.\n',
    );
    const replaced = await hotline([
      'desk',
      'staff',
      'duty',
      'wang',
      '--no-console',
      '--data',
      dir,
    ]);
    expect(replaced.stdout).toBe(
      '"wang" staffs "duty"; contact routes: none.\nRemoved: console, email wang@example.gov.\n',
    );
  }, 120_000);

  test('desk unstaff is refused while the person is rostered there, and for a desk’s last person', async () => {
    const staffOf = async (desk: string) => {
      const desks = JSON.parse((await hotline(['desk', 'list', '--json', '--data', dir])).stdout);
      return (desks as Array<{ id: string; staff: Array<{ user: string }> }>)
        .find((d) => d.id === desk)
        ?.staff.map((s) => s.user);
    };
    const rostered = await hotline(['desk', 'unstaff', 'ops', 'wang', '--data', dir]);
    expect(rostered.code).toBe(1);
    expect(rostered.stderr).toMatch(
      /^hotline: E_CONFLICT: "wang" is rostered at "ops" \(shift \d+, 2030-01-01T00:00:00\.000Z to 2030-01-01T12:00:00\.000Z\): cancel that shift first \(hotline roster cancel <id>\), then take them off the desk\n$/,
    );
    expect(await staffOf('ops')).toEqual(['admin', 'wang']);
    const last = await hotline(['desk', 'unstaff', 'duty', 'wang', '--data', dir]);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe(
      'hotline: E_CONFLICT: "wang" is the only person staffing "duty": nobody could write as it; add someone else to its staff first (hotline desk staff duty <user>)\n',
    );
    expect(await staffOf('duty')).toEqual(['wang']);
    await hotline(['desk', 'staff', 'duty', 'admin', '--data', dir]);
    const unstaffed = await hotline(['desk', 'unstaff', 'duty', 'wang', '--data', dir]);
    expect(unstaffed.stdout).toBe('"wang" no longer staffs "duty".\n');
    expect(await staffOf('duty')).toEqual(['admin']);
  }, 120_000);

  test('a token is revoked once, as its own user’s; a refused HOTLINE_TOKEN is named', async () => {
    const issued = JSON.parse(
      (await hotline(['user', 'token', 'wang', '--scope', 'read', '--json', '--data', dir])).stdout,
    ) as { token: string; info: { id: string } };
    const { id } = issued.info;
    const other = await hotline(['user', 'token', 'admin', '--revoke', id, '--data', dir]);
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(
      `hotline: E_NOT_FOUND: "admin" has no token "${id}": it is "wang"'s (hotline user token wang --revoke ${id})\n`,
    );
    const revoked = await hotline(['user', 'token', 'wang', '--revoke', id, '--data', dir]);
    expect(revoked.stdout).toBe(`Revoked token ${id} of "wang".\n`);
    const twice = await hotline(['user', 'token', 'wang', '--revoke', id, '--data', dir]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(
      new RegExp(`^hotline: E_CONFLICT: token "${id}" of "wang" was already revoked at \\d{4}-`),
    );
    const refused = await hotline(['roster', 'duty', 'ops', '--data', dir], {
      env: { HOTLINE_TOKEN: issued.token },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'hotline: E_UNAUTHORIZED: the node refused the token in HOTLINE_TOKEN (expired, revoked or unknown): set HOTLINE_TOKEN to a live token (hotline user token), or unset it to use the data folder’s operator.token\n',
    );
  }, 120_000);

  test('audit refuses an action it never records and an actor who is nobody', async () => {
    const nope = await hotline(['audit', '--action', 'nope.nope', '--data', dir]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(
      /^hotline: E_MALFORMED: --action: no action is "nope\.nope": the trail records login, logout, .*audit\.verify\n$/,
    );
    const family = await hotline(['audit', '--action', 'draft.aprove', '--data', dir]);
    expect(family.stderr).toBe(
      'hotline: E_MALFORMED: --action: no action is "draft.aprove": the trail records draft.submit, draft.approve, draft.reject, draft.break-glass\n',
    );
    const upper = await hotline(['audit', '--actor', 'ADMIN', '--data', dir]);
    expect(upper.code).toBe(1);
    expect(upper.stderr).toBe(
      'hotline: E_NOT_FOUND: there is no user "ADMIN" and no entry by that actor: user names are lowercase and told apart by case (did you mean "admin"?)\n',
    );
    const nobody = await hotline(['audit', '--actor', 'nobody', '--data', dir]);
    expect(nobody.stderr).toBe(
      'hotline: E_NOT_FOUND: there is no user "nobody" and no entry by that actor (hotline user list shows the users)\n',
    );
    const known = await hotline([
      'audit',
      '--actor',
      'admin',
      '--action',
      'token.revoke',
      '--data',
      dir,
    ]);
    expect(known.code).toBe(0);
    expect(known.stdout).toContain('token.revoke wang');
  }, 120_000);

  test('user unlock of an account that is not locked says so', async () => {
    const unlocked = await hotline(['user', 'unlock', 'admin', '--data', dir]);
    expect(unlocked.code).toBe(1);
    expect(unlocked.stderr).toBe(
      'hotline: E_CONFLICT: "admin" is not locked and has no failed logins to clear: it can sign in\n',
    );
  }, 120_000);

  test('a ladder desk is not left with nobody reachable: refused, or alarmed until someone is', async () => {
    const cli = async (...args: string[]) => hotline([...args, '--data', dir]);
    await cli('user', 'add', 'li', '--role', 'operator');
    await cli('desk', 'add', 'principal', '--name', 'Principal');
    for (const name of ['wang', 'li']) await cli('desk', 'staff', 'principal', name);
    const hour = 3_600_000;
    const added = await cli(
      'roster',
      'add',
      'principal',
      'wang',
      '--from',
      new Date(Date.now() - hour).toISOString(),
      '--until',
      new Date(Date.now() + hour).toISOString(),
    );
    const shift = added.stdout.match(/^Shift (\d+):/)?.[1] ?? 'none';
    const onDuty = async () => (await cli('roster', 'duty', 'principal')).stdout;
    expect(await onDuty()).toMatch(/^wang is on duty at principal/);

    const unrouted = await cli('desk', 'staff', 'principal', 'wang', '--no-console');
    expect(unrouted.code).toBe(1);
    expect(unrouted.stderr).toBe(
      'hotline: E_CONFLICT: taking every contact route of "wang" would leave "principal", a desk of the escalation ladder, with nobody reachable on duty now (wang, on duty at "principal", has no contact route there): roster one of li there first (hotline roster add principal <user>)\n',
    );
    const cancelled = await cli('roster', 'cancel', shift);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stderr).toMatch(
      /^hotline: E_CONFLICT: cancelling shift \d+ of "wang" would leave "principal", a desk of the escalation ladder, with nobody reachable on duty now \(nobody is on duty at "principal"\): roster one of li there first \(hotline roster add principal <user>\)\n$/,
    );
    expect(await onDuty()).toMatch(/^wang is on duty at principal/);

    // Disabling a compromised account is never refused: the gap it leaves is a standing alarm.
    const ladderAlarms = async () =>
      ((await cli('status', '--json')).stdout.match(/nobody-on-duty/g) ?? []).length;
    const disabled = await cli('user', 'disable', 'wang');
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toBe(
      'Disabled "wang"; its sessions ended and its tokens were revoked.\nALARM: nobody reachable is on duty at "principal" now, a desk of the escalation ladder: roster someone there (hotline roster add principal <user>).\n',
    );
    expect(await ladderAlarms()).toBe(1);
    const passwd = await hotline(['user', 'passwd', 'wang', '--data', dir, '--password-stdin'], {
      input: 'wang-passphrase-2\n',
    });
    expect(passwd.stdout).toMatch(
      /^Set the password of "wang"; its console sessions ended\.\n"wang" stays disabled \(since .*\): it cannot sign in until enabled \(hotline user enable wang\)\.\n$/,
    );
    const enabled = await cli('user', 'enable', 'wang');
    expect(enabled.stdout).toBe(
      'Enabled "wang": it can sign in again with its password; issue new tokens.\n',
    );
    expect(await onDuty()).toMatch(/^wang is on duty at principal/);
    expect(await ladderAlarms()).toBe(0);
    const again = await cli('user', 'enable', 'wang');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('hotline: E_CONFLICT: "wang" is not disabled: it can sign in\n');
  }, 120_000);
});
