/**
 * The data folder of a node: keys, its own signed card, configuration, database, and the first
 * admin's token the CLI uses. `initNode` is what `hotline init` does.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCard, onlyKey, signCard, verifyCard } from '../../crypto/card.ts';
import { generateNodeKeys, NodeKeys } from '../../crypto/keys.ts';
import { makeTlsIdentity, type TlsIdentity } from '../../crypto/tls.ts';
import type { Endpoint, KeyPurpose, SignedCard } from '../../protocol/card.ts';
import { inputProblem } from '../../protocol/common.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { loadRegimes } from '../../protocol/regimes.ts';
import { loadVocabulary } from '../../protocol/vocabulary.ts';
import { openPostgresStore, openPostgresStoreReadOnly } from '../../store/postgres/index.ts';
import { openSqliteStore, openSqliteStoreReadOnly } from '../../store/sqlite/index.ts';
import type { Store } from '../../store/store.ts';
import { createFirstAdmin, openPeople } from '../people/people.ts';
import { type Config, type Pkcs11Config, readConfig, writeConfig } from './config.ts';
import {
  readKeyFiles,
  readRetiredSealingKeys,
  readTlsFiles,
  writeKeyFiles,
  writeTlsFiles,
} from './keyfiles.ts';
import { writeOutFileSync } from './out-file.ts';
import { DataDirError, paths } from './paths.ts';
import { TokenSession, tokenPin } from './pkcs11.ts';
import { writeVapidKey } from './vapid.ts';

export { DataDirError, paths, readToken } from './paths.ts';

export interface InitOptions {
  party: string;
  names: Record<string, string>;
  endpoints: string[];
  /**
   * Relays where this node also takes mail (store-and-forward paths in its card); one with its
   * pin (what `hotline relay` prints) is also written to the `relays` setting, so it is called
   * over pinned mutual TLS.
   */
  relays?: Array<string | { url: string; pin: string }>;
  listen?: string;
  operatorListen?: string;
  /** The joint vocabulary file to announce in the card (the shipped one by default). */
  vocabularyFile?: string;
  /** The notification regimes file to pin in the card (the shipped one by default). */
  regimesFile?: string;
  now?: Date;
  /** Where the records go (default: SQLite in the folder); the first admin is created there. */
  store?: Config['store'];
  /** The first admin's account name (default `admin`) and password (default: generated). */
  admin?: { name?: string; password?: string };
  /** Seal the key files with this passphrase (scrypt + AES-256-GCM; see ./keyseal.ts). */
  passphrase?: string;
  /**
   * Make the identity, signing, log and witness keys on this PKCS#11 token (./pkcs11.ts), logged
   * in with `pin`; only their public halves leave it, into the card.
   */
  pkcs11?: { token: Omit<Pkcs11Config, 'labels'>; pin: string };
}

/** The key purposes `hotline init --pkcs11-module` puts on the token. */
export const TOKEN_PURPOSES = ['identity', 'signing', 'log', 'witness'] as const;

export interface InitResult {
  signed: SignedCard;
  /** The first admin's name and password, to show once; its CLI token is in operator.token. */
  admin: { name: string; password: string };
}

/**
 * Why a URL of this node's own card is refused: a user name or password in it
 * (`https://user:pw@host`) would be signed into the card every peer is handed and keeps, a secret
 * made public. The sentence shows the URL with them left out, and says `why` (by default, the
 * card's reason). Cards received are not held to this: what a peer signed is taken as it is.
 */
export function userInfoProblem(
  text: string,
  why = 'the card is signed and handed to every peer, so they would be too',
): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (!url.username && !url.password) return undefined;
  const what = url.password ? 'a user name and password' : 'a user name';
  url.username = '';
  url.password = '';
  return `the endpoint ${url.href} has ${what} in it (before @): ${why}; give the URL without them`;
}

/**
 * Why this node's own card would list one path twice, or undefined: two of its URLs (endpoints
 * and relays alike) that reach the same place once normalised as the sender reaches them (`http:`
 * taken as `https:`, host case, default port, `.` segments and the `#` part ignored), so the second
 * "path" would fail over to the first. Cards received are not held to this.
 */
export function repeatedPathProblem(urls: readonly string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const given of urls) {
    const key = pathKey(given);
    const first = seen.get(key);
    if (first !== undefined)
      return `the endpoint ${given} is the same as ${first} (both reach ${key}): each path of the card needs its own URL; give it once`;
    seen.set(key, given);
  }
  return undefined;
}

/** A path's URL as the sender calls it (./delivery/paths.ts): https, without the `#` part. */
function pathKey(text: string): string {
  const url = text.split('#')[0]?.replace(/^http:/i, 'https:') ?? text;
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Creates keys, a signed card, the configuration and an operator token in a new folder. */
export async function initDataDir(dir: string, options: InitOptions): Promise<SignedCard> {
  return (await initNode(dir, options)).signed;
}

/**
 * `hotline init`: keys (the Web Push VAPID key and the TLS key among them), a signed card, the configuration, the database with a first admin who
 * staffs the operations desk, and that admin's CLI token in `operator.token`.
 */
export async function initNode(dir: string, options: InitOptions): Promise<InitResult> {
  const urls = [
    ...options.endpoints,
    ...(options.relays ?? []).map((r) => (typeof r === 'string' ? r : r.url)),
  ];
  for (const url of urls) {
    const problem = userInfoProblem(url);
    if (problem) throw new ProtocolError('E_BAD_CARD', problem);
  }
  const repeated = repeatedPathProblem(urls);
  if (repeated) throw new ProtocolError('E_BAD_CARD', repeated);
  for (const [lang, name] of Object.entries(options.names)) {
    const problem = inputProblem(name, 'name');
    if (problem) throw new ProtocolError('E_BAD_CARD', `card /names/${lang} ${problem}`);
  }
  const existed = existsSync(dir);
  if (existed && readdirSync(dir).length > 0)
    throw new DataDirError(
      `${dir} is not empty: refusing to overwrite what is there (choose a new folder)`,
    );
  // The token first: a wrong PIN or a missing token leaves nothing behind.
  const session = options.pkcs11
    ? TokenSession.open(options.pkcs11.token, options.pkcs11.pin)
    : undefined;
  try {
    return await initFolder(dir, options, session);
  } catch (e) {
    // A refused value (a party id, an endpoint) leaves the folder as it was, so the same
    // command with the mistake mended works. Keys already made on a token stay there.
    if (!existed) rmSync(dir, { recursive: true, force: true });
    else if (existsSync(dir))
      for (const entry of readdirSync(dir))
        rmSync(join(dir, entry), { recursive: true, force: true });
    throw e;
  } finally {
    session?.close();
  }
}

async function initFolder(
  dir: string,
  options: InitOptions,
  session: TokenSession | undefined,
): Promise<InitResult> {
  const generated = await generateNodeKeys(options.party);
  const labels: Pkcs11Config['labels'] = {};
  const onToken = session
    ? TOKEN_PURPOSES.map((purpose) => {
        const label = `hotline-${options.party}-${purpose}`;
        labels[purpose] = label;
        const name = generated.find((k) => k.entry.purpose === purpose)?.entry.name;
        return session.generate(purpose, label, name);
      })
    : [];
  const files = generated.filter((k) => !onToken.some((t) => t.entry.purpose === k.entry.purpose));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeKeyFiles(paths(dir).keys, files, options.passphrase);
  writeVapidKey(paths(dir).keys, options.passphrase);
  const keys = generated.map((k) => onToken.find((t) => t.entry.purpose === k.entry.purpose) ?? k);
  const tls = await makeTlsIdentity(options.party, options.now);
  writeTlsFiles(paths(dir).keys, tls, options.passphrase);
  const endpoints: Endpoint[] = options.endpoints.map((url, i) => ({
    id: i === 0 ? 'direct' : `alternate-${i}`,
    kind: 'direct',
    url,
    priority: i * 10,
  }));
  const relays = (options.relays ?? []).map((r) =>
    typeof r === 'string' ? r : { url: r.url.replace(/^http:/, 'https:'), pin: r.pin },
  );
  for (const [i, r] of relays.entries())
    endpoints.push({
      id: `relay-${i + 1}`,
      kind: 'relay',
      url: typeof r === 'string' ? r : r.url,
      priority: 50 + i,
    });
  const card = createCard({
    party: options.party,
    names: options.names,
    keys: keys.map((k) => k.entry),
    endpoints,
    vocabulary: loadVocabulary(options.vocabularyFile).ref,
    regimes: loadRegimes(options.regimesFile).ref,
    tlsPin: tls.pin,
    issued: options.now ?? new Date(),
  });
  const signed = signCard(card, new NodeKeys(files, { external: onToken }).signer('identity').key);
  writeFileSync(paths(dir).card, `${JSON.stringify(signed, null, 2)}\n`);
  const config: Partial<Config> & { party: string } = { party: options.party };
  if (options.listen) config.listen = options.listen;
  if (options.operatorListen) config.operatorListen = options.operatorListen;
  if (options.vocabularyFile) config.vocabularyFile = options.vocabularyFile;
  if (options.regimesFile) config.regimesFile = options.regimesFile;
  if (options.store && options.store.backend !== 'sqlite') config.store = options.store;
  if (options.pkcs11) config.keys = { pkcs11: { ...options.pkcs11.token, labels } };
  const pinned = relays.filter((r) => typeof r !== 'string');
  if (pinned.length) config.relays = pinned;
  writeConfig(dir, config);
  const store = await openNodeStore(dir);
  try {
    const people = openPeople(store, readConfig(dir));
    const admin = await createFirstAdmin(people, options.admin?.name, options.admin?.password);
    writeOutFileSync(paths(dir).token, `${admin.token}\n`);
    return { signed, admin: { name: admin.name, password: admin.password } };
  } finally {
    await store.close();
  }
}

export function readOwnCard(dir: string): SignedCard {
  return verifyCard(JSON.parse(readFileSync(paths(dir).card, 'utf8')));
}

/**
 * The node's online keys: from its key files, and from its PKCS#11 token for the purposes
 * `keys.pkcs11` names (checked against the card). Close them when done (the token session).
 */
export function readNodeKeys(dir: string, config: Config = readConfig(dir)): NodeKeys {
  const token = config.keys.pkcs11;
  const retiredSealing = readRetiredSealingKeys(paths(dir).keys);
  if (!token) return new NodeKeys(readKeyFiles(paths(dir).keys), { retiredSealing });
  const labels = Object.entries(token.labels) as Array<[KeyPurpose, string]>;
  const files = readKeyFiles(
    paths(dir).keys,
    undefined,
    undefined,
    labels.map(([purpose]) => purpose),
  );
  const card = readOwnCard(dir).card;
  const session = TokenSession.open(token, tokenPin(token));
  try {
    const external = labels.map(([purpose, label]) => session.find(onlyKey(card, purpose), label));
    return new NodeKeys(files, { external, close: () => session.close(), retiredSealing });
  } catch (e) {
    session.close();
    throw e;
  }
}

/** The node's TLS key and certificate; undefined in a folder made before pinned TLS. */
export function readNodeTls(dir: string): TlsIdentity | undefined {
  return readTlsFiles(paths(dir).keys);
}

/** Opens (and migrates) the node's store where its configuration says: SQLite or PostgreSQL. */
export function openNodeStore(dir: string, config: Config = readConfig(dir)): Promise<Store> {
  const { backend, url, schema } = config.store;
  if (backend === 'postgres')
    return openPostgresStore({
      url: url ?? '',
      ...(schema ? { schema } : {}),
      // A replica paused inside a transaction must not hold the others' turn past its lease.
      ...(config.replica ? { idleInTransactionMs: config.replica.leaseMs } : {}),
    });
  return openSqliteStore(paths(dir).db);
}

/** Opens the node's store for reading only, beside a running node or in a stopped one's folder. */
export async function openNodeStoreReadOnly(dir: string): Promise<Store> {
  const { backend, url, schema } = readConfig(dir).store;
  if (backend === 'postgres')
    return openPostgresStoreReadOnly({ url: url ?? '', ...(schema ? { schema } : {}) });
  return openSqliteStoreReadOnly(paths(dir).db);
}
