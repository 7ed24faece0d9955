/**
 * `hotline drafts | approve | reject | break-glass` (the two-person rule), `hotline drill` and
 * `hotline readiness` (docs/operators.md). All go through the running node's operator API, as the
 * token's person: the node, not the CLI, enforces who may decide what.
 */
import { type Command, Option } from 'commander';
import { PRECEDENCES } from '../protocol/values.ts';
import type { Readiness, TemplateView } from '../protocol/views.ts';
import { CliError, callNode, type OptionNames, toPinned } from './client.ts';
import { eachOnce, malformed, wholeNumber } from './inputs.ts';

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();

/** Your second factor, asked again before approving a flash message or breaking glass. */
export const secondFactorOption = () =>
  new Option(
    '--second-factor <code>',
    'your second factor: a code from your authenticator app, or a recovery code',
  );

/** The request's step-up part for `--second-factor`: six to eight digits are an app's code. */
/** The request paths `stepUpOf` fills under `at` (e.g. `body`), all given by `--second-factor`. */
export function stepUpNames(at: string): OptionNames {
  return {
    [`${at}/stepUp`]: '--second-factor',
    [`${at}/stepUp/totp`]: '--second-factor',
    [`${at}/stepUp/recoveryCode`]: '--second-factor',
  };
}

export function stepUpOf(code: string | undefined) {
  if (!code) return {};
  return /^[0-9]{6,8}$/.test(code.trim())
    ? { stepUp: { totp: code.trim() } }
    : { stepUp: { recoveryCode: code.trim() } };
}

/**
 * A release asks for a second factor only to break glass: given without `--break-glass`, it is
 * said on stderr once the request is answered (not refused: an extra option must not stop a send
 * in an emergency).
 */
export function warnUnusedSecondFactor(o: { secondFactor?: string; breakGlass?: string }): void {
  if (o.breakGlass === undefined)
    unusedSecondFactor(o.secondFactor, 'a release asks for it only with --break-glass');
}

/** `--second-factor`, when given, said on stderr to be unused, and why. */
function unusedSecondFactor(given: string | undefined, why: string): void {
  if (given !== undefined)
    console.error(`Warning: --second-factor was not needed and not used: ${why}`);
}

interface DraftView {
  id: string;
  createdAt: string;
  author: string;
  desk: string;
  to: string[];
  message: { type: string; precedence: string; status: string; text?: { body: string } };
  state: string;
  decidedBy: string | null;
  note: string | null;
  breakGlass: string | null;
  messageId: string | null;
}

interface Released {
  id: string;
  seq: Record<string, number>;
  draft: string | null;
}

const DRAFT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Checked in the action, so a bad value fails in one line like every other error. */
function draftId(value: string): string {
  if (!DRAFT_ID.test(value))
    throw malformed(`<id> "${value}" is not a draft id (hotline drafts lists them)`);
  return value;
}

/** "Released <id> (cn #4)". */
export function releasedLine(r: Released): string {
  const seqs = Object.entries(r.seq)
    .map(([p, s]) => `${p} #${s}`)
    .join(', ');
  return `Released ${r.id} (${seqs})`;
}

/** A message the two-person rule holds: its draft, and how a second officer releases it. */
export function heldLine({ draft }: { draft: string | null }): string {
  return `Held for a second officer (two-person rule): draft ${draft} — "hotline approve ${draft}"`;
}

export function registerApprovals(program: Command): void {
  program
    .command('drafts')
    .description('the approvals queue: drafts waiting for a second officer (two-person rule)')
    .addOption(dataOption())
    .addOption(
      new Option('--state <state>', 'which drafts')
        .choices(['pending', 'released', 'rejected', 'all'])
        .default('pending'),
    )
    .option(
      '--limit <n>',
      'how many, newest first (at most 10000)',
      wholeNumber('--limit', 1, 10_000),
      100,
    )
    .option('--json', 'print JSON')
    .action(async (o) => {
      const drafts = (await callNode(
        o.data,
        'GET',
        `/api/v1/drafts?state=${o.state}&limit=${o.limit}`,
      )) as DraftView[];
      if (o.json) return console.log(JSON.stringify(drafts, null, 2));
      if (!drafts.length) return console.log(`No ${o.state === 'all' ? '' : `${o.state} `}drafts.`);
      for (const d of drafts) {
        const m = d.message;
        const banner = m.status === 'actual' ? '' : ` [${m.status.toUpperCase()}]`;
        console.log(
          `${d.id}  ${d.state}  ${m.precedence.toUpperCase()} ${m.type}${banner} to ${d.to.join(', ')}  by ${d.author} (${d.desk}) at ${d.createdAt}`,
        );
        if (m.text) console.log(`    ${m.text.body}`);
        if (d.decidedBy)
          console.log(
            `    ${d.breakGlass ? `break-glass by ${d.decidedBy}: ${d.breakGlass}` : `decided by ${d.decidedBy}`}${d.note ? ` — ${d.note}` : ''}`,
          );
      }
    });

  program
    .command('approve <id>')
    .addOption(secondFactorOption())
    .description('approve a draft written by someone else: it is released and numbered now')
    .addOption(dataOption())
    .option('--note <text>', 'a note for the audit trail')
    .option('--desk <desk>', 'the desk the approval is recorded under (default: your first)')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      // Approving asks for a second factor only for a flash draft: given for another, it is said
      // once the draft is released (not refused, as for a release).
      const draft =
        o.secondFactor === undefined
          ? undefined
          : ((await callNode(o.data, 'GET', `/api/v1/drafts/${draftId(id)}`, undefined, {
              'params/id': '<id>',
            })) as DraftView);
      const released = (await callNode(
        o.data,
        'POST',
        `/api/v1/drafts/${draftId(id)}/approve`,
        {
          ...(o.note ? { note: o.note } : {}),
          ...(o.desk ? { desk: o.desk } : {}),
          ...stepUpOf(o.secondFactor),
        },
        {
          'params/id': '<id>',
          'body/note': '--note',
          'body/desk': '--desk',
          ...stepUpNames('body'),
        },
      )) as Released;
      if (draft && draft.message.precedence !== 'flash')
        unusedSecondFactor(
          o.secondFactor,
          `approving asks for it only for a flash draft, and this one is ${draft.message.precedence}`,
        );
      console.log(o.json ? JSON.stringify(released) : releasedLine(released));
    });

  program
    .command('reject <id>')
    .description('reject a draft written by someone else: nothing is sent, no number is used')
    .addOption(dataOption())
    .requiredOption('--note <text>', 'why (recorded in the audit trail)')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const draft = (await callNode(
        o.data,
        'POST',
        `/api/v1/drafts/${draftId(id)}/reject`,
        { note: o.note },
        { 'params/id': '<id>', 'body/note': '--note' },
      )) as DraftView;
      console.log(o.json ? JSON.stringify(draft) : `Rejected ${draft.id}.`);
    });

  program
    .command('break-glass <id>')
    .description(
      'release a pending draft without a second approval, stating why: alarmed and recorded',
    )
    .addOption(dataOption())
    .requiredOption('--reason <text>', 'why it cannot wait for a second officer')
    .addOption(secondFactorOption())
    .option('--desk <desk>', 'the desk the override is recorded under (default: your first)')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const released = (await callNode(
        o.data,
        'POST',
        `/api/v1/drafts/${draftId(id)}/break-glass`,
        { reason: o.reason, ...(o.desk ? { desk: o.desk } : {}), ...stepUpOf(o.secondFactor) },
        {
          'params/id': '<id>',
          'body/reason': '--reason',
          'body/desk': '--desk',
          ...stepUpNames('body'),
        },
      )) as Released;
      console.log(
        o.json
          ? JSON.stringify(released)
          : `${releasedLine(released)} without a second approval (break-glass: alarm raised)`,
      );
    });

  program
    .command('drill')
    .description('send an exercise flash incident report (the "exercise-flash" template)')
    .addOption(dataOption())
    .option(
      '--to <party>',
      'recipient (repeat; default: every pinned peer)',
      eachOnce('--to', 'recipient'),
      [],
    )
    .option('--template <id>', 'the template to send', 'exercise-flash')
    .option('--desk <desk>', 'the author desk shown to the peer', 'ops')
    .option('--json', 'print JSON')
    .action(async (o) => {
      // A drill never looks real: a template of actual traffic is not sent as one.
      const templates = (await callNode(o.data, 'GET', '/api/v1/templates')) as TemplateView[];
      const actual = templates.find((t) => t.id === o.template && t.status === 'actual');
      if (actual)
        throw new CliError(
          `E_CONFLICT: the template "${actual.id}" is actual traffic (status actual), not a drill: a drill sends a template of status exercise or test, such as "exercise-flash"`,
          { cause: 'E_CONFLICT' },
        );
      const answer = (await toPinned(
        o.data,
        o.to,
        callNode(o.data, 'POST', `/api/v1/templates/${o.template}/send`, {
          ...(o.to.length ? { to: o.to } : {}),
          desk: o.desk,
        }),
      )) as Released & { state: string };
      if (o.json) return console.log(JSON.stringify(answer));
      console.log(
        answer.state === 'pending'
          ? `Drill held for a second officer: draft ${answer.draft}`
          : `Drill sent: ${releasedLine(answer)}`,
      );
    });

  program
    .command('readiness')
    .description('time to acknowledge per precedence over the last tests and drills, both sides')
    .addOption(dataOption())
    .option(
      '--last <n>',
      'how many tests and drills each way, per peer (at most 10000)',
      wholeNumber('--last', 1, 10_000),
      20,
    )
    .option('--json', 'print JSON')
    .action(async (o) => {
      const report = (await callNode(
        o.data,
        'GET',
        `/api/v1/readiness?last=${o.last}`,
      )) as Readiness;
      if (o.json) return console.log(JSON.stringify(report, null, 2));
      if (!report.peers.length) return console.log('No peers.');
      for (const peer of report.peers) {
        for (const [side, label] of [
          ['sent', `ours, acknowledged at ${peer.party}`],
          ['received', `${peer.party}'s, acknowledged here`],
        ] as const) {
          console.log(`${peer.party} — tests and drills ${label} (last ${report.last}):`);
          for (const precedence of PRECEDENCES) {
            const s = peer[side][precedence];
            if (!s || s.tests + s.drills === 0) continue;
            console.log(
              `  ${precedence.padEnd(9)} ${s.tests} tests, ${s.drills} drills; ${s.acknowledged} acknowledged` +
                (s.medianMs === null
                  ? ''
                  : `, median ${seconds(s.medianMs)}, mean ${seconds(s.meanMs)}, max ${seconds(s.maxMs)}`) +
                (s.unacknowledged ? `; ${s.unacknowledged} NOT acknowledged` : ''),
            );
          }
        }
      }
    });
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}
