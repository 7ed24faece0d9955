/**
 * People commands: `hotline user add|list|disable|enable|passwd|token`, `hotline audit`, `hotline desk`,
 * `hotline roster`, `hotline handover` and `hotline alarm clear`. Each goes through the operator
 * API of the running node, or works on a stopped node's data folder (src/cli/client.ts).
 */
import { type Command, Option } from 'commander';
import { ROLES, SCOPES } from '../node/people/roles.ts';
import type { ContactRoute } from '../protocol/roster.ts';
import type { AuditItem, Duty, HandoverView, ShiftView, TrailReport } from '../protocol/views.ts';
import { CliError, callNode, callPeople, type OptionNames } from './client.ts';
import {
  eachOnce,
  systemErrorSentence,
  typedRange,
  typedTime,
  urlKey,
  wholeNumber,
  writeOutput,
} from './inputs.ts';

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();

/** A password from stdin (`--password-stdin`), or a generated one to show once. */
async function passwordFrom(o: { passwordStdin?: boolean }): Promise<{
  password: string;
  generated: boolean;
}> {
  if (!o.passwordStdin) {
    const { generatePassword } = await import('../node/people/accounts.ts');
    return { password: generatePassword(), generated: true };
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!password) throw new CliError('no password on stdin');
  return { password, generated: false };
}

const q = encodeURIComponent;

/** A contact route as `desk list` shows it: `console`, `email a@b.org`, `webhook https://…`. */
const routeText = (r: ContactRoute) =>
  r.kind === 'console' ? 'console' : r.kind === 'email' ? `email ${r.address}` : `webhook ${r.url}`;
const routesText = (routes: ContactRoute[]) =>
  routes.length ? routes.map(routeText).join(', ') : 'none';
/** An account named by `<name>`, and what `user add|passwd|token` fill in for it. */
const USER_OPTIONS: OptionNames = {
  'params/name': '<name>',
  'body/name': '<name>',
  'body/role': '--role',
  'body/password': '--password-stdin',
  'body/displayName': '--display-name',
  'body/label': '--label',
  'body/scopes': '--scope',
  'body/scopes/<i>': '--scope #<i+1>',
  'body/expiresAt': '--expires-days',
  'querystring/user': '<name>',
  'params/id': '--revoke',
};
/** A desk named by `<desk>` (or `<id>` when created), its staff and its shifts. */
const DESK_OPTIONS: OptionNames = {
  'params/desk': '<desk>',
  'params/user': '<user>',
  'body/id': '<id>',
  'body/name': '--name',
  'body/user': '<user>',
  'body/startsAt': '--from',
  'body/endsAt': '--until',
  'querystring/from': '--from',
  'querystring/to': '--until',
  'querystring/at': '--at',
};
const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export function registerPeople(program: Command): void {
  const user = program.command('user').description('operator accounts and their CLI tokens');

  user
    .command('add <name>')
    .description('create an account; prints its password once unless --password-stdin')
    .addOption(dataOption())
    .addOption(new Option('--role <role>', 'its role').choices(ROLES).makeOptionMandatory())
    .option('--display-name <name>', 'the person’s name, shown locally only')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (name: string, o) => {
      const { password, generated } = await passwordFrom(o);
      await callPeople(
        o.data,
        'POST',
        '/api/v1/users',
        {
          name,
          role: o.role,
          password,
          ...(o.displayName ? { displayName: o.displayName } : {}),
        },
        USER_OPTIONS,
      );
      console.log(`Added ${o.role} "${name}".`);
      if (generated) console.log(`Password (shown once): ${password}`);
    });

  user
    .command('list')
    .description('list accounts')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const users = (await callPeople(o.data, 'GET', '/api/v1/users')) as Array<{
        name: string;
        role: string;
        displayName: string | null;
        disabledAt: string | null;
        lockedUntil: string | null;
      }>;
      if (o.json) return json(users);
      for (const u of users)
        console.log(
          `${u.name.padEnd(20)} ${u.role.padEnd(9)}${u.disabledAt ? ` DISABLED ${u.disabledAt}` : ''}${u.lockedUntil ? ` locked until ${u.lockedUntil}` : ''}${u.displayName ? `  (${u.displayName})` : ''}`,
        );
    });

  user
    .command('disable <name>')
    .description('disable an account: its sessions and tokens stop working at once')
    .addOption(dataOption())
    .action(async (name: string, o) => {
      const disabled = (await callPeople(
        o.data,
        'POST',
        `/api/v1/users/${q(name)}/disable`,
        undefined,
        USER_OPTIONS,
      )) as { unreachableDesks?: string[] };
      console.log(`Disabled "${name}"; its sessions ended and its tokens were revoked.`);
      for (const desk of disabled.unreachableDesks ?? [])
        console.log(
          `ALARM: nobody reachable is on duty at "${desk}" now, a desk of the escalation ladder: roster someone there (hotline roster add ${desk} <user>).`,
        );
    });

  user
    .command('enable <name>')
    .description('enable a disabled account again (its old sessions and tokens stay ended)')
    .addOption(dataOption())
    .action(async (name: string, o) => {
      await callPeople(o.data, 'POST', `/api/v1/users/${q(name)}/enable`, undefined, USER_OPTIONS);
      console.log(`Enabled "${name}": it can sign in again with its password; issue new tokens.`);
    });

  user
    .command('unlock <name>')
    .description('clear an account’s lockout after failed logins (officer or admin; not your own)')
    .addOption(dataOption())
    .action(async (name: string, o) => {
      await callPeople(o.data, 'POST', `/api/v1/users/${q(name)}/unlock`, undefined, USER_OPTIONS);
      console.log(`Unlocked "${name}": it can sign in again.`);
    });

  user
    .command('passwd <name>')
    .description('set a new password (also unlocks a locked account); prints it once')
    .addOption(dataOption())
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (name: string, o) => {
      const { password, generated } = await passwordFrom(o);
      const user = (await callPeople(
        o.data,
        'POST',
        `/api/v1/users/${q(name)}/password`,
        { password },
        USER_OPTIONS,
      )) as { disabledAt: string | null };
      console.log(`Set the password of "${name}"; its console sessions ended.`);
      if (user.disabledAt)
        console.log(
          `"${name}" stays disabled (since ${user.disabledAt}): it cannot sign in until enabled (hotline user enable ${name}).`,
        );
      if (generated) console.log(`Password (shown once): ${password}`);
    });

  user
    .command('token <name>')
    .description('issue a scoped bearer token for the CLI (or --list, --revoke)')
    .addOption(dataOption())
    .addOption(
      new Option('--scope <scope...>', 'what it may do (default: all its role allows)').choices(
        SCOPES,
      ),
    )
    .option('--label <label>', 'what it is for', 'cli')
    .option(
      '--expires-days <n>',
      'expire after this many days',
      wholeNumber('--expires-days', 1, 3650),
    )
    .option(
      '--out <file>',
      'write the token to this file (mode 600; never overwritten) instead of printing it',
    )
    .option('--force', 'replace the --out file if it exists, e.g. a service’s token file')
    .addOption(
      new Option('--list', 'list the user’s tokens instead').conflicts([
        'revoke',
        'scope',
        'label',
        'expiresDays',
        'out',
      ]),
    )
    .addOption(
      new Option('--revoke <id>', 'revoke the token with this id instead').conflicts([
        'scope',
        'label',
        'expiresDays',
        'out',
      ]),
    )
    .option('--json', 'print JSON')
    .action(async (name: string, o) => {
      if (o.list) {
        const tokens = (await callPeople(
          o.data,
          'GET',
          `/api/v1/tokens?user=${q(name)}`,
          undefined,
          USER_OPTIONS,
        )) as Array<{
          id: string;
          label: string;
          scopes: string[];
          createdAt: string;
          lastUsedAt: string | null;
          revokedAt: string | null;
          expiresAt: string | null;
        }>;
        if (o.json) return json(tokens);
        for (const t of tokens)
          console.log(
            `${t.id}  ${t.scopes.join(',').padEnd(16)} ${t.label}  created ${t.createdAt}  last used ${t.lastUsedAt ?? 'never'}${t.revokedAt ? `  REVOKED ${t.revokedAt}` : ''}${t.expiresAt ? `  expires ${t.expiresAt}` : ''}`,
          );
        return;
      }
      if (o.revoke) {
        const revoked = (await callPeople(
          o.data,
          'DELETE',
          `/api/v1/tokens/${q(o.revoke)}?user=${q(name)}`,
          undefined,
          USER_OPTIONS,
        )) as { id: string; user: string };
        console.log(`Revoked token ${revoked.id} of "${revoked.user}".`);
        return;
      }
      const days = o.expiresDays as number | undefined;
      const issue = async () =>
        (await callPeople(
          o.data,
          'POST',
          `/api/v1/users/${q(name)}/tokens`,
          {
            label: o.label,
            ...(o.scope ? { scopes: o.scope } : {}),
            ...(days ? { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
          },
          USER_OPTIONS,
        )) as { token: string; info: { id: string; scopes: string[] } };
      if (o.out && !o.json) {
        // The file is claimed first: a token is never issued that could not then be written.
        let made: Awaited<ReturnType<typeof issue>> | undefined;
        const issued = await writeOutput(o.out, { force: o.force, mode: 0o600 }, async (write) => {
          made = await issue();
          write(`${made.token}\n`);
          return made;
        }).catch(async (e: unknown) => {
          // Issued, but the file failed (a full disk): the token was never shown, so none keeps it.
          if (!made) throw e;
          throw await revokeUnwritten(o.data, name, made.info.id, o.out, e);
        });
        console.log(
          `Wrote token ${issued.info.id} (${issued.info.scopes.join(', ')}) to ${o.out}.`,
        );
      } else {
        const issued = await issue();
        if (o.json) return json(issued);
        console.log(
          `Token ${issued.info.id} for "${name}" (${issued.info.scopes.join(', ')}), shown once:`,
        );
        console.log(issued.token);
      }
      console.log('Use it with: export HOTLINE_TOKEN=…   (or revoke it: --revoke <id>)');
    });

  program
    .command('audit')
    .description('the local audit trail: who did what, when and from where (admins)')
    .addOption(dataOption())
    .option('--actor <name>', 'only this actor')
    .option('--action <action>', 'only this action, e.g. login, message.view, user.add')
    .option('--since <time>', 'only from this time on, at the latest now (e.g. 2026-12-07T08:00Z)')
    .option(
      '--limit <n>',
      'how many, newest first (at most 10000)',
      wholeNumber('--limit', 1, 10_000),
      50,
    )
    .addOption(
      new Option('--verify', 'check every entry against its ledger anchor instead').conflicts([
        'actor',
        'action',
        'since',
        'limit',
      ]),
    )
    .option('--json', 'print JSON')
    .action(async (o) => {
      if (o.verify) {
        const report = (await callPeople(o.data, 'GET', '/api/v1/audit/verify')) as TrailReport;
        if (o.json) json(report);
        else {
          console.log(
            `${report.entries} entries: ${report.anchored} anchored in the ledger, ${report.pending} waiting for the node to anchor them`,
          );
          for (const p of report.problems) console.log(`  entry ${p.entry}: ${p.problem}`);
          console.log(
            report.ok ? 'The audit trail is intact.' : 'THE AUDIT TRAIL WAS TAMPERED WITH.',
          );
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const params = new URLSearchParams({ limit: String(o.limit) });
      if (o.actor) params.set('actor', o.actor);
      if (o.action) params.set('action', o.action);
      const since = o.since === undefined ? undefined : typedTime(o.since, '--since');
      if (since) params.set('since', since);
      const entries = (await callPeople(
        o.data,
        'GET',
        `/api/v1/audit?${params}`,
        undefined,
        {
          'querystring/actor': '--actor',
          'querystring/action': '--action',
          'querystring/since': '--since',
          'querystring/limit': '--limit',
        },
        since ? { [since]: o.since } : {},
      )) as AuditItem[];
      if (o.json) return json(entries);
      if (!entries.length) console.log('No entries.');
      for (const e of entries) {
        const detail = Object.keys(e.detail).length ? `  ${JSON.stringify(e.detail)}` : '';
        console.log(
          `#${e.id} ${e.at}  ${e.actor ?? '(anonymous)'} [${e.via}] from ${e.source}  ${e.action}${e.target ? ` ${e.target}` : ''}  ${e.outcome.toUpperCase()}${detail}`,
        );
      }
    });

  const desk = program.command('desk').description('desks and the people who staff them');
  desk
    .command('add <id>')
    .description('create a desk, e.g. duty-officer')
    .addOption(dataOption())
    .requiredOption('--name <name>', 'its name, e.g. "Duty officer"')
    .action(async (id: string, o) => {
      await callPeople(o.data, 'POST', '/api/v1/desks', { id, name: o.name }, DESK_OPTIONS);
      console.log(`Added the desk "${id}" (${o.name}).`);
    });
  desk
    .command('list')
    .description('desks, their staff and contact routes')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const desks = (await callPeople(o.data, 'GET', '/api/v1/desks')) as Array<{
        id: string;
        name: string;
        staff: Array<{ user: string; routes: ContactRoute[] }>;
      }>;
      if (o.json) return json(desks);
      for (const d of desks) {
        console.log(`${d.id}  ${d.name}`);
        for (const s of d.staff)
          console.log(`    ${s.user}  ${s.routes.map(routeText).join(', ') || 'no contact route'}`);
      }
    });
  desk
    .command('staff <desk> <user>')
    .description(
      'add a person to a desk’s staff, or set how to reach them there (the routes given replace theirs; none given keeps them)',
    )
    .addOption(dataOption())
    .option('--no-console', 'not reached on the console')
    .option(
      '--email <address>',
      'reach them by e-mail (repeat)',
      eachOnce('--email', 'address', (a) => a.toLowerCase()),
      [],
    )
    .option(
      '--webhook <url>',
      'reach them by webhook (repeat)',
      eachOnce('--webhook', 'URL', urlKey),
      [],
    )
    .action(async (deskId: string, name: string, o, command: Command) => {
      const routes = [
        ...(o.console ? [{ kind: 'console' }] : []),
        ...o.email.map((address: string) => ({ kind: 'email', address })),
        ...o.webhook.map((url: string) => ({ kind: 'webhook', url })),
      ];
      // The console's route comes first unless --no-console: each other one names its option.
      const routeOptions = Object.fromEntries(
        routes.flatMap((r, i) => {
          const option = r.kind === 'console' ? '--console' : `--${r.kind} ${r.address ?? r.url}`;
          return [
            [`body/routes/${i}`, option],
            [`body/routes/${i}/${r.kind === 'email' ? 'address' : 'url'}`, option],
          ];
        }),
      );
      // No route option: the node keeps the routes the person has there.
      const given =
        o.email.length > 0 ||
        o.webhook.length > 0 ||
        command.getOptionValueSource('console') === 'cli';
      const staffed = (await callPeople(
        o.data,
        'PUT',
        `/api/v1/desks/${q(deskId)}/staff/${q(name)}`,
        given ? { routes } : {},
        { ...DESK_OPTIONS, ...routeOptions },
      )) as { routes: ContactRoute[]; before: ContactRoute[] | null };
      console.log(`"${name}" staffs "${deskId}"; contact routes: ${routesText(staffed.routes)}.`);
      const removed = (staffed.before ?? []).filter(
        (r) => !staffed.routes.some((now) => routeText(now) === routeText(r)),
      );
      if (removed.length) console.log(`Removed: ${routesText(removed)}.`);
    });
  desk
    .command('unstaff <desk> <user>')
    .description(
      'remove a person from a desk’s staff (cancel their shifts there first; not its last person)',
    )
    .addOption(dataOption())
    .action(async (deskId: string, name: string, o) => {
      await callPeople(
        o.data,
        'DELETE',
        `/api/v1/desks/${q(deskId)}/staff/${q(name)}`,
        undefined,
        DESK_OPTIONS,
      );
      console.log(`"${name}" no longer staffs "${deskId}".`);
    });

  const roster = program.command('roster').description('the duty roster: shifts per desk');
  roster
    .command('add <desk> <user>')
    .description('roster a shift; shifts of one desk may not overlap')
    .addOption(dataOption())
    .requiredOption('--from <time>', 'start, with its zone, e.g. 2026-01-01T08:00Z')
    .requiredOption('--until <time>', 'end (exclusive), after --from, e.g. 2026-01-01T20:00Z')
    .action(async (deskId: string, name: string, o) => {
      const { from, until } = typedRange(['--from', o.from], ['--until', o.until], {
        exclusive: true,
      });
      const shift = (await callPeople(
        o.data,
        'POST',
        `/api/v1/desks/${q(deskId)}/shifts`,
        { user: name, startsAt: from, endsAt: until },
        DESK_OPTIONS,
        { [from as string]: o.from, [until as string]: o.until },
      )) as ShiftView;
      console.log(
        `Shift ${shift.id}: ${shift.user} at ${shift.desk}, ${shift.startsAt} to ${shift.endsAt}.`,
      );
    });
  roster
    .command('list <desk>')
    .description(
      'shifts of a desk (default: from a day ago to a week ahead; one end alone: a week from or to it)',
    )
    .addOption(dataOption())
    .option('--from <time>', 'shifts ending after this time, e.g. 2026-12-07T00:00Z')
    .option('--until <time>', 'shifts starting before this time, not before --from')
    .option('--json', 'print JSON')
    .action(async (deskId: string, o) => {
      const range = typedRange(['--from', o.from], ['--until', o.until]);
      const params = new URLSearchParams();
      if (range.from) params.set('from', range.from);
      if (range.until) params.set('to', range.until);
      const shifts = (await callPeople(
        o.data,
        'GET',
        `/api/v1/desks/${q(deskId)}/shifts${params.size ? `?${params}` : ''}`,
        undefined,
        DESK_OPTIONS,
      )) as ShiftView[];
      if (o.json) return json(shifts);
      if (!shifts.length) console.log('No shifts.');
      for (const s of shifts)
        console.log(`${String(s.id).padStart(5)}  ${s.startsAt} to ${s.endsAt}  ${s.user}`);
    });
  roster
    .command('cancel <shiftId>')
    .description('cancel a shift')
    .addOption(dataOption())
    .action(async (id: string, o) => {
      await callPeople(o.data, 'DELETE', `/api/v1/shifts/${q(id)}`, undefined, {
        'params/id': '<shiftId>',
      });
      console.log(`Cancelled shift ${id}.`);
    });
  roster
    .command('duty <desk>')
    .description('who is on duty at a desk now (or --at a time)')
    .addOption(dataOption())
    .option('--at <time>', 'at this time instead of now, with its zone (e.g. 2026-12-07T03:00Z)')
    .option('--json', 'print JSON')
    .action(async (deskId: string, o) => {
      const at = o.at ? `?at=${q(typedTime(o.at, '--at'))}` : '';
      const duty = (await callPeople(
        o.data,
        'GET',
        `/api/v1/desks/${q(deskId)}/duty${at}`,
        undefined,
        DESK_OPTIONS,
      )) as Duty;
      if (o.json) return json(duty);
      console.log(
        duty.onDuty
          ? `${duty.onDuty.user} is on duty at ${duty.desk} (shift ${duty.onDuty.shift.id}, until ${duty.onDuty.shift.endsAt})`
          : `Nobody is on duty at ${duty.desk}: ${duty.reason}`,
      );
      if (duty.next) console.log(`Next: ${duty.next.user} from ${duty.next.startsAt}`);
    });

  const handover = program
    .command('handover')
    .description(
      'shift handover: the outgoing person hands over open items; the incoming confirms',
    );
  handover
    .command('give <desk>')
    .description('hand the desk’s open items to the next person rostered (you must be on duty)')
    .addOption(dataOption())
    .option('--message <id>', 'an open message (repeat)', eachOnce('--message', 'message'), [])
    .option('--alarm <id>', 'an open alarm (repeat)', eachOnce('--alarm', 'alarm'), [])
    .option('--item <text>', 'an open item in words (repeat)', eachOnce('--item', 'item'), [])
    .option('--note <text>', 'a note for the incoming person')
    .option('--to <user>', 'hand over to this person instead of the next one rostered')
    .action(async (deskId: string, o) => {
      const items = [
        ...o.message.map((id: string) => ({ kind: 'message', id })),
        ...o.alarm.map((id: string) => ({ kind: 'alarm', id: Number(id) })),
        ...o.item.map((note: string) => ({ kind: 'note', note })),
      ];
      const itemOptions = Object.fromEntries([
        ...o.message.map((id: string, i: number) => [`body/items/${i}`, `--message ${id}`]),
        ...o.alarm.map((id: string, i: number) => [
          `body/items/${o.message.length + i}`,
          `--alarm ${id}`,
        ]),
        ...o.item.map((_: string, i: number) => [
          `body/items/${o.message.length + o.alarm.length + i}`,
          `--item #${i + 1}`,
        ]),
      ]);
      const h = (await callNode(
        o.data,
        'POST',
        `/api/v1/desks/${q(deskId)}/handovers`,
        { items, ...(o.note ? { note: o.note } : {}), ...(o.to ? { to: o.to } : {}) },
        { 'params/desk': '<desk>', 'body/note': '--note', 'body/to': '--to', ...itemOptions },
      )) as HandoverView;
      console.log(
        `Handover ${h.id} of ${h.desk} to ${h.to}: ${h.items.length} items; waiting for ${h.to} to confirm.`,
      );
    });
  handover
    .command('confirm <id>')
    .description('confirm you received a handover')
    .addOption(dataOption())
    .action(async (id: string, o) => {
      const h = (await callNode(o.data, 'POST', `/api/v1/handovers/${q(id)}/confirm`, undefined, {
        'params/id': '<id>',
      })) as HandoverView;
      console.log(`Confirmed handover ${h.id} of ${h.desk} from ${h.from} at ${h.confirmedAt}.`);
    });
  handover
    .command('list')
    .description('recent handovers, confirmed or not')
    .addOption(dataOption())
    .option('--desk <desk>', 'only this desk')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const list = (await callNode(
        o.data,
        'GET',
        `/api/v1/handovers${o.desk ? `?desk=${q(o.desk)}` : ''}`,
        undefined,
        { 'querystring/desk': '--desk' },
      )) as HandoverView[];
      if (o.json) return json(list);
      if (!list.length) console.log('No handovers.');
      for (const h of list)
        console.log(
          `${h.id}  ${h.desk}  ${h.from} → ${h.to}  ${h.items.length} items  ${h.confirmedAt ? `confirmed ${h.confirmedAt}` : 'NOT CONFIRMED'}`,
        );
    });

  program
    .command('alarm')
    .description('durable alarms')
    .command('clear <id>')
    .description('acknowledge and clear an alarm (officers and admins; audited and logged)')
    .addOption(dataOption())
    .option('--note <text>', 'what was done about it')
    .action(async (id: string, o) => {
      await callNode(
        o.data,
        'POST',
        `/api/v1/alarms/${q(id)}/clear`,
        o.note ? { note: o.note } : {},
        { 'params/id': '<id>', 'body/note': '--note' },
      );
      console.log(`Cleared alarm ${id}.`);
    });
}

/**
 * The refusal for a token issued whose `--out` file could not be completed: it is revoked, as
 * nobody holds it; if revoking fails too, the sentence says how to revoke it by hand.
 */
async function revokeUnwritten(
  data: string,
  user: string,
  id: string,
  file: string,
  failure: unknown,
): Promise<CliError> {
  const why = systemErrorSentence(failure) ?? (failure as Error).message;
  const unwritten = `${file} could not be written (${why}) after token ${id} was issued`;
  try {
    await callPeople(data, 'DELETE', `/api/v1/tokens/${q(id)}?user=${q(user)}`);
  } catch (e) {
    return new CliError(
      `${unwritten}, and revoking it failed too (${(e as Error).message}): revoke it with hotline user token ${user} --revoke ${id}`,
    );
  }
  return new CliError(
    `${unwritten}: it is revoked, nobody holds it; free the disk or give another --out, then issue one again`,
  );
}
