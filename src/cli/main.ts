/**
 * The `hotline` command. Every command has --help, exits non-zero with a one-line reason on
 * failure, and prints data as JSON with --json.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import pino from 'pino';
import { startNode } from '../app/start.ts';
import { fingerprint, verifyCard } from '../crypto/card.ts';
import { ConfigError, readConfig } from '../node/core/config.ts';
import { DataDirError, initNode, openNodeStore, paths, readOwnCard } from '../node/core/data.ts';
import { pinPeer } from '../node/core/peers.ts';
import { dataFolderActor, openPeople } from '../node/people/people.ts';
import { makeAttachment } from '../protocol/attachments.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { STIX_MEDIA_TYPE } from '../protocol/stix.ts';
import { PRECEDENCES, STATUSES, TLPS } from '../protocol/values.ts';
import { VocabularyError } from '../protocol/vocabulary.ts';
import { startRelay } from '../relay/server.ts';
import { registerApprovals, releasedLine } from './approvals.ts';
import { registerAudit } from './audit.ts';
import { CliError, callNode } from './client.ts';
import { runDemo } from './demo.ts';
import { registerIncidents } from './incidents.ts';
import { registerLanguage } from './language.ts';
import { registerPeople } from './people.ts';
import { printInbox, printStatus, type Status } from './print.ts';

const program = new Command('hotline')
  .description('Hotline: an emergency channel for AI crises between sovereign parties')
  .showHelpAfterError();

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();

program
  .command('init')
  .description('create keys, a signed party card and a configuration in a new data folder')
  .addOption(dataOption())
  .requiredOption('--party <id>', 'party id, e.g. us, cn')
  .option('--name-en <name>', 'the party name in English')
  .option('--name-zh <name>', 'the party name in Chinese')
  .option('--endpoint <url>', 'where peers reach this node (repeat, one per path)', collect, [])
  .option('--relay <url>', 'a relay where this node also takes mail (repeat)', collect, [])
  .option('--listen <host:port>', 'federation listener', '127.0.0.1:7100')
  .option('--operator-listen <host:port>', 'operator listener', '127.0.0.1:7101')
  .option('--admin <name>', 'the first admin’s account name', 'admin')
  .option('--postgres-url <url>', 'keep the records in PostgreSQL (postgres://user@host:5432/db)')
  .option('--postgres-schema <schema>', 'with --postgres-url: the schema for this node’s tables')
  .action(async (o) => {
    const names: Record<string, string> = {};
    if (o.nameEn) names.en = o.nameEn;
    if (o.nameZh) names.zh = o.nameZh;
    if (!Object.keys(names).length)
      throw new CliError('give the party a name: --name-en and/or --name-zh');
    const endpoints: string[] = o.endpoint.length ? o.endpoint : [`http://${o.listen}`];
    const { signed, admin } = await initNode(o.data, {
      party: o.party,
      names,
      endpoints,
      relays: o.relay,
      listen: o.listen,
      operatorListen: o.operatorListen,
      admin: { name: o.admin },
      ...(o.postgresUrl
        ? {
            store: {
              backend: 'postgres' as const,
              url: o.postgresUrl,
              ...(o.postgresSchema ? { schema: o.postgresSchema } : {}),
            },
          }
        : {}),
    });
    console.log(`Created node "${o.party}" in ${o.data}`);
    console.log(`Fingerprint: ${fingerprint(signed.card)}`);
    console.log(`Card: ${paths(o.data).card}`);
    console.log(
      `First admin: "${admin.name}", password (shown once): ${admin.password} — staffs the desk "ops"`,
    );
    console.log(`The CLI uses ${admin.name}'s token in ${paths(o.data).token}.`);
    console.log(`Move ${paths(o.data).keys}/recovery-OFFLINE.key to offline storage now.`);
  });

program
  .command('card')
  .description('print this node’s signed card (stdout) and its fingerprint (stderr)')
  .addOption(dataOption())
  .action((o) => {
    const signed = readOwnCard(o.data);
    console.log(JSON.stringify(signed, null, 2));
    console.error(`Fingerprint: ${fingerprint(signed.card)}`);
  });

const peer = program.command('peer').description('manage pinned peers');
peer
  .command('add <cardFile>')
  .description('pin a peer’s card after comparing its fingerprint')
  .addOption(dataOption())
  .option('--yes', 'skip the confirmation question')
  .action(async (cardFile: string, o) => {
    const signed = verifyCard(JSON.parse(readFileSync(cardFile, 'utf8')));
    const { card } = signed;
    console.log(`Party: ${card.party} (${Object.values(card.names).join(' / ')})`);
    console.log(`Fingerprint: ${fingerprint(card)}`);
    if (!o.yes) {
      if (!process.stdin.isTTY)
        throw new CliError(
          'cannot ask for confirmation without a terminal: compare the fingerprint, then pass --yes',
        );
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(
        'Does this fingerprint match the one read aloud by the peer? [yes/no] ',
      );
      rl.close();
      if (answer.trim().toLowerCase() !== 'yes')
        throw new CliError('not pinned: the fingerprint was not confirmed');
    }
    const { party } = readConfig(o.data);
    const store = await openNodeStore(o.data);
    try {
      await pinPeer(store, signed, party);
      await openPeople(store, readConfig(o.data).access).trail.record({
        ...dataFolderActor(),
        action: 'peer.pin',
        target: card.party,
        detail: { fingerprint: fingerprint(card) },
      });
    } finally {
      await store.close();
    }
    console.log(`Pinned "${card.party}".`);
  });

program
  .command('serve')
  .description('run the node (federation and operator listeners)')
  .addOption(dataOption())
  .option('--listen <host:port>', 'federation listener (overrides the configuration)')
  .option('--operator-listen <host:port>', 'operator listener (overrides the configuration)')
  .action(async (o) => {
    const running = await startNode(o.data, {
      ...(o.listen ? { listen: o.listen } : {}),
      ...(o.operatorListen ? { operatorListen: o.operatorListen } : {}),
    });
    const stop = async () => {
      await running.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('send')
  .description('release a message to one or more peers')
  .addOption(dataOption())
  .requiredOption('--to <party>', 'recipient (repeat for several)', collect, [])
  .addOption(new Option('--precedence <p>', 'precedence').choices(PRECEDENCES).default('routine'))
  .addOption(
    new Option('--status <s>', 'actual, exercise or test').choices(STATUSES).default('actual'),
  )
  .addOption(new Option('--tlp <label>', 'TLP 2.0 marking').choices(TLPS).default('amber'))
  .addOption(
    new Option('--type <type>', 'message type')
      .choices(['query', 'reply', 'test', 'ack'])
      .default('query'),
  )
  .option('--text <text>', 'free text, in --lang')
  .option('--lang <tag>', 'language of the text', 'en')
  .option(
    '--translation <lang=text>',
    'your own translation of the text (repeat per language)',
    collect,
    [],
  )
  .option('--code <code>', 'a vocabulary code, e.g. phrase.investigating (repeat)', collect, [])
  .option('--stix <file>', 'attach a STIX 2.1 bundle (checked before release)', collect, [])
  .option('--desk <desk>', 'the author desk shown to the peer', 'ops')
  .option('--in-reply-to <id>', 'the message this answers')
  .option(
    '--break-glass <reason>',
    'officers: release without the second approval the two-person rule asks (alarmed, recorded)',
  )
  .option('--json', 'print the result as JSON')
  .action(async (o) => {
    const message = {
      type: o.type,
      precedence: o.precedence,
      status: o.status,
      tlp: o.tlp,
      codes: o.code,
      ...(o.text ? { text: { lang: o.lang, body: o.text } } : {}),
      translations: (o.translation as string[]).map((t) => {
        const at = t.indexOf('=');
        if (at < 1) throw new CliError(`--translation takes lang=text, not "${t}"`);
        return { lang: t.slice(0, at), body: t.slice(at + 1) };
      }),
      attachments: (o.stix as string[]).map((file) =>
        makeAttachment(file.split('/').at(-1) as string, STIX_MEDIA_TYPE, readFileSync(file)),
      ),
      author: { desk: o.desk },
      approvals: [],
      ...(o.inReplyTo ? { inReplyTo: o.inReplyTo } : {}),
    };
    const result = (await callNode(o.data, 'POST', '/api/v1/messages', {
      to: o.to,
      message,
      ...(o.breakGlass ? { breakGlass: { reason: o.breakGlass } } : {}),
    })) as { state: string; id: string; seq: Record<string, number>; draft: string | null };
    if (o.json) console.log(JSON.stringify(result));
    else if (result.state === 'pending')
      console.log(
        `Held for a second officer (two-person rule): draft ${result.draft} — "hotline approve ${result.draft}"`,
      );
    else console.log(releasedLine(result));
  });

program
  .command('inbox')
  .description('list received messages, newest first')
  .addOption(dataOption())
  .option('--limit <n>', 'how many', '20')
  .option('--json', 'print JSON')
  .action(async (o) => {
    const rows = await callNode(o.data, 'GET', `/api/v1/inbox?limit=${Number(o.limit)}`);
    if (o.json) console.log(JSON.stringify(rows, null, 2));
    else printInbox(rows as never);
  });

program
  .command('status')
  .description('peers, path state, outbox depth, last receipt, alarms')
  .addOption(dataOption())
  .option('--json', 'print JSON')
  .action(async (o) => {
    const status = (await callNode(o.data, 'GET', '/api/v1/status')) as Status;
    // The status carries the newest page of faults; every open one is listed, page by page.
    for (let page = status.alarms; status.alarms.length < status.counts.fault && page.length; ) {
      const last = page[page.length - 1]?.id as number;
      page = (await callNode(
        o.data,
        'GET',
        `/api/v1/alarms?before=${last}&limit=1000`,
      )) as Status['alarms'];
      status.alarms.push(...page);
    }
    if (o.json) console.log(JSON.stringify(status, null, 2));
    else printStatus(status);
  });

program
  .command('relay')
  .description('run a relay: an untrusted store-and-forward mailbox for sealed envelopes')
  .option('--listen <host:port>', 'where nodes reach the relay', '127.0.0.1:7200')
  .option('--data <dir>', 'the relay data folder', 'hotline-relay')
  .option('--max-bytes <n>', 'most bytes held across all boxes', '268435456')
  .option('--max-items <n>', 'most items held per box', '100000')
  .option('--max-box-bytes <n>', 'most bytes held per box (default: a quarter of --max-bytes)')
  .option('--max-age-hours <n>', 'items uncollected this long are dropped', '168')
  .option(
    '--card <file>',
    "a party's signed card (`hotline card`): only these parties have boxes and may use them (repeat)",
    collect,
    [],
  )
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (o) => {
    const number = (name: string, text: string) => {
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new CliError(`--${name} must be a positive integer, not "${text}"`);
      return n;
    };
    const relay = await startRelay(
      {
        data: o.data,
        limits: {
          maxBytes: number('max-bytes', o.maxBytes),
          maxItemsPerBox: number('max-items', o.maxItems),
          ...(o.maxBoxBytes ? { maxBytesPerBox: number('max-box-bytes', o.maxBoxBytes) } : {}),
          maxAgeMs: number('max-age-hours', o.maxAgeHours) * 3600_000,
        },
        cards: (o.card as string[]).map((file) => {
          try {
            return verifyCard(JSON.parse(readFileSync(file, 'utf8'))).card;
          } catch (e) {
            throw new CliError(`--card ${file}: ${(e as Error).message}`);
          }
        }),
        logger: pino({ level: o.logLevel, base: { relay: true } }),
      },
      o.listen,
    );
    console.log(`Relay listening on ${relay.url} (data in ${o.data})`);
    const stop = async () => {
      await relay.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('demo')
  .description('run two nodes, Washington and Beijing, on loopback, and exchange messages')
  .option('--dir <dir>', 'where the demo nodes keep their data', '.hotline-demo')
  .action(async (o) => {
    await runDemo(o.dir);
  });

registerApprovals(program);
registerAudit(program);
registerIncidents(program);
registerLanguage(program);
registerPeople(program);

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const known =
    e instanceof CliError ||
    e instanceof ConfigError ||
    e instanceof VocabularyError ||
    e instanceof DataDirError ||
    e instanceof ProtocolError ||
    (e as NodeJS.ErrnoException).code !== undefined;
  const message = e instanceof ProtocolError ? `${e.code}: ${e.message}` : (e as Error).message;
  console.error(`hotline: ${known ? message : `unexpected error: ${message}`}`);
  process.exit(1);
}
