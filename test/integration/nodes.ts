/**
 * Real Hotline nodes for the integration tests: each one a `hotline serve` child process with its
 * own data folder, set up through the CLI exactly as an operator would (`init`, `card`,
 * `peer add --yes`), reached over loopback through its operator API.
 *
 * Every child process started here is remembered, and `killAll()` (or, at the latest, the test
 * process's exit) kills what is left, so a failing test leaves no node running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { type VerifiedReceipt, verifyReceipt } from '../../src/ledger/receipt.ts';
import type { SignedCard } from '../../src/protocol/card.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import { freePort } from '../support/ports.ts';

/** The repository root: the CLI runs from here, as `node bin/hotline.js`. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin', 'hotline.js');

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it answers a value (not undefined/false), or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A valid message body without its salt (as `draft()` in src/cli/demo.ts). */
export function draft(text: string, precedence: 'flash' | 'routine') {
  return {
    type: 'test',
    precedence,
    status: 'test',
    tlp: 'clear',
    codes: [],
    text: { lang: 'en', body: text },
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hotline <args>` to completion. stdin is a pipe that is closed at once: no terminal, as in
 * a script.
 */
export function hotline(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    children.add(child);
    child.stdin?.end();
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hotline ${args.join(' ')}: no exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `hotline <args>` and fails unless it exits 0. */
export async function hotlineOk(args: readonly string[]): Promise<CliResult> {
  const result = await hotline(args);
  if (result.code !== 0)
    throw new Error(`hotline ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  return result;
}

/** An answer of the operator API other than 2xx. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/** The settings of `<data>/hotline.yaml` a test may change (src/node/core/config.ts). */
export interface Settings {
  listen?: string;
  operatorListen?: string;
  heartbeatMs?: number;
  /** Merged into `access` (the second-factor policy, lockouts). */
  access?: Record<string, unknown>;
  logLevel?: string;
  outbox?: {
    batch?: number;
    backoffBaseMs?: number;
    backoffMaxMs?: number;
    sendTimeoutMs?: number;
    failoverMs?: number;
  };
  /** Local paths to peers (src/node/delivery/paths.ts). */
  paths?: Record<
    string,
    Array<{ id: string; kind: 'direct' | 'relay'; url: string; priority: number; pin?: string }>
  >;
  relays?: string[];
  relayPollMs?: number;
  watchdog?: { url: string; intervalMs?: number; timeoutMs?: number };
  /** One replica of several over one PostgreSQL store (docs/deployment.md § Replicas). */
  replica?: { id: string; leaseMs?: number; renewMs?: number };
}

export interface Identity {
  party: string;
  names: { en: string; zh?: string };
}

export const WASHINGTON: Identity = { party: 'us', names: { en: 'Washington', zh: '华盛顿' } };
export const BEIJING: Identity = { party: 'cn', names: { en: 'Beijing', zh: '北京' } };

/** One node: its data folder, and the `hotline serve` process running on it (if any). */
export class HotlineNode {
  readonly party: string;
  readonly dir: string;
  readonly root: string;
  /** Everything the node processes wrote, across restarts. */
  readonly logFile: string;
  /** What `hotline init` printed. */
  initOutput: CliResult = { code: null, stdout: '', stderr: '' };
  /** The fingerprint `hotline init` printed. */
  fingerprint = '';
  operatorUrl = '';
  /** How many times a `serve` process was started on this folder. */
  starts = 0;
  /**
   * Settles when the node serves; replaced by a pending promise the moment the node is killed,
   * so a caller whose request failed can wait for the node to be back.
   */
  ready: Promise<void> = Promise.resolve();
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(root: string, party: string, name = party) {
    this.root = root;
    this.party = party;
    this.dir = join(root, name);
    this.logFile = join(root, `${name}.log`);
  }

  /**
   * `hotline init` into `<root>/<party>` on two free loopback ports (or `listen`), then the given
   * settings; `initArgs` are added to `init` (endpoints, the PostgreSQL store).
   */
  static async init(
    root: string,
    who: Identity,
    settings: Settings = {},
    { initArgs = [], listen: given }: { initArgs?: readonly string[]; listen?: string } = {},
  ): Promise<HotlineNode> {
    const node = new HotlineNode(root, who.party);
    const listen = given ?? `127.0.0.1:${await freePort()}`;
    const operatorListen = `127.0.0.1:${await freePort()}`;
    node.initOutput = await hotlineOk([
      'init',
      '--data',
      node.dir,
      '--party',
      who.party,
      '--name-en',
      who.names.en,
      ...(who.names.zh ? ['--name-zh', who.names.zh] : []),
      '--listen',
      listen,
      '--operator-listen',
      operatorListen,
      ...initArgs,
    ]);
    node.fingerprint = /^Fingerprint: (.+)$/m.exec(node.initOutput.stdout)?.[1] ?? '';
    // A password alone signs in, and the data folder's token approves, unless a test asks for the
    // default second-factor policy (as test/support/site.ts and pair.ts do).
    node.configure({ ...settings, access: { secondFactor: { required: [] }, ...settings.access } });
    return node;
  }

  /**
   * Another replica of `of`'s party: a copy of its data folder (keys, card, token; the records
   * are in the PostgreSQL store they share) in `<root>/<name>`, listening on `listen` and a free
   * operator port, with `settings` (its `replica.id`).
   */
  static async replicaOf(
    of: HotlineNode,
    name: string,
    listen: string,
    settings: Settings,
  ): Promise<HotlineNode> {
    const node = new HotlineNode(of.root, of.party, name);
    cpSync(of.dir, node.dir, { recursive: true });
    rmSync(join(node.dir, 'node.json'), { force: true });
    node.fingerprint = of.fingerprint;
    node.configure({ ...settings, listen, operatorListen: `127.0.0.1:${await freePort()}` });
    return node;
  }

  /**
   * Washington as `count` replicas over one PostgreSQL schema (`replica.id` us-1 … us-N, each a
   * card endpoint of its own), made but not started; `leaseMs` when given.
   */
  static async replicas(
    root: string,
    count: number,
    settings: Settings,
    store: { url: string; schema: string; leaseMs?: number },
  ): Promise<HotlineNode[]> {
    const listens: string[] = [];
    for (let i = 0; i < count; i++) listens.push(`127.0.0.1:${await freePort()}`);
    const replica = (id: string) => ({
      replica: { id, ...(store.leaseMs ? { leaseMs: store.leaseMs } : {}) },
    });
    const first = await HotlineNode.init(
      root,
      WASHINGTON,
      { ...settings, ...replica('us-1') },
      {
        listen: listens[0] as string,
        initArgs: [
          ...listens.flatMap((l) => ['--endpoint', `http://${l}`]),
          '--postgres-url',
          store.url,
          '--postgres-schema',
          store.schema,
        ],
      },
    );
    const all = [first];
    for (let i = 2; i <= count; i++)
      all.push(
        await HotlineNode.replicaOf(first, `us-${i}`, listens[i - 1] as string, replica(`us-${i}`)),
      );
    return all;
  }

  /** What the replica's /metrics says: does it lead, and how many of its writes were fenced. */
  async replicaMetrics(): Promise<{ leading: boolean; fenced: number }> {
    const response = await fetch(`${this.operatorUrl}/metrics`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(3000),
    });
    const text = await response.text();
    const leading = /^hotline_replica_leading\{[^}]*\} 1$/m.test(text);
    let fenced = 0;
    for (const m of text.matchAll(/^hotline_fenced_writes_total\{[^}]*\} (\d+)$/gm))
      fenced += Number(m[1]);
    return { leading, fenced };
  }

  /** SIGSTOP: the process is frozen with everything it holds (connections, transactions). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT: the frozen process runs on, believing what it believed when it stopped. */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  get configFile(): string {
    return join(this.dir, 'hotline.yaml');
  }

  get token(): string {
    return readFileSync(join(this.dir, 'operator.token'), 'utf8').trim();
  }

  get db(): string {
    return join(this.dir, 'hotline.db');
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Merges settings into `<data>/hotline.yaml`. */
  configure(settings: Settings): void {
    const config = parse(readFileSync(this.configFile, 'utf8')) as Record<string, unknown>;
    const { outbox, access, ...rest } = settings;
    Object.assign(config, rest);
    if (outbox) config.outbox = { ...(config.outbox as object | undefined), ...outbox };
    if (access) config.access = { ...(config.access as object | undefined), ...access };
    writeFileSync(this.configFile, stringify(config), { mode: 0o600 });
  }

  /** The federation listener's address (`listen` in its configuration). */
  get listen(): string {
    return (parse(readFileSync(this.configFile, 'utf8')) as { listen: string }).listen;
  }

  /** `hotline card`: writes the signed card to `<root>/<party>.card.json` and returns the path. */
  async exportCard(): Promise<string> {
    const { stdout } = await hotlineOk(['card', '--data', this.dir]);
    const file = join(this.root, `${this.party}.card.json`);
    writeFileSync(file, stdout);
    return file;
  }

  /** `hotline peer add --yes` with the other node's card: this node pins `other`. */
  async pin(other: HotlineNode): Promise<void> {
    const card = join(this.root, `${other.party}.card.json`);
    if (!existsSync(card)) await other.exportCard();
    await hotlineOk(['peer', 'add', card, '--data', this.dir, '--yes']);
  }

  /** Starts `hotline serve` and waits until its operator API answers. */
  start(timeoutMs = 45_000): Promise<void> {
    this.ready = this.#serve(timeoutMs);
    return this.ready;
  }

  async #serve(timeoutMs: number): Promise<void> {
    if (this.#child) throw new Error(`${this.party} is already running`);
    const log = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['bin/hotline.js', 'serve', '--data', this.dir], {
      cwd: REPO,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.starts++;
    children.add(child);
    this.#child = child;
    let exit: { code: number | null; signal: string | null } | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        children.delete(child);
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    const running = join(this.dir, 'node.json');
    const token = this.token;
    await until(
      `${this.party} to serve (pid ${child.pid})`,
      async () => {
        if (exit)
          throw new Error(
            `${this.party} exited (${exit.signal ?? exit.code}) while starting:\n${this.logTail()}`,
          );
        if (!existsSync(running)) return false;
        let info: { pid?: number; operatorUrl?: string };
        try {
          info = JSON.parse(readFileSync(running, 'utf8'));
        } catch {
          return false; // being written
        }
        // A node.json left by a killed process names the old pid: not this one's yet.
        if (info.pid !== child.pid || !info.operatorUrl) return false;
        const answer = await fetch(`${info.operatorUrl}/api/v1/status`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(5000),
        }).catch(() => undefined);
        if (!answer?.ok) return false;
        this.operatorUrl = info.operatorUrl;
        return true;
      },
      timeoutMs,
    );
  }

  /** SIGKILL: no shutdown, no flush, no goodbye — as a power cut would. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /**
   * Kills the node with SIGKILL, leaves it dead for `downMs`, and serves again. `ready` is
   * pending from the moment of the kill until the new process answers.
   */
  restart(downMs = 500): Promise<void> {
    this.ready = (async () => {
      await this.kill();
      await sleep(downMs);
      await this.#serve(45_000);
    })();
    return this.ready;
  }

  /** A clean stop (SIGTERM: the node closes its store), or SIGKILL if it does not exit in time. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** A call to the node's operator API, with its bearer token. */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.operatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) throw new HttpError(response.status, text);
    return JSON.parse(text) as T;
  }

  /** The last lines the node processes logged, for failure messages. */
  logTail(lines = 30): string {
    if (!existsSync(this.logFile)) return '(no log)';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}

/** Kills every child process this module started that is still running, and waits for them. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

/** What the operator API says about a node (GET /api/v1/status), as far as the tests read it. */
export interface Status {
  party: string;
  ledger: { size: number };
  peers: Array<{
    party: string;
    fingerprint: string;
    path: { path: string; state: string; rttMs: number | null; lastHeartbeat: string | null };
    outbox: { pending: number; oldestPending: string | null; lastReceiptAt: string | null };
    received: number;
  }>;
  alarms: Array<{ at: string; type: string; party: string | null; message: string }>;
}

export interface InboxItem {
  from: string;
  id: string;
  seq: number;
  receivedAt: string;
  body: { text?: { lang: string; body: string } } & Record<string, unknown>;
}

export interface OutboxItem {
  to: string;
  id: string;
  seq: number;
  status: string;
  attempts: number;
  lastError: string | null;
  body: { text?: { lang: string; body: string } } & Record<string, unknown>;
}

/** Removes a test's temp folder, unless HOTLINE_KEEP_TEST_DATA is set (to read the node logs). */
export function removeUnlessKept(root: string): void {
  if (process.env.HOTLINE_KEEP_TEST_DATA) console.info(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}

/** An outbox row as a sender's SQLite file holds it. */
export interface SentRow {
  id: string;
  header_hash: string;
  envelope: string;
  status: string;
}

/**
 * Reads a stopped sender's SQLite file on its own: its outbox to `to`, and every receipt it
 * holds from `to`, each verified against `to`'s card (a file written by `hotline card`).
 * `covered` maps each id a verified receipt covers to the header hash it names.
 */
export function receiptsInFile(
  db: string,
  from: string,
  to: string,
  peerCardFile: string,
): { outbox: SentRow[]; verified: VerifiedReceipt[]; covered: Map<string, string> } {
  const card = (JSON.parse(readFileSync(peerCardFile, 'utf8')) as SignedCard).card;
  const file = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const outbox = file
      .prepare('SELECT id, header_hash, envelope, status FROM outbox WHERE party = ?')
      .all(to) as SentRow[];
    const mine = new Map(outbox.map((r) => [r.id, r]));
    const receipts = file
      .prepare("SELECT receipt FROM receipts WHERE dir = 'in' AND party = ? ORDER BY id")
      .all(to) as Array<{ receipt: string }>;
    const verified = receipts.map(({ receipt }) =>
      verifyReceipt(JSON.parse(receipt), card, from, (id) => {
        const row = mine.get(id);
        return (
          row && { headerHash: row.header_hash, envelope: JSON.parse(row.envelope) as Envelope }
        );
      }),
    );
    const covered = new Map<string, string>();
    for (const v of verified) for (const e of v.entries) covered.set(e.id, e.headerHash);
    return { outbox, verified, covered };
  } finally {
    file.close();
  }
}

/**
 * Releases a message through `from`'s operator API exactly once, even when `from` is killed with
 * the answer in flight. Only an id the node answered counts, or, when the answer was lost with the
 * process, an id found afterwards in its outbox under this message's unique text; a send the node
 * never committed is tried again once it is back. A refusal (4xx) is not a kill: it is a failure
 * of the test or the node, and is thrown.
 */
export async function releaseOnce(
  from: HotlineNode,
  to: string,
  body: string,
  precedence: 'flash' | 'routine',
  attempts: number,
): Promise<{ id: string; recovered: boolean; retries: number }> {
  const message = draft(body, precedence);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const { id } = await from.api<{ id: string }>('POST', '/api/v1/messages', {
        to: [to],
        message,
      });
      return { id, recovered: false, retries: attempt - 1 };
    } catch (e) {
      if (e instanceof HttpError && e.status < 500) throw e;
      const found = await findReleased(from, to, body);
      if (found) return { id: found.id, recovered: true, retries: attempt - 1 };
    }
  }
  throw new Error(`${body}: not released after ${attempts} attempts`);
}

/**
 * Once the sender serves again, looks in its outbox for a message released under `body`: a send
 * whose answer was lost may have been committed before the kill.
 */
async function findReleased(
  from: HotlineNode,
  to: string,
  body: string,
): Promise<OutboxItem | undefined> {
  for (let attempt = 1; ; attempt++) {
    await from.ready;
    try {
      const outbox = await from.api<OutboxItem[]>('GET', '/api/v1/outbox?limit=10000');
      return outbox.find((r) => r.to === to && r.body.text?.body === body);
    } catch (e) {
      // Killed again while we looked: look again once it is back.
      if (e instanceof HttpError || attempt >= 40) throw e;
      await sleep(250);
    }
  }
}
