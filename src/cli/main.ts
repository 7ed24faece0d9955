/**
 * The `hotline` command. Every command has --help, exits non-zero with a one-line reason on
 * failure, and prints data as JSON with --json.
 *
 * Only commander and the option values load up front: each command imports what it needs when it
 * runs, so `hotline --help` or `hotline status` does not pay for the node, the store or crypto.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { paths, runningNode } from '../node/core/paths.ts';
import { PRECEDENCES, STATUSES, TLPS } from '../protocol/values.ts';
import {
  heldLine,
  registerApprovals,
  secondFactorOption,
  stepUpNames,
  stepUpOf,
  warnUnusedSecondFactor,
} from './approvals.ts';
import { registerAudit } from './audit.ts';
import { CliError, callNode, inOptionTerms, type OptionNames, toPinned } from './client.ts';
import { registerFlows } from './flows.ts';
import { registerIncidents } from './incidents.ts';
import {
  canonicalLang,
  checkDataFolder,
  checkFiles,
  checkGivenOnce,
  checkRelayFolder,
  choicesInOneLine,
  eachOnce,
  listenAddress,
  nameOf,
  onlyWith,
  readJsonFile,
  systemErrorSentence,
  typedTime,
  urlKey,
  usageErrorsInOneLine,
  wholeNumber,
} from './inputs.ts';
import { registerLanguage } from './language.ts';
import { registerPeople } from './people.ts';
import type { Status } from './print.ts';
import { registerRegimes } from './regimes.ts';

const program = new Command('hotline').description(
  'Hotline: an emergency channel for AI crises between sovereign parties',
);

const dataOption = () => new Option('--data <dir>', 'the node data folder').makeOptionMandatory();

/** The parts of the card `hotline init` makes, by the option that gives each. */
const INIT_OPTIONS: OptionNames = {
  'card/party': '--party',
  'card/names/en': '--name-en',
  'card/names/zh': '--name-zh',
  'card/endpoints/<i>': '--endpoint #<i+1>',
  'card/endpoints/<i>/url': '--endpoint #<i+1>',
};

program
  .command('init')
  .description('create keys, a signed party card and a configuration in a new data folder')
  .addOption(dataOption())
  .requiredOption('--party <id>', 'party id, e.g. us, cn')
  .option('--name-en <name>', 'the party name in English')
  .option('--name-zh <name>', 'the party name in Chinese')
  .option(
    '--endpoint <url>',
    'where peers reach this node (repeat, one per path; each URL once)',
    eachOnce('--endpoint', 'URL', urlKey),
    [],
  )
  .option(
    '--relay <url>',
    'a relay where this node also takes mail (repeat, each once); with its pin, as `hotline relay` prints it: <url>#spki=<pin>',
    eachOnce('--relay', 'relay', urlKey),
    [],
  )
  .option(
    '--listen <host:port>',
    'federation listener',
    listenAddress('--listen'),
    '127.0.0.1:7100',
  )
  .option(
    '--operator-listen <host:port>',
    'operator listener',
    listenAddress('--operator-listen'),
    '127.0.0.1:7101',
  )
  .option('--admin <name>', 'the first admin’s account name', 'admin')
  .option('--postgres-url <url>', 'keep the records in PostgreSQL (postgres://user@host:5432/db)')
  .option('--postgres-schema <schema>', 'with --postgres-url: the schema for this node’s tables')
  .option(
    '--passphrase-file <file>',
    'seal the key files with the passphrase in this file (or set HOTLINE_KEY_PASSPHRASE_FILE)',
  )
  .option(
    '--pkcs11-module <file>',
    'make the identity, signing, log and witness keys on a PKCS#11 token, through this library',
  )
  .option('--pkcs11-token <label>', 'with --pkcs11-module: the token, by its label')
  .option('--pkcs11-slot <id>', 'with --pkcs11-module: the token, by its slot id')
  .option(
    '--pkcs11-pin-file <file>',
    'the token user PIN, kept in the configuration as keys.pkcs11.pinFile (or HOTLINE_PKCS11_PIN_FILE)',
  )
  .action(async (o) => {
    const { keyPassphrase } = await import('../node/core/keyseal.ts');
    const passphrase = o.passphraseFile
      ? keyPassphrase({ HOTLINE_KEY_PASSPHRASE_FILE: o.passphraseFile })
      : keyPassphrase();
    if (passphrase !== undefined && passphrase.length < 12)
      throw new CliError('a key passphrase needs at least 12 characters');
    const names: Record<string, string> = {};
    if (o.nameEn) names.en = o.nameEn;
    if (o.nameZh) names.zh = o.nameZh;
    if (!Object.keys(names).length)
      throw new CliError('give the party a name: --name-en and/or --name-zh');
    const [{ fingerprint }, { initNode, paths }] = await Promise.all([
      import('../crypto/card.ts'),
      import('../node/core/data.ts'),
    ]);
    const endpoints: string[] = o.endpoint.length ? o.endpoint : [`https://${o.listen}`];
    const pkcs11 = o.pkcs11Module ? await tokenOption(o) : undefined;
    const { signed, admin } = await initNode(o.data, {
      party: o.party,
      names,
      endpoints,
      relays: (o.relay as string[]).map(relayOption),
      listen: o.listen,
      operatorListen: o.operatorListen,
      admin: { name: o.admin },
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(pkcs11 ? { pkcs11 } : {}),
      ...(o.postgresUrl
        ? {
            store: {
              backend: 'postgres' as const,
              url: o.postgresUrl,
              ...(o.postgresSchema ? { schema: o.postgresSchema } : {}),
            },
          }
        : {}),
    }).catch((e: unknown) => {
      const { code, message } = e as { code?: unknown; message: string };
      // The card is made of the options (its endpoint of --listen when none is given).
      const unreached = o.postgresUrl ? systemErrorSentence(e) : undefined;
      if (unreached) throw new CliError(`--postgres-url: ${unreached}`);
      const fromListen: OptionNames = o.endpoint.length
        ? {}
        : { 'card/endpoints/<i>/url': '--listen' };
      if (code === 'E_BAD_CARD')
        throw new CliError(
          `E_BAD_CARD: ${inOptionTerms(message, { ...INIT_OPTIONS, ...fromListen })}`,
        );
      throw e;
    });
    console.log(`Created node "${o.party}" in ${o.data}`);
    console.log(`Fingerprint: ${fingerprint(signed.card)}`);
    console.log(`Card: ${paths(o.data).card}`);
    console.log(
      `First admin: "${admin.name}", password (shown once): ${admin.password} — staffs the desk "ops"`,
    );
    console.log(`The CLI uses ${admin.name}'s token in ${paths(o.data).token}.`);
    if (pkcs11)
      console.log(
        'The identity, signing, log and witness keys were made on the PKCS#11 token; they cannot leave it.',
      );
    console.log(`Move ${paths(o.data).keys}/recovery-OFFLINE.key to offline storage now.`);
  });

/** `hotline init`'s token options: the token and its PIN, read now. */
async function tokenOption(o: {
  pkcs11Module: string;
  pkcs11Token?: string;
  pkcs11Slot?: string;
  pkcs11PinFile?: string;
}) {
  if ((o.pkcs11Token === undefined) === (o.pkcs11Slot === undefined))
    throw new CliError('name the token by one of --pkcs11-token <label> or --pkcs11-slot <id>');
  if (o.pkcs11Slot !== undefined && !/^[0-9]{1,20}$/.test(o.pkcs11Slot))
    throw new CliError(`--pkcs11-slot: "${o.pkcs11Slot}" is not a slot id`);
  const { tokenPin } = await import('../node/core/pkcs11.ts');
  const token = {
    module: o.pkcs11Module,
    ...(o.pkcs11Token !== undefined ? { token: o.pkcs11Token } : {}),
    ...(o.pkcs11Slot !== undefined ? { slot: Number(o.pkcs11Slot) } : {}),
    ...(o.pkcs11PinFile !== undefined ? { pinFile: resolve(o.pkcs11PinFile) } : {}),
  };
  return { token, pin: tokenPin(token) };
}

program
  .command('card')
  .description('print this node’s signed card (stdout) and its fingerprint (stderr)')
  .addOption(dataOption())
  .action(async (o) => {
    const [{ fingerprint }, { readOwnCard }] = await Promise.all([
      import('../crypto/card.ts'),
      import('../node/core/data.ts'),
    ]);
    const signed = readOwnCard(o.data);
    console.log(JSON.stringify(signed, null, 2));
    console.error(`Fingerprint: ${fingerprint(signed.card)}`);
  });

program
  .command('note')
  .description('check signed notes offline')
  .command('verify <file>')
  .description(
    'check a checkpoint note against verifier keys: log (Ed25519) and witness (cosignature/v1)',
  )
  .requiredOption(
    '--key <vkey>',
    'a verifier key <name>+<key ID>+<base64>, e.g. from docs/ledger.md (repeat, each once)',
    eachOnce('--key', 'key'),
    [] as string[],
  )
  .option('--json', 'print the report as JSON')
  .action(async (file: string, o: { key: string[]; json?: boolean }) => {
    const [{ readFileSync }, { checkNote, describeNoteCheck }] = await Promise.all([
      import('node:fs'),
      import('../ledger/check-note.ts'),
    ]);
    let check: ReturnType<typeof checkNote>;
    try {
      check = checkNote(new Uint8Array(readFileSync(file)), o.key);
    } catch (e) {
      throw new CliError(`${file}: ${(e as Error).message}`);
    }
    console.log(o.json ? JSON.stringify(check, null, 2) : describeNoteCheck(check).join('\n'));
    if (!check.ok) process.exitCode = 1;
  });

const peer = program.command('peer').description('manage pinned peers');
peer
  .command('add <cardFile>')
  .description('pin a peer’s card after comparing its fingerprint')
  .addOption(dataOption())
  .option('--yes', 'skip the confirmation question')
  .action(async (cardFile: string, o) => {
    const [{ createInterface }, { fingerprint, verifyCard }] = await Promise.all([
      import('node:readline/promises'),
      import('../crypto/card.ts'),
    ]);
    const signed = verifyCard(readJsonFile(cardFile));
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
    const [{ readConfig }, { openNodeStore }, { pinPeer }, { dataFolderActor, openPeople }] =
      await Promise.all([
        import('../node/core/config.ts'),
        import('../node/core/data.ts'),
        import('../node/core/peers.ts'),
        import('../node/people/people.ts'),
      ]);
    const { party } = readConfig(o.data);
    const store = await openNodeStore(o.data);
    try {
      await pinPeer(store, signed, party);
      await openPeople(store, readConfig(o.data)).trail.record({
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
  .command('backup')
  .description(
    'copy this node’s records while it runs: SQLite online backup, or pg_dump for PostgreSQL',
  )
  .addOption(dataOption())
  .requiredOption('--out <file>', 'the backup file to write (never overwritten)')
  .action(async (o) => {
    const [{ readConfig }, { backupNode }, { openNodeStore }, { dataFolderActor, openPeople }] =
      await Promise.all([
        import('../node/core/config.ts'),
        import('../node/record/backup.ts'),
        import('../node/core/data.ts'),
        import('../node/people/people.ts'),
      ]);
    const config = readConfig(o.data);
    const s = await backupNode(o.data, config, o.out);
    const store = await openNodeStore(o.data, config);
    try {
      await openPeople(store, config).trail.record({
        ...dataFolderActor(),
        action: 'backup',
        detail: { file: s.file, backend: s.backend, bytes: s.bytes, ledgerSize: s.ledgerSize },
      });
    } finally {
      await store.close();
    }
    console.log(
      s.backend === 'sqlite'
        ? `Backed up "${config.party}" to ${s.file}: ${s.bytes} bytes, ledger of ${s.ledgerSize} leaves, integrity checked.`
        : `Dumped schema "${config.store.schema ?? 'public'}" of "${config.party}" to ${s.file}: ${s.bytes} bytes (pg_dump custom format; restore with pg_restore).`,
    );
    console.log('Keys, card and hotline.yaml stay in the data folder: back them up apart.');
  });

program
  .command('restore')
  .description(
    'put a backup in place of this node’s records (node stopped); it recovers from its peers when it next serves',
  )
  .addOption(dataOption())
  .option(
    '--from <file>',
    'the SQLite backup to restore (PostgreSQL: pg_restore first, then run this without --from)',
  )
  .action(async (o) => {
    const [{ readConfig }, { restoreNode }, { openNodeStore }, { dataFolderActor, openPeople }] =
      await Promise.all([
        import('../node/core/config.ts'),
        import('../node/record/backup.ts'),
        import('../node/core/data.ts'),
        import('../node/people/people.ts'),
      ]);
    const config = readConfig(o.data);
    const s = restoreNode(o.data, config, o.from);
    const serves = `When it next serves, the node starts the log origin "${s.origin}" and recovers from its peers before serving.`;
    if (s.unchanged) {
      console.log(
        `Nothing changed: ${paths(o.data).restored} (left by an earlier restore) stays as it was, as the node has not served since.`,
      );
      console.log(serves);
      return;
    }
    const store = await openNodeStore(o.data, config);
    try {
      await openPeople(store, config).trail.record({
        ...dataFolderActor(),
        action: 'restore',
        detail: { from: o.from ?? null, replaced: s.replaced, origin: s.origin },
      });
    } finally {
      await store.close();
    }
    if (o.from)
      console.log(
        `Restored "${config.party}" from ${o.from}: ledger of ${s.ledgerSize} leaves, integrity checked.`,
      );
    else
      console.log(
        `Nothing copied: the records of "${config.party}" are taken as they are (restored by other means) and marked as restored in ${paths(o.data).restored}.`,
      );
    if (s.replaced) console.log(`The records it replaced are kept as ${s.replaced}.`);
    console.log(serves);
  });

program
  .command('rotate')
  .description(
    'new identity and signing keys and card, told to every peer (run with the node stopped)',
  )
  .addOption(dataOption())
  .option(
    '--compromise',
    'the keys were stolen: sign with the offline recovery key and re-sign what they blocked',
  )
  .option('--recovery-key <file>', 'the recovery key file (recovery-OFFLINE.key), for --compromise')
  .option(
    '--since <time>',
    'compromise: from when the old keys are not trusted, at the latest now, with its zone (e.g. 2026-12-05T21:00Z; default: now)',
  )
  .option('--json', 'print JSON')
  .action(async (o) => {
    onlyWith(
      o,
      ['compromise', '--compromise'],
      { since: '--since', recoveryKey: '--recovery-key' },
      'the rotation is routine: signed with the current keys, and every old message stays trusted',
    );
    const since = o.since
      ? new Date(
          typedTime(o.since, '--since', {
            must: 'past',
            why: 'give when the keys were taken, at the latest now (leave --since out for now)',
          }),
        )
      : undefined;
    const [{ rotateDataDir }, { fingerprint }] = await Promise.all([
      import('../app/rotate.ts'),
      import('../crypto/card.ts'),
    ]);
    const result = await rotateDataDir(o.data, {
      reason: o.compromise ? 'compromise' : 'routine',
      ...(o.recoveryKey ? { recoveryKeyFile: o.recoveryKey } : {}),
      ...(since ? { since } : {}),
    });
    if (o.json) {
      const { keys: _keys, ...shown } = result;
      console.log(JSON.stringify(shown, null, 2));
      return;
    }
    console.log(
      `Rotation ${result.id} released: card serial ${result.signed.card.serial}, new fingerprint`,
    );
    console.log(`  ${fingerprint(result.signed.card)}`);
    for (const [party, seq] of Object.entries(result.untrusted ?? {}))
      console.log(`  "${party}": the old keys are untrusted from seq ${seq}`);
    if (result.resigned.length)
      console.log(`  ${result.resigned.length} message(s) re-signed with the new signing key`);
    console.log(
      o.compromise
        ? 'Start the node to send it. Put the recovery key back offline.'
        : 'Start the node to send it.',
    );
  });

program
  .command('serve')
  .description('run the node (federation and operator listeners)')
  .addOption(dataOption())
  .option(
    '--listen <host:port>',
    'federation listener (overrides the configuration)',
    listenAddress('--listen'),
  )
  .option(
    '--operator-listen <host:port>',
    'operator listener (overrides the configuration)',
    listenAddress('--operator-listen'),
  )
  .action(async (o) => {
    const serving = runningNode(o.data);
    if (serving)
      throw new CliError(
        `the node of ${o.data} is running already (process ${serving.pid}, operators at ${serving.operatorUrl})`,
      );
    const { startNode } = await import('../app/start.ts');
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

/** Where `hotline send` puts each option in its request (attachments are added per file). */
const SEND_OPTIONS: OptionNames = {
  'body/to': '--to',
  'body/to/<i>': '--to #<i+1>',
  'body/message/type': '--type',
  'body/message/precedence': '--precedence',
  'body/message/status': '--status',
  'body/message/tlp': '--tlp',
  'body/message/codes': '--code',
  'body/message/codes/<i>': '--code #<i+1>',
  'body/message/text': '--text',
  'body/message/text/lang': '--lang',
  'body/message/text/body': '--text',
  'body/message/translations/<i>': '--translation #<i+1>',
  'body/message/translations/<i>/lang': '--translation #<i+1> (its language)',
  'body/message/translations/<i>/body': '--translation #<i+1>',
  'body/message/author/desk': '--desk',
  'body/message/inReplyTo': '--in-reply-to',
  'body/message/ext/cites/<i>': '--cite #<i+1>',
  'body/breakGlass': '--break-glass',
  'body/breakGlass/reason': '--break-glass',
};

program
  .command('send')
  .description('release a message to one or more peers')
  .addOption(dataOption())
  .requiredOption(
    '--to <party>',
    'recipient (repeat for several)',
    eachOnce('--to', 'recipient'),
    [],
  )
  .addOption(new Option('--precedence <p>', 'precedence').choices(PRECEDENCES).default('routine'))
  .addOption(
    new Option('--status <s>', 'actual, exercise or test').choices(STATUSES).default('actual'),
  )
  .addOption(new Option('--tlp <label>', 'TLP 2.0 marking').choices(TLPS).default('amber'))
  .addOption(
    new Option('--type <type>', 'message type')
      .choices(['query', 'reply', 'test'])
      .default('query'),
  )
  .option('--text <text>', 'free text, in --lang')
  .option('--lang <tag>', 'language of the text', 'en')
  .option(
    '--translation <lang=text>',
    'your own translation of the text (repeat, one per language)',
    eachOnce('--translation', 'language', (t) => canonicalLang(nameOf(t))),
    [],
  )
  .option(
    '--code <code>',
    'a vocabulary code, e.g. phrase.investigating (repeat)',
    eachOnce('--code', 'code'),
    [],
  )
  .option(
    '--stix <file>',
    'attach a STIX 2.1 bundle (checked before release; repeat)',
    eachOnce('--stix', 'file'),
    [],
  )
  .option(
    '--evaluation <file>',
    'attach an evaluation result (hotline.evaluation/1 JSON, checked before release; repeat)',
    eachOnce('--evaluation', 'file'),
    [],
  )
  .option(
    '--cite <party/id/sha256>',
    "cite an earlier message's attachment by its author, id and sha256 (repeat)",
    eachOnce('--cite', 'attachment'),
    [],
  )
  .option('--desk <desk>', 'the author desk shown to the peer', 'ops')
  .option('--in-reply-to <id>', 'the message this answers')
  .option(
    '--break-glass <reason>',
    'officers: release without the second approval the two-person rule asks (alarmed, recorded)',
  )
  .addOption(secondFactorOption())
  .option('--json', 'print the result as JSON')
  .action(async (o) => {
    const said = o.text || o.code.length || o.stix.length || o.evaluation.length || o.cite.length;
    if (!said && o.type !== 'ack')
      throw new CliError(
        'nothing to send: give --text, or --code with a vocabulary code (e.g. phrase.investigating)',
      );
    const [
      { readFileSync },
      { makeAttachment },
      { STIX_MEDIA_TYPE },
      { EVALUATION_MEDIA_TYPE },
      { releasedLine },
    ] = await Promise.all([
      import('node:fs'),
      import('../protocol/attachments.ts'),
      import('../protocol/stix.ts'),
      import('../protocol/evaluation.ts'),
      import('./approvals.ts'),
    ]);
    const attach = (file: string, mediaType: string) =>
      makeAttachment(file.split('/').at(-1) as string, mediaType, readFileSync(file));
    const { parseCites } = await import('../protocol/citations.ts');
    const parsed = parseCites(o.cite as string[]);
    if ('bad' in parsed)
      throw new CliError(`--cite takes party/message-id/sha256, not "${parsed.bad}"`);
    const { cites } = parsed;
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
        return { lang: canonicalLang(t.slice(0, at)), body: t.slice(at + 1) };
      }),
      attachments: [
        ...(o.stix as string[]).map((file) => attach(file, STIX_MEDIA_TYPE)),
        ...(o.evaluation as string[]).map((file) => attach(file, EVALUATION_MEDIA_TYPE)),
      ],
      author: { desk: o.desk },
      approvals: [],
      ...(o.inReplyTo ? { inReplyTo: o.inReplyTo } : {}),
      ...(cites.length ? { ext: { cites } } : {}),
    };
    const result = (await toPinned(
      o.data,
      o.to,
      callNode(
        o.data,
        'POST',
        '/api/v1/messages',
        {
          to: o.to,
          message,
          ...(o.breakGlass !== undefined
            ? { breakGlass: { reason: o.breakGlass, ...stepUpOf(o.secondFactor) } }
            : {}),
        },
        {
          ...SEND_OPTIONS,
          ...Object.fromEntries(
            [...o.stix, ...o.evaluation].map((file: string, i: number) => [
              `body/message/attachments/${i}`,
              `${i < o.stix.length ? '--stix' : '--evaluation'} ${file}`,
            ]),
          ),
          ...stepUpNames('body/breakGlass'),
        },
      ),
    )) as { state: string; id: string; seq: Record<string, number>; draft: string | null };
    warnUnusedSecondFactor(o);
    if (o.json) console.log(JSON.stringify(result));
    else if (result.state === 'pending') console.log(heldLine(result));
    else {
      console.log(releasedLine(result));
      await warnUnreachable(o.data, o.to);
    }
  });

/**
 * After a release: a recipient no path reaches now is said, so nobody waits for an answer that
 * cannot come yet. The message waits in the outbox; delivery resumes when a path is back.
 */
async function warnUnreachable(dataDir: string, to: readonly string[]): Promise<void> {
  const status = (await callNode(dataDir, 'GET', '/api/v1/status').catch(() => undefined)) as
    | { peers: Array<{ party: string; paths: Array<{ state: string }> }> }
    | undefined;
  for (const peer of status?.peers ?? [])
    if (to.includes(peer.party) && peer.paths.every((p) => p.state === 'down'))
      console.error(
        `Warning: no path reaches ${peer.party} now; the message waits in the outbox and is delivered when one is back (hotline status)`,
      );
}

program
  .command('inbox')
  .description('list received messages, newest first')
  .addOption(dataOption())
  .option('--limit <n>', 'how many (at most 10000)', wholeNumber('--limit', 1, 10_000), 20)
  .option('--json', 'print JSON')
  .action(async (o) => {
    const rows = await callNode(o.data, 'GET', `/api/v1/inbox?limit=${o.limit}`);
    if (o.json) console.log(JSON.stringify(rows, null, 2));
    else (await import('./print.ts')).printInbox(rows as never);
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
    else (await import('./print.ts')).printStatus(status);
  });

program
  .command('relay')
  .description(
    'run a relay: an untrusted store-and-forward mailbox for sealed envelopes, over pinned mutual TLS',
  )
  .option(
    '--listen <host:port>',
    'where nodes reach the relay',
    listenAddress('--listen'),
    '127.0.0.1:7200',
  )
  .option('--data <dir>', 'the relay data folder', 'hotline-relay')
  .option(
    '--max-bytes <n>',
    'most bytes held across all boxes',
    wholeNumber('--max-bytes', 1),
    268_435_456,
  )
  .option('--max-items <n>', 'most items held per box', wholeNumber('--max-items', 1), 100_000)
  .option(
    '--max-box-bytes <n>',
    'most bytes held per box (default: a quarter of --max-bytes)',
    wholeNumber('--max-box-bytes', 1),
  )
  .option(
    '--max-age-hours <n>',
    'items uncollected this long are dropped',
    wholeNumber('--max-age-hours', 1),
    168,
  )
  .option(
    '--card <file>',
    "a party's signed card (`hotline card`): only these parties have boxes and may use them (repeat)",
    eachOnce('--card', 'file'),
    [],
  )
  .addOption(
    new Option('--log-level <level>', 'log level')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  )
  .action(async (o) => {
    checkRelayFolder(o.data);
    if (o.maxBoxBytes > o.maxBytes)
      throw new CliError(
        `--max-box-bytes ${o.maxBoxBytes} is more than --max-bytes ${o.maxBytes}: one box cannot hold more than all boxes together`,
      );
    const [{ default: pino }, { startRelay }, { verifyCard }] = await Promise.all([
      import('pino'),
      import('../relay/server.ts'),
      import('../crypto/card.ts'),
    ]);
    const relay = await startRelay(
      {
        data: o.data,
        limits: {
          maxBytes: o.maxBytes,
          maxItemsPerBox: o.maxItems,
          ...(o.maxBoxBytes ? { maxBytesPerBox: o.maxBoxBytes } : {}),
          maxAgeMs: o.maxAgeHours * 3600_000,
        },
        cards: (o.card as string[]).map((file) => {
          const json = readJsonFile(file);
          try {
            return verifyCard(json).card;
          } catch (e) {
            throw new CliError(`--card ${file}: ${(e as Error).message}`);
          }
        }),
        logger: pino({ level: o.logLevel, base: { relay: true } }),
      },
      o.listen,
    );
    console.log(`Relay listening on ${relay.url} (data in ${o.data})`);
    console.log(
      `${relay.madeTls ? 'Made its TLS key' : 'TLS key'} in ${o.data}/keys; pin (SPKI SHA-256): ${relay.pin}`,
    );
    console.log(
      `Parties pin it: hotline init ... --relay ${relay.url}#spki=${relay.pin}\n` +
        `  or in hotline.yaml: relays: [{ url: "${relay.url}", pin: "${relay.pin}" }]`,
    );
    if (!o.card.length)
      console.log('It serves no party yet: start it again with --card <file> for each party.');
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
    await (await import('./demo.ts')).runDemo(o.dir);
  });

registerApprovals(program);
registerAudit(program);
registerFlows(program);
registerIncidents(program);
registerLanguage(program);
registerPeople(program);
registerRegimes(program);
choicesInOneLine(program);
usageErrorsInOneLine(program);

/** A `--relay` value: a URL, or `<url>#spki=<pin>` for a relay called over pinned TLS. */
function relayOption(text: string): string | { url: string; pin: string } {
  const at = text.indexOf('#');
  if (at === -1) return text;
  const pin = /^spki=([0-9a-f]{64})$/.exec(text.slice(at + 1))?.[1];
  if (!pin)
    throw new CliError(
      `--relay ${text}: after the URL, give the relay's pin as #spki=<64 hex digits> (what hotline relay prints)`,
    );
  return { url: text.slice(0, at), pin };
}

/**
 * The first word that names no command (`hotline help …` read as the words after it), and the
 * command it was given to, whose help lists the right ones; undefined when every word names one.
 */
function unknownCommand(args: readonly string[]): { words: string; parent: string } | undefined {
  let command: Command = program;
  const path: string[] = [];
  for (const word of args[0] === 'help' ? args.slice(1) : args) {
    if (word.startsWith('-') || !command.commands.length || word === 'help') return undefined;
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) return { words: [...path, word].join(' '), parent: ['hotline', ...path].join(' ') };
    path.push(word);
    command = next;
  }
  return undefined;
}

/** Commands whose --data is a folder they create, or that has a default. */
const CREATES_DATA = new Set(['init', 'relay']);

program.hook('preAction', (_program, action) => {
  checkGivenOnce(action, process.argv.slice(2));
  const data = action.opts().data as unknown;
  if (typeof data === 'string') checkDataFolder(data, { made: CREATES_DATA.has(action.name()) });
  checkFiles(action);
  const lang = action.getOptionValue('lang') as unknown;
  if (typeof lang === 'string')
    action.setOptionValueWithSource(
      'lang',
      canonicalLang(lang),
      action.getOptionValueSource('lang'),
    );
});

/** Errors whose message is the one-line reason to show; anything else is a bug, said so. */
const KNOWN = new Set([
  'BackupError',
  'CliError',
  'ConfigError',
  'DocumentError',
  'VocabularyError',
  'RegimesError',
  'DataDirError',
  'NoteError',
  'ProtocolError',
  'TransportError',
]);

try {
  const unknown = unknownCommand(process.argv.slice(2));
  if (unknown)
    throw new CliError(`unknown command "${unknown.words}" (see "${unknown.parent} --help")`);
  await program.parseAsync(process.argv);
} catch (e) {
  const error = e as Error & { code?: unknown };
  const store = (await import('../store/damage.ts')).isStoreFailure(error);
  const known = KNOWN.has(error.name) || error.code !== undefined || store;
  const message =
    systemErrorSentence(error) ??
    (store ? `E_STORE: the node's store failed: ${error.message}` : undefined) ??
    (error.name === 'ProtocolError' ? `${error.code}: ${error.message}` : error.message);
  console.error(`hotline: ${known ? message : `unexpected error: ${message}`}`);
  process.exit(1);
}
