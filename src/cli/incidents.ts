/**
 * Incident commands: `hotline incidents`, `hotline incident <id>`, `hotline ack` and
 * `hotline remind`. Each goes through the running node's operator API (docs/operators.md).
 */
import { type Command, Option } from 'commander';
import type { Framework } from '../protocol/frameworks.ts';
import { INCIDENT_STATES } from '../protocol/values.ts';
import { heldLine } from './approvals.ts';
import { CliError, callNode, type OptionNames } from './client.ts';
import { eachOnce, messageId, printOrWrite } from './inputs.ts';
import { checkReaderLanguage } from './language.ts';

/** What an incident action's options fill in its request. */
const ACTION_OPTIONS: OptionNames = {
  'params/incident': '<id>',
  'params/request': '--accept/--decline',
  'body/desk': '--desk',
  'body/text': '--text',
  'body/lang': '--lang',
  'body/cites/<i>': '--cite #<i+1>',
  'body/to': '--set/--request',
};
/** A received message's party and id, and the desk acting on it. */
const MESSAGE_OPTIONS: OptionNames = {
  'params/party': '<party>',
  'params/id': '<id>',
  'body/desk': '--desk',
};

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();
const deskOption = () =>
  new Option('--desk <desk>', 'the desk you act as (you must staff it)').default('ops');
const q = encodeURIComponent;
const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

interface Awaiting {
  dir: 'in' | 'out';
  party: string;
  id: string;
  deadline: string;
  overdue: boolean;
  unansweredAt: string | null;
}

interface IncidentItem {
  incident: string;
  owner: string;
  state: string;
  precedence: string;
  status: string;
  category: string | null;
  retracted: { at: string } | null;
  reportedAt: string;
  pendingRequests: number;
  nextDeadline: string | null;
  awaiting: Awaiting[];
}

interface TimelineItem {
  dir: 'in' | 'out';
  from: string;
  party: string;
  id: string;
  type: string;
  precedence: string;
  status: string;
  desk: string;
  text: { lang: string; body: string } | null;
  state: { to: string; request: boolean; decision?: string } | null;
  sent: string;
  received: string | null;
  followup: {
    deadline: string;
    acknowledged: { at: string; desk: string | null; person: string | null } | null;
    answered: { at: string } | null;
    unansweredAt: string | null;
    reminders: number;
  } | null;
  escalations: Array<{
    step: number;
    desk: string;
    user: string | null;
    at: string;
    final: boolean;
  }>;
}

const banner = (status: string) => (status === 'actual' ? '' : ` [${status.toUpperCase()}]`);

function awaitingLine(a: Awaiting): string {
  const who = a.dir === 'in' ? `our ack of ${a.party}'s` : `${a.party}'s ack of our`;
  const late = a.unansweredAt ? ' UNANSWERED' : a.overdue ? ' OVERDUE' : '';
  return `    awaiting ${who} ${a.id} by ${a.deadline}${late}`;
}

export function printIncidents(rows: IncidentItem[]): void {
  if (!rows.length) {
    console.log('No open incidents.');
    return;
  }
  for (const r of rows) {
    const retracted = r.retracted ? ' RETRACTED (false alarm)' : '';
    console.log(
      `${r.precedence.toUpperCase().padEnd(9)} ${r.state.padEnd(13)} ${r.incident}  owner ${r.owner}  ${r.category ?? ''}${banner(r.status)}${retracted}`,
    );
    if (r.pendingRequests) console.log(`    ${r.pendingRequests} state request(s) to decide`);
    for (const a of r.awaiting) console.log(awaitingLine(a));
  }
}

function printIncident(view: {
  incident: string;
  owner: string;
  ours: boolean;
  state: string;
  precedence: string;
  status: string;
  retracted: { id: string; at: string; desk: string; text: string | null } | null;
  pendingRequests: Array<{ id: string; to: string; from: string; at: string }>;
  timeline: TimelineItem[];
}): void {
  if (view.retracted)
    console.log(
      `*** RETRACTED by ${view.owner} (${view.retracted.desk}) at ${view.retracted.at}: false alarm or withdrawn${view.retracted.text ? ` — ${view.retracted.text}` : ''} ***`,
    );
  console.log(
    `Incident ${view.incident}${banner(view.status)}: ${view.state.toUpperCase()} (${view.precedence}); state owned by ${view.owner}${view.ours ? ' (this node)' : ''}`,
  );
  for (const r of view.pendingRequests)
    console.log(`  request ${r.id} from ${r.from} at ${r.at}: move to ${r.to}`);
  for (const t of view.timeline) {
    const what = t.state
      ? `${t.type} ${t.state.decision ?? (t.state.request ? 'request' : 'change')} → ${t.state.to}`
      : t.type;
    console.log(
      `${t.sent}  ${t.dir === 'out' ? 'sent to' : 'from'} ${t.party}  ${t.precedence.toUpperCase()} ${what}${banner(t.status)}  desk ${t.desk}  ${t.id}`,
    );
    if (t.text) console.log(`    (${t.text.lang}) ${t.text.body}`);
    const f = t.followup;
    const steps = [`received ${t.received ?? '—'}`];
    if (f) {
      steps.push(
        f.acknowledged
          ? `acknowledged ${f.acknowledged.at} by ${f.acknowledged.desk}${f.acknowledged.person ? ` (${f.acknowledged.person})` : ''}`
          : `not acknowledged (deadline ${f.deadline})`,
      );
      if (f.answered) steps.push(`answered ${f.answered.at}`);
      if (f.unansweredAt) steps.push(`UNANSWERED at ${f.unansweredAt}`);
      if (f.reminders) steps.push(`${f.reminders} reminder(s)`);
    }
    console.log(`    ${steps.join(' → ')}`);
    for (const e of t.escalations)
      console.log(
        e.final
          ? `    standing alarm ${e.at}: still not acknowledged after every desk up to ${e.desk}`
          : `    escalated ${e.at}: step ${e.step + 1}, desk ${e.desk}, ${e.user ?? 'nobody on duty'}`,
      );
  }
}

export function registerIncidents(program: Command): void {
  program
    .command('incidents')
    .description('open incidents, most urgent first, with what awaits acknowledgement')
    .addOption(dataOption())
    .option('--all', 'include closed and retracted incidents')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const rows = await callNode(o.data, 'GET', `/api/v1/incidents${o.all ? '?all=1' : ''}`);
      if (o.json) return json(rows);
      printIncidents(rows as IncidentItem[]);
    });

  program
    .command('incident <id>')
    .description(
      'one incident: its state, and both sides’ messages with their acknowledgements; with an action flag, act on it',
    )
    .addOption(dataOption())
    .addOption(
      new Option('--set <state>', 'owner: change the state')
        .choices(INCIDENT_STATES)
        .conflicts(['request', 'accept', 'decline', 'retract']),
    )
    .addOption(
      new Option('--request <state>', 'the other side: ask the owner for a state')
        .choices(INCIDENT_STATES)
        .conflicts(['accept', 'decline', 'retract']),
    )
    .addOption(
      new Option('--accept <request-id>', 'owner: accept a state request').conflicts([
        'decline',
        'retract',
      ]),
    )
    .addOption(
      new Option('--decline <request-id>', 'owner: decline a state request').conflicts('retract'),
    )
    .option('--retract', 'owner (officers): retract the incident as a false alarm')
    .addOption(
      new Option(
        '--export <framework>',
        'officers: export it for a national authority (OECD framework or EU AI Act Art. 73 JSON)',
      )
        .choices(['oecd', 'eu-ai-act-73'] satisfies Framework[])
        .conflicts(['set', 'request', 'accept', 'decline', 'retract']),
    )
    .option(
      '--out <file>',
      'with --export: write the JSON to this file instead of stdout (never overwritten)',
    )
    .option('--force', 'with --out: replace the file if it exists (otherwise refused)')
    .option(
      '--cite <party/id/sha256>',
      "with an action: cite an earlier message's attachment, e.g. an evaluation (repeat)",
      eachOnce('--cite', 'attachment'),
      [],
    )
    .addOption(deskOption())
    .option('--text <text>', 'free text to go with the action')
    .option('--lang <tag>', 'language of the text', 'en')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const path = `/api/v1/incidents/${q(messageId(id, '<id>'))}`;
      const acts = o.set ?? o.request ?? o.accept ?? o.decline ?? o.retract;
      if (o.out && !o.export) throw new CliError('--out goes with --export: nothing is exported');
      const loose = ['text', 'cite'].find((w) => (w === 'cite' ? o.cite.length : o[w]));
      if (loose && !acts)
        throw new CliError(
          `--${loose} goes with an action (--set, --request, --accept, --decline or --retract)`,
        );
      if (o.export) {
        const lang = await checkReaderLanguage(o.data, o.lang);
        const exported = await printOrWrite(
          o,
          async () =>
            (await callNode(
              o.data,
              'GET',
              `${path}/export?format=${q(o.export)}&lang=${q(lang)}`,
            )) as { empty: string[] },
          (made) => `${JSON.stringify(made, null, 2)}\n`,
        );
        console.error(
          `Incident ${id} as ${o.export}: ${exported.empty.length} criteria empty (${exported.empty.join(', ') || 'none'}).`,
        );
        return;
      }
      const { parseCites } = await import('../protocol/citations.ts');
      const parsed = parseCites(o.cite as string[]);
      if ('bad' in parsed)
        throw new CliError(`--cite takes party/message-id/sha256, not "${parsed.bad}"`);
      const { cites } = parsed;
      const words = {
        desk: o.desk,
        ...(o.text ? { text: o.text, lang: o.lang } : {}),
        ...(cites.length ? { cites } : {}),
      };
      const act = o.set
        ? callNode(o.data, 'POST', `${path}/state`, { ...words, to: o.set }, ACTION_OPTIONS)
        : o.request
          ? callNode(
              o.data,
              'POST',
              `${path}/requests`,
              { ...words, to: o.request },
              ACTION_OPTIONS,
            )
          : (o.accept ?? o.decline)
            ? callNode(
                o.data,
                'POST',
                `${path}/requests/${q(messageId(o.accept ?? o.decline, o.accept ? '--accept' : '--decline'))}/decision`,
                {
                  ...words,
                  decision: o.accept ? 'accepted' : 'declined',
                },
                ACTION_OPTIONS,
              )
            : o.retract
              ? callNode(o.data, 'POST', `${path}/retract`, words, ACTION_OPTIONS)
              : undefined;
      if (act) {
        const result = (await act) as { state: string; id: string; draft: string };
        if (o.json) return json(result);
        if (result.state === 'pending') {
          console.log(`Incident ${id}: ${heldLine(result)}`);
          return;
        }
        const what = o.set
          ? `state set to ${o.set}`
          : o.request
            ? `state ${o.request} requested`
            : o.accept
              ? `request ${o.accept} accepted`
              : o.decline
                ? `request ${o.decline} declined`
                : 'retracted';
        console.log(`Incident ${id}: ${what} (message ${result.id}).`);
        return;
      }
      const view = await callNode(o.data, 'GET', path);
      if (o.json) return json(view);
      printIncident(view as Parameters<typeof printIncident>[0]);
    });

  program
    .command('ack <party> <id>')
    .description('acknowledge a received message as a person: stops its escalation')
    .addOption(dataOption())
    .addOption(deskOption())
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, o) => {
      const result = (await callNode(
        o.data,
        'POST',
        `/api/v1/messages/${q(party)}/${q(messageId(id, '<id>'))}/ack`,
        { desk: o.desk },
        MESSAGE_OPTIONS,
      )) as { id: string; ack: string; desk: string; by: string };
      if (o.json) return json(result);
      console.log(
        `Acknowledged ${party}/${result.id} as the desk "${result.desk}" (${result.by}); ack ${result.ack} sent.`,
      );
    });

  program
    .command('remind <party> <id>')
    .description('send a numbered reminder of an unacknowledged message: restarts its escalation')
    .addOption(dataOption())
    .addOption(deskOption())
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, o) => {
      const result = (await callNode(
        o.data,
        'POST',
        `/api/v1/messages/${q(party)}/${q(messageId(id, '<id>'))}/remind`,
        { desk: o.desk },
        MESSAGE_OPTIONS,
      )) as { reminder: string; number: number; deadline: string };
      if (o.json) return json(result);
      console.log(
        `Reminder ${result.number} of ${id} sent to ${party} (${result.reminder}); new deadline ${result.deadline}.`,
      );
    });
}
