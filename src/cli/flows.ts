/**
 * Presence and conference commands: `hotline presence` (list, ask, answer) and `hotline
 * conference` (list, request, answer). Each goes through the running node's operator API
 * (docs/operators.md § Presence checks and conferences); the flows are what the node derives.
 */
import { type Command, Option } from 'commander';
import type { ConferenceItem, FlowActor, PresenceItem } from '../protocol/flows.ts';
import { PRECEDENCES, STATUSES } from '../protocol/values.ts';
import { CliError, callNode, type OptionNames, toPinned } from './client.ts';
import { eachOnce, messageId, typedTime, wholeNumber } from './inputs.ts';

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();
const deskOption = () =>
  new Option('--desk <desk>', 'the desk you write as (you must staff it)').default('ops');
const precedenceOption = () =>
  new Option('--precedence <p>', 'precedence').choices(PRECEDENCES).default('immediate');
const statusOption = () =>
  new Option('--status <s>', 'actual, exercise or test').choices(STATUSES).default('actual');
const q = encodeURIComponent;
const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

const who = (a: FlowActor) => `${a.party}/${a.desk}${a.person ? ` (${a.person})` : ''}`;
const words = (o: { text?: string; lang: string }) =>
  o.text ? { text: o.text, lang: o.lang } : {};

const CALL_OPTIONS: OptionNames = { 'body/minutes': '--minutes', 'body/medium': '--medium' };

/** The options every flow command shares, by where they go in its request. */
const FLOW_OPTIONS: OptionNames = {
  'body/to': '--to',
  'body/to/<i>': '--to',
  'body/desk': '--desk',
  'body/precedence': '--precedence',
  'body/status': '--status',
  'body/text': '--text',
  'body/lang': '--lang',
  'params/party': '<party>',
  'params/id': '<id>',
};

export function printPresence(rows: PresenceItem[]): void {
  if (!rows.length) console.log('No presence checks.');
  for (const c of rows) {
    const asked = c.dir === 'out' ? `asked ${c.party}` : `${c.party} asks`;
    console.log(`${c.id}  ${c.precedence} ${asked}: is desk "${c.desk}" staffed?  ${c.asked.sent}`);
    if (c.answer)
      console.log(
        `    ${c.answer.answer.toUpperCase()} from ${who(c.answer)} at ${c.answer.sent} (received ${c.answer.received ?? '—'})`,
      );
    else if (c.followup)
      console.log(
        `    waiting, due by ${c.followup.deadline}${c.followup.unansweredAt ? ' UNANSWERED' : ''}`,
      );
  }
}

export function printConferences(rows: ConferenceItem[], own?: string): void {
  if (!rows.length) console.log('No conference requests.');
  for (const c of rows) {
    console.log(
      `${c.id}  ${c.dir === 'out' ? 'with' : 'from'} ${c.party}: ${c.state.toUpperCase()}`,
    );
    if (c.agreed)
      console.log(
        `    agreed: ${c.agreed.at}${c.agreed.minutes ? `, ${c.agreed.minutes} min` : ''}${c.agreed.medium ? `, ${c.agreed.medium}` : ''}; joining ${c.joining.map(who).join(', ')}`,
      );
    if (c.declined)
      console.log(`    ${c.declined.cancelled ? 'cancelled' : 'declined'} by ${who(c.declined)}`);
    for (const p of c.proposals)
      console.log(
        `    ${p.id}  ${p.at}  by ${who(p)}  ${p.state}${own && p.state === 'open' && p.party !== own ? ' (you may accept)' : ''}`,
      );
  }
}

export function registerFlows(program: Command): void {
  const presence = program
    .command('presence')
    .description('presence checks: is a desk of the other side staffed by a person now?');
  presence
    .command('list', { isDefault: true })
    .description('presence checks sent and received, with who answered and when')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const rows = (await callNode(o.data, 'GET', '/api/v1/presence')) as PresenceItem[];
      if (o.json) return json(rows);
      printPresence(rows);
    });
  presence
    .command('ask')
    .description('ask another party whether a desk of theirs is staffed now')
    .addOption(dataOption())
    .requiredOption('--to <party>', 'the party asked')
    .option('--asked <desk>', 'the desk asked for', 'principal')
    .addOption(deskOption())
    .addOption(precedenceOption())
    .addOption(statusOption())
    .option('--text <text>', 'words to go with it')
    .option('--lang <tag>', 'language of the text', 'en')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const sent = await toPinned(
        o.data,
        o.to,
        callNode(
          o.data,
          'POST',
          '/api/v1/presence',
          {
            to: [o.to],
            asked: o.asked,
            desk: o.desk,
            precedence: o.precedence,
            status: o.status,
            ...words(o),
          },
          { ...FLOW_OPTIONS, 'body/asked': '--asked' },
        ),
      );
      if (o.json) return json(sent);
      const s = sent as { state: string; id?: string; draft?: string };
      console.log(
        s.state === 'released' ? `asked: ${s.id}` : `held for approval: draft ${s.draft}`,
      );
    });
  presence
    .command('answer <party> <id> <answer>')
    .description(
      'answer a received check, present or unavailable, as a person on the desk asked for',
    )
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, answer: string, o) => {
      if (answer !== 'present' && answer !== 'unavailable')
        throw new CliError('answer "present" or "unavailable"');
      const sent = await callNode(
        o.data,
        'POST',
        `/api/v1/messages/${q(party)}/${q(messageId(id, '<id>'))}/presence`,
        { answer },
        { ...FLOW_OPTIONS, 'body/answer': '<answer>' },
      );
      if (o.json) return json(sent);
      console.log(`answered ${answer}: ${(sent as { presence: string }).presence}`);
    });

  const conference = program
    .command('conference')
    .description('conference calls: request times, accept, decline or propose another');
  conference
    .command('list', { isDefault: true })
    .description('conference requests with their times, state and the agreed call')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const rows = (await callNode(o.data, 'GET', '/api/v1/conferences')) as ConferenceItem[];
      if (o.json) return json(rows);
      const status = (await callNode(o.data, 'GET', '/api/v1/status')) as { party: string };
      printConferences(rows, status.party);
    });
  conference
    .command('request')
    .description('request a call at one or more times (the first preferred)')
    .addOption(dataOption())
    .requiredOption('--to <party>', 'the other party')
    .requiredOption(
      '--at <time>',
      'a time proposed, to come, with its zone (e.g. 2026-12-06T14:00Z; repeat, at most 4)',
      eachOnce('--at', 'time', (v) => typedTime(v, '--at')),
      [],
    )
    .option('--minutes <n>', 'length of the call', wholeNumber('--minutes', 1, 1440))
    .option('--medium <medium>', 'e.g. "secure video link"')
    .addOption(deskOption())
    .addOption(precedenceOption())
    .addOption(statusOption())
    .option('--text <text>', 'words to go with it')
    .option('--lang <tag>', 'language of the text', 'en')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const times = (o.at as string[]).map((text) => typedTime(text, '--at'));
      const sent = await toPinned(
        o.data,
        o.to,
        callNode(
          o.data,
          'POST',
          '/api/v1/conferences',
          {
            to: o.to,
            times,
            desk: o.desk,
            precedence: o.precedence,
            status: o.status,
            ...(o.minutes ? { minutes: o.minutes } : {}),
            ...(o.medium ? { medium: o.medium } : {}),
            ...words(o),
          },
          {
            ...FLOW_OPTIONS,
            'body/times': '--at',
            'body/times/<i>': '--at #<i+1>',
            ...CALL_OPTIONS,
          },
          Object.fromEntries(times.map((time, i) => [time, o.at[i]])),
        ),
      );
      if (o.json) return json(sent);
      const s = sent as { state: string; id?: string; draft?: string };
      console.log(
        s.state === 'released' ? `requested: ${s.id}` : `held for approval: draft ${s.draft}`,
      );
    });
  conference
    .command('answer <party> <id> <action>')
    .description('accept a time the other party proposed, decline, or propose another time')
    .addOption(dataOption())
    .option(
      '--proposal <id>',
      'accept: the time accepted (needed when they proposed several still open)',
    )
    .option('--at <time>', 'propose: the time proposed, to come, with its zone')
    .option('--minutes <n>', 'propose: length of the call', wholeNumber('--minutes', 1, 1440))
    .option('--medium <medium>', 'propose: the medium')
    .addOption(deskOption())
    .option('--text <text>', 'words to go with it')
    .option('--lang <tag>', 'language of the text', 'en')
    .option('--json', 'print JSON')
    .action(async (party: string, id: string, action: string, o) => {
      if (action !== 'accept' && action !== 'decline' && action !== 'propose')
        throw new CliError('the action is accept, decline or propose');
      if (action === 'propose' && !o.at)
        throw new CliError('propose needs --at, the time proposed');
      const proposing = ['at', 'minutes', 'medium'].find((option) => o[option] !== undefined);
      if (action !== 'propose' && proposing)
        throw new CliError(`--${proposing} goes with propose, not ${action}`);
      const at = o.at === undefined ? undefined : typedTime(o.at, '--at');
      const sent = await callNode(
        o.data,
        'POST',
        `/api/v1/conferences/${q(party)}/${q(messageId(id, '<id>'))}/answer`,
        {
          desk: o.desk,
          action,
          ...(o.proposal ? { proposal: messageId(o.proposal, '--proposal') } : {}),
          ...(at ? { at } : {}),
          ...(o.minutes ? { minutes: o.minutes } : {}),
          ...(o.medium ? { medium: o.medium } : {}),
          ...words(o),
        },
        {
          ...FLOW_OPTIONS,
          'body/action': '<action>',
          'body/proposal': '--proposal',
          'body/at': '--at',
          ...CALL_OPTIONS,
        },
        at ? { [at]: o.at } : {},
      );
      if (o.json) return json(sent);
      const s = sent as {
        state: string;
        id?: string;
        draft?: string;
        cancelled: { at: string } | null;
      };
      // A decline once the call is agreed cancels it: said as such, not as a decline.
      const done = s.cancelled
        ? `cancelled the call agreed for ${s.cancelled.at}`
        : action === 'propose'
          ? `proposed ${o.at}`
          : action === 'accept'
            ? 'accepted'
            : 'declined';
      console.log(
        s.state === 'released' ? `${done}: ${s.id}` : `held for approval: draft ${s.draft}`,
      );
    });
}
