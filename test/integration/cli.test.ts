/**
 * The `hotline` command end to end, as two operators would use it: Washington and Beijing each
 * `init` a node, exchange cards, pin each other, `serve`, and then one sends and the other reads
 * its inbox — every step a real `node bin/hotline.js …` process.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readConfig } from '../../src/node/core/config.ts';
import { capSchemaErrors } from '../support/cap-schema.ts';
import {
  BEIJING,
  HotlineNode,
  hotline,
  hotlineOk,
  type InboxItem,
  killAll,
  removeUnlessKept,
  type Status,
  until,
  WASHINGTON,
} from './nodes.ts';

const FINGERPRINT = /^\d{5}( \d{5}){7}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A failure is one line on stderr, and nothing else there. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('the hotline CLI, end to end', () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  let released: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotline-cli-'));
  });

  afterAll(async () => {
    await killAll();
    removeUnlessKept(root);
  });

  /** How many messages Beijing's inbox holds, as its CLI lists them. */
  const beijingInbox = async () =>
    JSON.parse((await hotlineOk(['inbox', '--data', cn.dir, '--json', '--limit', '500'])).stdout)
      .length as number;

  test('every command answers --help and exits 0', async () => {
    const commands = [
      [],
      ['init'],
      ['card'],
      ['peer'],
      ['peer', 'add'],
      ['serve'],
      ['send'],
      ['inbox'],
      ['status'],
      ['demo'],
      ['vocabulary'],
      ['show'],
      ['translate'],
      ['cap'],
      ['stix'],
      ['incidents'],
      ['incident'],
      ['ack'],
      ['remind'],
      ['drafts'],
      ['approve'],
      ['reject'],
      ['break-glass'],
      ['drill'],
      ['readiness'],
    ];
    // Three at a time: the machine's cores are shared.
    const results = [];
    for (let i = 0; i < commands.length; i += 3)
      results.push(
        ...(await Promise.all(
          commands.slice(i, i + 3).map(async (c) => ({ c, r: await hotline([...c, '--help']) })),
        )),
      );
    for (const { c, r } of results) {
      expect(r.code, `hotline ${c.join(' ')} --help`).toBe(0);
      expect(r.stdout).toContain(`Usage: hotline${c.length ? ` ${c.join(' ')}` : ''}`);
    }
  }, 180_000);

  test('init creates a node and prints its fingerprint: eight groups of five digits', async () => {
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, { heartbeatMs: 300 }),
      HotlineNode.init(root, BEIJING, { heartbeatMs: 300 }),
    ]);
    for (const node of [us, cn]) {
      expect(node.initOutput.code).toBe(0);
      expect(node.initOutput.stdout).toContain(`Created node "${node.party}"`);
      expect(node.fingerprint).toMatch(FINGERPRINT);
      for (const file of ['card.json', 'hotline.yaml', 'operator.token', 'keys'])
        expect(existsSync(join(node.dir, file)), file).toBe(true);
    }
    expect(us.fingerprint).not.toBe(cn.fingerprint);
  }, 60_000);

  test('init refuses a folder that is not empty, and leaves the node in it alone', async () => {
    const card = readFileSync(join(us.dir, 'card.json'), 'utf8');
    const r = await hotline(['init', '--data', us.dir, '--party', 'us', '--name-en', 'Impostor']);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^hotline: \S+ is not empty: refusing to overwrite/);
    expect(readFileSync(join(us.dir, 'card.json'), 'utf8')).toBe(card);
  }, 60_000);

  test('init refusing a value leaves the folder as it was, so the same command mended works', async () => {
    const dir = join(root, 'mistyped');
    const init = (...more: string[]) =>
      hotline([
        'init',
        '--data',
        dir,
        '--name-en',
        'Test',
        '--name-zh',
        '测试',
        '--endpoint',
        'https://127.0.0.1:7999',
        ...more,
      ]);
    const party = await init('--party', 'US');
    expect(party.code).not.toBe(0);
    expect(oneLine(party.stderr)).toBe(
      'hotline: E_BAD_CARD: --party is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
    );
    expect(existsSync(dir)).toBe(false);
    // A folder made empty beforehand stays, empty: refused after the keys and card were written.
    mkdirSync(dir);
    for (const [option, address] of [
      ['--listen', 'localhost'],
      ['--listen', '127.0.0.1:0'],
      ['--listen', '127.0.0.1:99999'],
      ['--operator-listen', '[::1]:0'],
    ] as const) {
      const listen = await init('--party', 'us', option, address);
      expect(listen.code).toBe(1);
      expect(oneLine(listen.stderr)).toBe(
        `hotline: E_MALFORMED: ${option} "${address}" is not a host:port, the port from 1 to 65535 (e.g. 127.0.0.1:7100 or [::1]:7100)`,
      );
      expect(readdirSync(dir)).toEqual([]);
    }
    const relay = await hotline([
      'relay',
      '--data',
      join(root, 'no-relay'),
      '--listen',
      '127.0.0.1:99999',
    ]);
    expect(oneLine(relay.stderr)).toBe(
      'hotline: E_MALFORMED: --listen "127.0.0.1:99999" is not a host:port, the port from 1 to 65535 (e.g. 127.0.0.1:7100 or [::1]:7100)',
    );
    expect(existsSync(join(root, 'no-relay'))).toBe(false);
    const made = await init('--party', 'us');
    expect(made.code, made.stderr).toBe(0);
    expect(readConfig(dir).party).toBe('us');
  }, 60_000);

  test('init refuses a user name or password in its own endpoint or relay URL, saying so', async () => {
    const dir = join(root, 'userinfo');
    const args = ['init', '--data', dir, '--party', 'uk', '--name-en', 'London'];
    for (const [more, line] of [
      [
        ['--endpoint', 'https://user:pw@127.0.0.1:20300'],
        'the endpoint https://127.0.0.1:20300/ has a user name and password in it',
      ],
      [
        ['--relay', `https://ops@relay.example:7200#spki=${'ab'.repeat(32)}`],
        'the endpoint https://relay.example:7200/ has a user name in it',
      ],
    ] as const) {
      const r = await hotline([...args, ...more]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(
        `hotline: E_BAD_CARD: ${line} (before @): the card is signed and handed to every peer, so they would be too; give the URL without them`,
      );
      expect(oneLine(r.stderr)).not.toContain('pw');
      expect(existsSync(dir)).toBe(false);
    }
  }, 60_000);

  test('init refuses two paths of its card that reach the same URL, naming them', async () => {
    const dir = join(root, 'same-path');
    const args = ['init', '--data', dir, '--party', 'uk', '--name-en', 'London'];
    for (const [more, line] of [
      [
        [
          '--endpoint',
          'https://hotline.uk.example:7100',
          '--relay',
          `https://HOTLINE.uk.example:7100/#spki=${'ab'.repeat(32)}`,
        ],
        'the endpoint https://HOTLINE.uk.example:7100/ is the same as https://hotline.uk.example:7100 (both reach https://hotline.uk.example:7100/)',
      ],
      [
        ['--endpoint', 'https://hotline.uk.example', '--endpoint', 'http://hotline.uk.example:443'],
        'the endpoint http://hotline.uk.example:443 is the same as https://hotline.uk.example (both reach https://hotline.uk.example/)',
      ],
    ] as const) {
      const r = await hotline([...args, ...more]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(
        `hotline: E_BAD_CARD: ${line}: each path of the card needs its own URL; give it once`,
      );
      expect(existsSync(dir)).toBe(false);
    }
  }, 60_000);

  test('init --relay <url>#spki=<pin> lists the relay in the card and pins it in hotline.yaml', async () => {
    const pin = 'ab'.repeat(32);
    const dir = join(root, 'relayed');
    const args = ['init', '--data', dir, '--party', 'uk', '--name-en', 'London'];
    const bad = await hotline([...args, '--relay', 'https://relay.example:7200#spki=AB12']);
    expect(bad.code).not.toBe(0);
    expect(oneLine(bad.stderr)).toMatch(/--relay .*#spki=<64 hex digits>/);
    expect(existsSync(dir)).toBe(false);
    const r = await hotline([...args, '--relay', `http://relay.example:7200#spki=${pin}`]);
    expect(r.code).toBe(0);
    const { card } = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
    expect(card.endpoints).toContainEqual({
      id: 'relay-1',
      kind: 'relay',
      url: 'https://relay.example:7200',
      priority: 50,
    });
    expect(readConfig(dir).relays).toEqual([{ url: 'https://relay.example:7200', pin }]);
  }, 60_000);

  test('card prints the signed card as JSON on stdout and its fingerprint on stderr', async () => {
    const [atUs, atCn] = await Promise.all([
      hotline(['card', '--data', us.dir]),
      hotline(['card', '--data', cn.dir]),
    ]);
    for (const [node, r] of [
      [us, atUs],
      [cn, atCn],
    ] as const) {
      expect(r.code).toBe(0);
      const signed = JSON.parse(r.stdout);
      expect(signed.card.party).toBe(node.party);
      expect(signed.card.names.en).toBe(node === us ? 'Washington' : 'Beijing');
      expect(r.stderr).toBe(`Fingerprint: ${node.fingerprint}\n`);
    }
    // The cards the nodes will pin, as the operators would pass them on.
    await Promise.all([us.exportCard(), cn.exportCard()]);
  }, 60_000);

  test('peer add without --yes, and without a terminal to ask on, refuses in one line and pins nothing', async () => {
    const r = await hotline(['peer', 'add', join(root, 'cn.card.json'), '--data', us.dir]);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^hotline: .*--yes/);
    // It still showed the fingerprint to compare.
    expect(r.stdout).toContain(`Fingerprint: ${cn.fingerprint}`);
    if (existsSync(us.db)) {
      const db = new Database(us.db, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM peers').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    }
  }, 60_000);

  test('peer add --yes pins the other’s card, both ways', async () => {
    const [atUs, atCn] = await Promise.all([
      hotline(['peer', 'add', join(root, 'cn.card.json'), '--data', us.dir, '--yes']),
      hotline(['peer', 'add', join(root, 'us.card.json'), '--data', cn.dir, '--yes']),
    ]);
    expect(atUs.code).toBe(0);
    expect(atUs.stdout).toContain('Pinned "cn".');
    expect(atCn.code).toBe(0);
    expect(atCn.stdout).toContain('Pinned "us".');
  }, 60_000);

  test('peer add refuses this node’s own card, and another card for a pinned party', async () => {
    const own = await hotline([
      'peer',
      'add',
      join(root, 'us.card.json'),
      '--data',
      us.dir,
      '--yes',
    ]);
    expect(own.code).toBe(1);
    expect(oneLine(own.stderr)).toContain(`that is this node's own card ("us")`);
    // Someone else's keys under Beijing's name: a substitution, not a pin.
    const impostor = join(root, 'impostor');
    await hotlineOk(['init', '--data', impostor, '--party', 'cn', '--name-en', 'Impostor']);
    const card = join(root, 'impostor.card.json');
    writeFileSync(card, (await hotlineOk(['card', '--data', impostor])).stdout);
    const swapped = await hotline(['peer', 'add', card, '--data', us.dir, '--yes']);
    expect(swapped.code).toBe(1);
    expect(oneLine(swapped.stderr)).toContain(
      `E_CONFLICT: "cn" is pinned already, with the fingerprint ${cn.fingerprint}`,
    );
    // The same card again (say, to take its new endpoints) is pinned as before.
    await hotlineOk(['peer', 'add', join(root, 'cn.card.json'), '--data', us.dir, '--yes']);
  }, 60_000);

  test('serve runs each node; node.json names its operator API, which answers', async () => {
    await Promise.all([us.start(), cn.start()]);
    for (const node of [us, cn]) {
      const running = JSON.parse(readFileSync(join(node.dir, 'node.json'), 'utf8'));
      expect(running.pid).toBe(node.pid);
      expect(running.operatorUrl).toBe(node.operatorUrl);
      const status = await node.api<Status>('GET', '/api/v1/status');
      expect(status.party).toBe(node.party);
      expect(status.peers.map((p) => p.fingerprint)).toEqual([(node === us ? cn : us).fingerprint]);
    }
  }, 60_000);

  test('a second serve of a running node, or an empty --data, says so in one line', async () => {
    const again = await hotline(['serve', '--data', us.dir]);
    expect(again.code).toBe(1);
    expect(oneLine(again.stderr)).toContain(`is running already (process ${us.pid},`);
    const empty = await hotline(['status', '--data', '']);
    expect(oneLine(empty.stderr)).toBe('hotline: --data is empty: name the node’s data folder');
  }, 60_000);

  test('send prints the id of the released message', async () => {
    const r = await hotline([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--precedence',
      'flash',
      '--text',
      'Are you seeing this?',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const match = /^Released (\S+) \(cn #1\)$/.exec(r.stdout.trim());
    expect(match, r.stdout).not.toBeNull();
    released = match?.[1] as string;
    expect(released).toMatch(UUID);
  }, 60_000);

  test('inbox --json on the other side shows it', async () => {
    await until(
      'the message to reach Beijing',
      async () =>
        (await cn.api<InboxItem[]>('GET', '/api/v1/inbox?limit=10')).some((m) => m.id === released),
      15_000,
    );
    const r = await hotline(['inbox', '--data', cn.dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const inbox = JSON.parse(r.stdout) as InboxItem[];
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({
      from: 'us',
      id: released,
      seq: 1,
      body: { precedence: 'flash', text: { lang: 'en', body: 'Are you seeing this?' } },
    });
  }, 60_000);

  test('status --json shows the path up after a heartbeat, nothing pending, and the last receipt', async () => {
    await until(
      'a heartbeat and a receipt',
      async () => {
        const peer = (await us.api<Status>('GET', '/api/v1/status')).peers[0];
        return peer?.path.state === 'up' && peer.outbox.lastReceiptAt !== null;
      },
      15_000,
    );
    const r = await hotline(['status', '--data', us.dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as Status;
    expect(status.party).toBe('us');
    expect(status.peers).toHaveLength(1);
    const [peer] = status.peers;
    expect(peer?.party).toBe('cn');
    expect(peer?.path.state).toBe('up');
    expect(peer?.path.rttMs).toBeTypeOf('number');
    expect(peer?.path.lastHeartbeat).not.toBeNull();
    expect(peer?.outbox.pending).toBe(0);
    expect(Date.parse(peer?.outbox.lastReceiptAt ?? '')).not.toBeNaN();
    expect(status.alarms).toEqual([]);
  }, 60_000);

  test('send with codes and the sender’s own translation; show renders them in the reader’s language', async () => {
    const r = await hotlineOk([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--lang',
      'zh',
      '--text',
      '我方正在调查。',
      '--translation',
      'en=We are investigating.',
      '--code',
      'phrase.investigating',
      '--json',
    ]);
    const { id } = JSON.parse(r.stdout) as { id: string };
    await until(
      'the message to reach Beijing',
      async () =>
        (await cn.api<InboxItem[]>('GET', '/api/v1/inbox?limit=10')).some((m) => m.id === id),
      15_000,
    );
    const shown = await hotlineOk(['show', 'us', id, '--data', cn.dir, '--lang', 'zh']);
    expect(shown.stdout).toContain('  我方正在调查。\n');
    expect(shown.stdout).toContain('  [原文（以此为准）] (zh) 我方正在调查。');
    expect(shown.stdout).toContain('  [发送方提供的译文] (en) We are investigating.');
    expect(shown.stdout).toContain('⚠ phrase.investigating: 尚未经母语人士审核');

    await hotlineOk([
      'translate',
      'add',
      'us',
      id,
      '--data',
      cn.dir,
      '--lang',
      'en',
      '--status',
      'sight',
      '--text',
      'We are looking into it.',
      '--translator',
      'cn/interpreter',
    ]);
    const listed = await hotlineOk(['translate', 'list', 'us', id, '--data', cn.dir]);
    expect(listed.stdout).toMatch(
      /\[local translation, not the sender's words · translated by cn\/interpreter · sight translation\] \(en\) We are looking into it\./,
    );
    const machine = await hotline([
      'translate',
      'machine',
      'us',
      id,
      '--data',
      cn.dir,
      '--lang',
      'en',
    ]);
    expect(machine.code).not.toBe(0);
    expect(oneLine(machine.stderr)).toMatch(/^hotline: E_NO_TRANSLATOR: /);
  }, 180_000);

  test('cap writes a CAP 1.2 alert valid against the schema, TLP:RED left out', async () => {
    const incident = uuidv7();
    const report = (tlp: string, text: string, type = 'incident.report') => ({
      to: ['cn'],
      message: {
        type,
        incident,
        precedence: 'flash',
        status: 'exercise',
        tlp,
        codes: ['certainty.likely'],
        text: { lang: 'en', body: text },
        translations: [],
        attachments: [],
        author: { desk: 'ops' },
        approvals: [],
        report: {
          nature: 'hazard',
          category: 'category.loss-of-control',
          actionsTaken: [],
          actionsRequested: ['action.halt-system'],
        },
      },
    });
    await us.api('POST', '/api/v1/messages', report('red', 'Secret detail.'));
    await us.api(
      'POST',
      '/api/v1/messages',
      report('amber', 'Model no longer obeys shutdown.', 'incident.update'),
    );
    const out = join(root, 'alert.xml');
    const r = await hotlineOk(['cap', incident, '--data', us.dir, '--out', out]);
    expect(r.stderr).toContain('CAP 1.2 alert of 1 message(s); 1 TLP:RED message(s) left out');
    const xml = readFileSync(out, 'utf8');
    expect(await capSchemaErrors(xml)).toEqual([]);
    expect(xml).toContain('<event>人工智能模型失控</event>');
    expect(xml).not.toContain('Secret detail.');
    const unforced = await hotline(['cap', incident, '--data', us.dir, '--include-red']);
    expect(oneLine(unforced.stderr)).toMatch(/--include-red needs --reason/);
    const alone = await hotline(['cap', incident, '--data', us.dir, '--reason', 'joint review']);
    expect(alone.code).toBe(1);
    expect(oneLine(alone.stderr)).toContain('--reason goes with --include-red');
    const force = ['cap', incident, '--data', us.dir, '--include-red', '--reason', 'joint review'];
    const stranger = await hotline([...force, '--desk', 'nodesk']);
    expect(oneLine(stranger.stderr)).toContain('there is no desk "nodesk" on this node');
    // Without --desk, the forcing is recorded under the first desk the admin staffs.
    const forced = await hotlineOk([...force, '--out', out, '--force']);
    expect(forced.stderr).toMatch(/CAP 1\.2 alert of 2 message\(s\); recorded at ledger leaf \d+/);
    expect(readFileSync(out, 'utf8')).toContain('Secret detail.');
  }, 180_000);

  test('vocabulary check and stix check files offline', async () => {
    const check = await hotlineOk(['vocabulary', 'check']);
    expect(check.stdout).toMatch(
      /^OK: vocabulary 2026\.3, hash [0-9a-f]{64}\n102 entries in en, zh; /,
    );
    // Language tags are not case sensitive: ZH is zh.
    const shown = await hotlineOk(['vocabulary', 'show', 'category.other', '--lang', 'ZH']);
    expect(shown.stdout).toContain('category.other  其他');
    expect(shown.stdout).not.toContain('⚠ no text in this language');
    const bad = join(root, 'bad-stix.json');
    writeFileSync(bad, JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [] }));
    const stix = await hotline(['stix', bad]);
    expect(stix.code).toBe(1);
    expect(stix.stdout).toContain('NOT VALID: id: must be "bundle--" followed by a UUID');
    const red = await hotlineOk([
      'stix',
      new URL('../vectors/stix/tlp2-red-referenced.json', import.meta.url).pathname,
    ]);
    expect(red.stdout).toMatch(/^OK: bundle--\S+, 2 objects, marked TLP:RED\n/);
  }, 180_000);

  test('send to a party that is not pinned exits non-zero with E_UNKNOWN_PARTY', async () => {
    const r = await hotline(['send', '--data', us.dir, '--to', 'eu', '--text', 'Hello?']);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/E_UNKNOWN_PARTY/);
    expect(r.stdout).toBe('');
  }, 60_000);

  test('a name where the party id goes is refused with the pinned parties’ ids and names', async () => {
    const r = await hotline(['send', '--data', us.dir, '--to', 'Beijing', '--text', 'Hello?']);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toBe(
      'hotline: E_UNKNOWN_PARTY: "Beijing" is not a pinned party (did you mean --to cn?); pinned: cn (Beijing / 北京)',
    );
    expect(r.stdout).toBe('');
    const unknown = await hotline(['send', '--data', us.dir, '--to', 'eu', '--text', 'Hello?']);
    expect(oneLine(unknown.stderr)).toBe(
      'hotline: E_UNKNOWN_PARTY: "eu" is not a pinned party; pinned: cn (Beijing / 北京)',
    );
    // Every command that sends to a party answers the same, and for this node's own party.
    const pinned = '; pinned: cn (Beijing / 北京)';
    for (const [args, to, what] of [
      [['drill'], 'Beijing', 'is not a pinned party (did you mean --to cn?)'],
      [['presence', 'ask'], 'Beijing', 'is not a pinned party (did you mean --to cn?)'],
      [
        ['conference', 'request', '--at', '2031-01-01T10:00Z'],
        'Beijing',
        'is not a pinned party (did you mean --to cn?)',
      ],

      [['send', '--text', 'Hello?'], 'us', "is this node's own party"],
      [['drill'], 'us', "is this node's own party"],
    ] as const) {
      const r = await hotline([...args, '--data', us.dir, '--to', to]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLine(r.stderr), args.join(' ')).toBe(
        `hotline: E_UNKNOWN_PARTY: "${to}" ${what}${pinned}`,
      );
    }
  }, 60_000);

  test('send with a code its vocabulary does not have is refused, naming it, and nothing is released', async () => {
    const before = await beijingInbox();
    const r = await hotline([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--code',
      'phrase.investigating',
      '--code',
      'phrase.investigatign',
    ]);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toBe(
      'hotline: E_UNKNOWN_CODE: "phrase.investigatign" is not a code of this node\'s vocabulary (2026.3; hotline vocabulary show lists them)',
    );
    // A released message would reach Beijing within a heartbeat (300 ms here).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await beijingInbox()).toBe(before);
  }, 60_000);

  test('send with neither text nor a code is refused before anything is released', async () => {
    const before = await beijingInbox();
    const r = await hotline(['send', '--data', us.dir, '--to', 'cn']);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^hotline: nothing to send: give --text, or --code/);
    // A released message would reach Beijing within a heartbeat (300 ms here).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await beijingInbox()).toBe(before);
  }, 60_000);

  test('send --in-reply-to a message this node never sent or received is refused, naming it', async () => {
    const before = await beijingInbox();
    const nowhere = uuidv7();
    const r = await hotline(
      ['send', '--data', us.dir, '--to', 'cn', '--type', 'reply', '--text', 'Yes.'].concat([
        '--in-reply-to',
        nowhere,
      ]),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `hotline: E_NOT_FOUND: there is no message ${nowhere} sent or received here for this one to answer (inReplyTo): check the id in the inbox or outbox`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await beijingInbox()).toBe(before);
  }, 60_000);

  test('an unknown command, even with --help, exits non-zero with one line naming it', async () => {
    for (const [args, words, help] of [
      [['nosuch', '--help'], 'nosuch', 'hotline'],
      [['nosuch'], 'nosuch', 'hotline'],
      [['help', 'nosuch'], 'nosuch', 'hotline'],
      [['peer', 'nosuch'], 'peer nosuch', 'hotline peer'],
      [['user', 'nosuch', '--help'], 'user nosuch', 'hotline user'],
    ] as const) {
      const r = await hotline([...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(`hotline: unknown command "${words}" (see "${help} --help")`);
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  test('a --data folder that does not exist is named as such, not as a stopped node', async () => {
    const missing = join(root, 'no-such-folder');
    for (const args of [['status'], ['send', '--to', 'cn', '--text', 'Hi'], ['card'], ['serve']]) {
      const r = await hotline([...args, '--data', missing]);
      expect(r.code, args[0]).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(
        `hotline: the data folder ${missing} does not exist (check --data; "hotline init" makes one)`,
      );
    }
    expect(existsSync(missing)).toBe(false);
  }, 60_000);

  test('a folder that is not a data folder, or a file given as one, is named as such', async () => {
    const plain = mkdtempSync(join(root, 'not-a-node-'));
    const file = join(us.dir, 'hotline.yaml');
    for (const [data, line] of [
      [
        plain,
        `hotline: ${plain} is not a Hotline data folder: it has no hotline.yaml (check --data; "hotline init" makes one)`,
      ],
      [file, `hotline: --data ${file} is a file, not a folder`],
    ] as const)
      for (const args of [['status'], ['send', '--to', 'cn', '--text', 'Hi'], ['serve']]) {
        const r = await hotline([...args, '--data', data]);
        expect(r.code, args[0]).not.toBe(0);
        expect(oneLine(r.stderr)).toBe(line);
      }
  }, 60_000);

  test('options that do not go together are refused in one line, not ignored', async () => {
    const id = '01937a8e-4f00-7000-8000-000000000001';
    for (const [args, said] of [
      [['user', 'token', 'admin', '--list', '--revoke', 'abc'], "'--list' cannot be used with"],
      [['audit', '--verify', '--actor', 'admin'], "'--verify' cannot be used with"],
      [
        ['export', '--out', join(root, 'x.jsonl'), '--no-bodies', '--include-red'],
        "'--no-bodies' cannot be used with option '--include-red'",
      ],
      [['incident', id, '--out', join(root, 'x.json')], '--out goes with --export'],
      [['incident', id, '--text', 'hello'], '--text goes with an action'],
      [
        ['conference', 'answer', 'cn', id, 'decline', '--at', '2031-01-01T10:00Z'],
        '--at goes with propose, not decline',
      ],
    ] as const) {
      const r = await hotline([...args, '--data', us.dir]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.split('\n')[0], args.join(' ')).toContain(said);
    }
  }, 60_000);

  test('a number option out of its range is refused in one line naming it, before the node is asked', async () => {
    for (const [args, line] of [
      [['inbox', '--limit', 'abc'], '--limit "abc" is not a whole number from 1 to 10000'],
      [['inbox', '--limit', '0'], '--limit "0" is not a whole number from 1 to 10000'],
      [['inbox', '--limit', '10001'], '--limit "10001" is not a whole number from 1 to 10000'],
      [['drafts', '--limit', '1.5'], '--limit "1.5" is not a whole number from 1 to 10000'],
      [['readiness', '--last', '-3'], '--last "-3" is not a whole number from 1 to 10000'],
      [['audit', '--limit', '2e3'], '--limit "2e3" is not a whole number from 1 to 10000'],
      [
        ['conference', 'request', '--to', 'cn', '--at', '2027-01-04T09:00Z', '--minutes', '3O'],
        '--minutes "3O" is not a whole number from 1 to 1440',
      ],
      [
        ['user', 'token', 'admin', '--expires-days', 'soon'],
        '--expires-days "soon" is not a whole number from 1 to 3650',
      ],
    ] as const) {
      const r = await hotline([...args, '--data', us.dir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(`hotline: ${line}`);
      expect(r.stdout).toBe('');
    }
    // In range, the same options work as before.
    const inbox = await hotlineOk(['inbox', '--data', cn.dir, '--json', '--limit', '1']);
    expect(JSON.parse(inbox.stdout)).toHaveLength(1);
  }, 60_000);

  test('an id or a language tag of the wrong form is refused in words, not as a pattern', async () => {
    for (const [args, line] of [
      [
        ['show', 'cn', 'not-an-id'],
        '<id> "not-an-id" is not a message or incident id (a lowercase UUIDv7)',
      ],
      [
        ['send', '--to', 'cn', '--text', 'Hi', '--lang', 'chinese'],
        '--lang is not a language tag (e.g. en, zh, zh-Hans)',
      ],
    ] as const) {
      const r = await hotline([...args, '--data', us.dir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(`hotline: E_MALFORMED: ${line}`);
    }
  }, 60_000);

  test('a file to read that is missing or a folder, or a file to write in no folder, is named in one line and nothing is done', async () => {
    const missing = join(root, 'no-such-file.json');
    const out = join(root, 'no-such-folder', 'bundle.jsonl');
    for (const [args, line] of [
      [['verify', missing], `<file> ${missing} does not exist`],
      [['verify', root], `<file> ${root} is a folder, not a file`],
      [['note', 'verify', missing], `<file> ${missing} does not exist`],
      [['peer', 'add', '--data', us.dir, missing], `<cardFile> ${missing} does not exist`],
      [
        ['send', '--data', us.dir, '--to', 'cn', '--text', 'See attached', '--stix', missing],
        `--stix ${missing} does not exist`,
      ],
      [['export', '--data', us.dir, '--out', out], `the folder of ${out} does not exist`],
      [['export', '--data', us.dir, '--out', root], `--out ${root} is a folder, not a file`],
      [
        ['verify', join(us.dir, 'hotline.yaml', 'x')],
        `${join(us.dir, 'hotline.yaml', 'x')}: a part of the path is not a folder`,
      ],
    ] as const) {
      const r = await hotline(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(`hotline: ${line}`);
    }
    expect(existsSync(join(root, 'no-such-folder'))).toBe(false);
    const notJson = join(root, 'not-a-card.json');
    writeFileSync(notJson, 'nope\n');
    const card = await hotline(['peer', 'add', '--data', us.dir, '--yes', notJson]);
    expect(oneLine(card.stderr)).toMatch(/^hotline: \S+not-a-card\.json is not JSON \(.+\)$/);
  }, 60_000);

  test('send to a peer no path reaches says so: the message waits in the outbox', async () => {
    await cn.kill();
    await until(
      'every path to Beijing down',
      async () =>
        (
          await us.api<{ peers: Array<{ party: string; paths: Array<{ state: string }> }> }>(
            'GET',
            '/api/v1/status',
          )
        ).peers
          .find((peer) => peer.party === 'cn')
          ?.paths.every((path) => path.state === 'down'),
      30_000,
    );
    const r = await hotlineOk(['send', '--data', us.dir, '--to', 'cn', '--text', 'Are you there?']);
    expect(r.stdout).toMatch(/^Released /);
    expect(oneLine(r.stderr)).toBe(
      'Warning: no path reaches cn now; the message waits in the outbox and is delivered when one is back (hotline status)',
    );
  }, 60_000);

  test('after the node is killed, its commands say it is not running, not that it does not answer', async () => {
    await us.kill();
    // The killed process had no chance to remove its node.json.
    expect(existsSync(join(us.dir, 'node.json'))).toBe(true);
    for (const args of [['status'], ['inbox'], ['send', '--to', 'cn', '--text', 'Still there?']]) {
      const r = await hotline([...args, '--data', us.dir]);
      expect(r.code, args[0]).not.toBe(0);
      expect(oneLine(r.stderr)).toMatch(
        /^hotline: the node for \S+ is not running .*hotline serve/,
      );
    }
  }, 60_000);
});
