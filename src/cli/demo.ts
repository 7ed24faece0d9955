/**
 * `hotline demo` (what `npm start` runs): two nodes, Washington (us) and Beijing (cn), on
 * loopback, each with fresh keys and its own SQLite file; each pins the other's card, one
 * message goes each way, and both receipts are verified. Then both keep serving until Ctrl-C.
 * Each run starts afresh in its folder, which it empties only when it made it itself.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkListenable } from '../api/listen.ts';
import { type RunningNode, startNode } from '../app/start.ts';
import { fingerprint } from '../crypto/card.ts';
import { readConfig } from '../node/core/config.ts';
import { initNode, openNodeStore, paths, readOwnCard } from '../node/core/data.ts';
import { pinPeer } from '../node/core/peers.ts';
import { generatePassword, type Role } from '../node/people/accounts.ts';
import { dataFolderActor, openPeople } from '../node/people/people.ts';
import type { Draft } from '../protocol/body.ts';
import type { Store } from '../store/store.ts';
import { conflict, malformed } from './inputs.ts';

const SITES = [
  {
    party: 'us',
    names: { en: 'Washington', zh: '华盛顿' },
    listen: '127.0.0.1:7100',
    operatorListen: '127.0.0.1:7101',
  },
  {
    party: 'cn',
    names: { en: 'Beijing', zh: '北京' },
    listen: '127.0.0.1:7200',
    operatorListen: '127.0.0.1:7201',
  },
] as const;

function draft(lang: string, text: string): Draft {
  return {
    type: 'test',
    precedence: 'flash',
    status: 'test',
    tlp: 'clear',
    codes: [],
    text: { lang, body: text },
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
  };
}

async function receipted(
  store: Store,
  party: string,
  id: string,
  timeoutMs = 15_000,
): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const row = await store.getOutbox(party, id);
    if (row?.status === 'receipted' && row.peer_received_at) return row.peer_received_at;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no verified receipt for ${id} within ${timeoutMs} ms`);
}

interface Account {
  user: string;
  role: Role;
  password: string;
  desk: string;
}

/**
 * Demo accounts on one side: the first admin (from init), an operator at the operations desk and
 * an officer at the duty officer's desk, each on a 12-hour shift from now, and the admin on duty
 * at the principal's desk.
 */
async function addDemoPeople(data: string, admin: Account): Promise<Account[]> {
  const store = await openNodeStore(data);
  try {
    const { accounts, roster } = openPeople(store, readConfig(data));
    const by = dataFolderActor();
    await roster.addDesk(by, 'duty-officer', 'Duty officer');
    await roster.addDesk(by, 'principal', 'Principal');
    const accounts_: Account[] = [
      { user: 'operator', role: 'operator', password: generatePassword(), desk: 'ops' },
      { user: 'officer', role: 'officer', password: generatePassword(), desk: 'duty-officer' },
    ];
    for (const a of accounts_)
      await accounts.add(by, { name: a.user, role: a.role, password: a.password });
    // Every desk of the escalation ladder (ops → duty-officer → principal) has someone on duty;
    // in the demo the admin stands in as the principal.
    const now = Date.now();
    for (const { desk, user } of [...accounts_, { desk: 'principal', user: admin.user }]) {
      await roster.putStaff(by, desk, user, [{ kind: 'console' }]);
      await roster.addShift(by, {
        desk,
        user,
        startsAt: new Date(now - 60_000).toISOString(),
        endsAt: new Date(now + 12 * 3_600_000).toISOString(),
      });
    }
    return [...accounts_, admin];
  } finally {
    await store.close();
  }
}

/** At the top of the demo's folder: made by `hotline demo`, with the fingerprint of each node. */
const MARKER = 'hotline-demo.json';

interface Marker {
  madeBy: 'hotline demo';
  fingerprints: Record<string, string>;
}

function readMarker(root: string): Marker | undefined {
  try {
    const marker = JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as Partial<Marker>;
    if (marker.madeBy === 'hotline demo' && typeof marker.fingerprints === 'object')
      return marker as Marker;
  } catch {}
  return undefined;
}

function entries(root: string): string[] | undefined {
  try {
    return readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Why `root` is not the demo's to empty, or undefined when it is: absent or empty, or as a run
 * left it (its marker, and beside it only the parties' folders, each holding the node whose
 * fingerprint the marker names: a node copied in from elsewhere has another).
 */
function notTheDemos(root: string): string | undefined {
  const found = entries(root);
  if (!found?.length) return undefined;
  const marker = readMarker(root);
  if (!marker) return `${root} is not empty and has no ${MARKER}: the demo did not make it`;
  const parties: readonly string[] = SITES.map((site) => site.party);
  const other = found.find((name) => name !== MARKER && !parties.includes(name));
  if (other) return `${root} holds ${other}, which the demo did not make`;
  for (const party of found.filter((name) => parties.includes(name))) {
    let made: string | undefined;
    try {
      made = fingerprint(readOwnCard(join(root, party)).card);
    } catch {}
    if (made === undefined || made !== marker.fingerprints[party])
      return `${join(root, party)} is not a node the demo made (it has no card, or one of another fingerprint)`;
  }
  return undefined;
}

/**
 * The demo's folder for `dir`, emptied for a new run once its listeners can be opened; a folder
 * the demo did not make (`notTheDemos`), or a listener taken, is refused, and nothing is deleted.
 */
export async function clearDemoFolder(dir: string): Promise<string> {
  if (!dir.trim()) throw malformed('--dir is empty: name a folder for the demo (it makes one)');
  const root = resolve(dir);
  if (entries(root) === undefined && statSync(root, { throwIfNoEntry: false }))
    throw malformed(`--dir ${dir} is a file, not a folder`);
  const why = notTheDemos(root);
  if (why)
    throw conflict(
      `${why}. Nothing was deleted: give --dir a new or empty folder, or one an earlier demo made`,
    );
  await checkListenable(
    SITES.flatMap((site) => [
      { address: site.listen, setting: `the demo's ${site.names.en} federation listener` },
      { address: site.operatorListen, setting: `the demo's ${site.names.en} operator listener` },
    ]),
  );
  for (const name of entries(root) ?? [])
    rmSync(join(root, name), { recursive: true, force: true });
  return root;
}

export async function runDemo(dir: string): Promise<void> {
  const root = await clearDemoFolder(dir);
  const marker: Marker = { madeBy: 'hotline demo', fingerprints: {} };
  const markFolder = () =>
    writeFileSync(join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  mkdirSync(root, { recursive: true });
  markFolder();
  const cards = [];
  const people: Account[][] = [];
  for (const site of SITES) {
    const data = join(root, site.party);
    const { signed, admin } = await initNode(data, {
      party: site.party,
      names: site.names,
      endpoints: [`https://${site.listen}`],
      listen: site.listen,
      operatorListen: site.operatorListen,
    });
    cards.push(signed);
    marker.fingerprints[site.party] = fingerprint(signed.card);
    markFolder();
    people.push(
      await addDemoPeople(data, { ...admin, user: admin.name, role: 'admin', desk: 'ops' }),
    );
  }
  for (const [i, site] of SITES.entries()) {
    const store = await openNodeStore(join(root, site.party));
    await pinPeer(store, cards[1 - i] as (typeof cards)[number], site.party);
    await store.close();
  }
  const nodes: RunningNode[] = [];
  for (const site of SITES)
    nodes.push(await startNode(join(root, site.party), { logLevel: 'warn' }));
  const [us, cn] = nodes as [RunningNode, RunningNode];

  console.log('Hotline demo: two sovereign nodes on loopback\n');
  for (const [i, site] of SITES.entries()) {
    const running = nodes[i] as RunningNode;
    console.log(`${site.names.en} (${site.party}) ${site.names.zh}`);
    console.log(`  federation  ${running.federationUrl}`);
    console.log(
      `  operator    ${running.operatorUrl}   (token in ${paths(join(root, site.party)).token})`,
    );
    console.log(`  console     ${running.operatorUrl}/   (open in a browser; sign in below)`);
    console.log(`  data        ${join(root, site.party)}`);
    console.log(`  fingerprint ${fingerprint((cards[i] as (typeof cards)[number]).card)}`);
    console.log('  accounts    (for the console; passwords are new every run)');
    for (const a of people[i] ?? [])
      console.log(
        `    ${a.role.padEnd(9)} ${a.user.padEnd(9)} password ${a.password}  desk ${a.desk}`,
      );
    console.log(
      '    (officer and admin enrol a second factor, an authenticator app or a passkey, at first sign-in)',
    );
    console.log('');
  }

  const toCn = await us.node.release(
    ['cn'],
    draft('en', 'Washington to Beijing: link test. Please acknowledge.'),
  );
  const toUs = await cn.node.release(['us'], {
    ...draft('zh', '北京致华盛顿：线路测试，请确认。'),
    // Structured content is a vocabulary code; the sender adds its own English translation.
    codes: ['action.confirm-receipt'],
    translations: [{ lang: 'en', body: 'Beijing to Washington: link test. Please confirm.' }],
  });
  const [atCn, atUs] = await Promise.all([
    receipted(us.store, 'cn', toCn.id),
    receipted(cn.store, 'us', toUs.id),
  ]);
  console.log(`us → cn  ${toCn.id}  stored by Beijing at ${atCn}, receipt verified`);
  console.log(`cn → us  ${toUs.id}  stored by Washington at ${atUs}, receipt verified\n`);
  const seen = await us.language.view('cn', toUs.id, 'en');
  console.log('Washington reads it in English:');
  for (const c of seen.rendered.codes) console.log(`  ${c.text}  [${c.warnings.join('; ')}]`);
  if (seen.rendered.text)
    console.log(
      `  ${seen.rendered.text.label} (${seen.rendered.text.lang}): ${seen.rendered.text.body}`,
    );
  for (const t of seen.rendered.senderTranslations)
    console.log(`  ${t.label} (${t.lang}): ${t.body}`);
  console.log('');

  const cli = 'node bin/hotline.js';
  console.log('Try, in another terminal:');
  console.log(
    `  ${cli} send   --data ${join(dir, 'us')} --to cn --precedence flash --text "Are you seeing this?"`,
  );
  console.log(`  ${cli} inbox  --data ${join(dir, 'cn')}`);
  console.log(`  ${cli} show cn ${toUs.id} --data ${join(dir, 'us')} --lang zh`);
  console.log(`  ${cli} status --data ${join(dir, 'us')}`);
  console.log(`  ${cli} roster duty ops --data ${join(dir, 'cn')}`);
  console.log(`  ${cli} audit --data ${join(dir, 'us')}`);
  const us0 = SITES[0].operatorListen;
  const op = people[0]?.[0];
  console.log(
    `  curl -i -H 'content-type: application/json' -d '{"user":"${op?.user}","password":"${op?.password}"}' http://${us0}/api/v1/session`,
  );
  console.log("  (the CLI acts as each side's admin, with the token in <data>/operator.token)");
  console.log('\nBoth nodes keep serving. Ctrl-C stops them.');

  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
