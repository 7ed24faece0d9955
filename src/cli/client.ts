/**
 * The CLI's way to a running node: its operator URL from `<data>/node.json`, and a bearer token
 * from `HOTLINE_TOKEN`, else `<data>/operator.token` (the first admin's, written by `init`).
 *
 * People commands (`hotline user …`, `hotline audit`, desks and roster) also work on a stopped
 * node's data folder: they then run the same routes in this process, as the folder's owner.
 */
import { existsSync } from 'node:fs';
import { paths, readToken, runningNode } from '../node/core/paths.ts';

export class CliError extends Error {
  override name = 'CliError';
}

/**
 * What the user typed for each part of a command's request, so a node's sentence about a request
 * path is said in the command's words: `body/to` → `--to`, `params/party` → `<party>`,
 * `body/message/translations/<i>/body` → `--translation #<i+1>` (`<i>` stands for a list index;
 * `<i+1>` says it counted from 1). A path with no entry is said as the node said it.
 */
export type OptionNames = Readonly<Record<string, string>>;

/**
 * Each time a command sent, as the wire writes it, to what the user typed for it
 * (`2026-12-01T09:00:00.000Z` → `2026-12-01 17:00+08:00`), so a node's sentence that quotes a time
 * sent (`--until … is in the past`) says it as typed. The node, on its own clock, judges it.
 */
export type TypedTimes = Readonly<Record<string, string>>;

/**
 * A path as the node's sentences name it: in a request (`request body/to`, `request params/party`)
 * or in a card this node makes (`card /party`, declared as `card/party`).
 */
const NAMED_PATH =
  /\b(?:request ((?:body|params|querystring)(?:\/[^\s:;,]+)?)|card (\/[^\s:;,]+))(?: has no "([^"]+)")?/g;

/**
 * The node's sentence with each path it names replaced by the option or argument that supplied
 * it (`request body/to is an empty list` → `--to is an empty list`); a body field named bare in
 * camelCase (`send it without breakGlass`) is replaced too. The code and the rest of the sentence
 * are kept. An argument refused in the `body` sent is quoted as typed (`<id> "OPS" is not …`), as
 * the node quotes one in the URL's path (`request params/party "US"` → `<party> "US"`).
 */
export function inOptionTerms(sentence: string, names: OptionNames, body?: unknown): string {
  const said = sentence.replace(
    NAMED_PATH,
    (whole, requestPath?: string, cardPath?: string, missing?: string) => {
      const path = requestPath ?? `card${cardPath}`;
      if (missing !== undefined) {
        const option = optionAt(`${path}/${missing}`, names);
        if (option) return `${option} is not given`;
      }
      const option = optionAt(path, names);
      if (!option) return whole;
      return missing === undefined
        ? `${option}${typedArgument(option, path, body)}`
        : `${option} has no "${missing}"`;
    },
  );
  return Object.entries(names).reduce((text, [path, option]) => {
    const field = /^body\/([a-z]+[A-Z]\w*)$/.exec(path)?.[1];
    return field ? text.replace(new RegExp(`(?<![\\w/])${field}\\b`, 'g'), option) : text;
  }, said);
}

/**
 * What was typed for an argument (`<id>`) that filled `path` of the body sent, quoted: ` "OPS"`.
 * An option's value is not repeated: it may be a password.
 */
function typedArgument(option: string, path: string, body: unknown): string {
  if (!/^<\w+>$/.test(option) || !path.startsWith('body/')) return '';
  const value = path
    .split('/')
    .slice(1)
    .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], body);
  return typeof value === 'string' ? ` ${JSON.stringify(value)}` : '';
}

/** The option for `path`, or for its longest declared beginning (the rest said after it). */
function optionAt(path: string, names: OptionNames): string | undefined {
  const segments = path.split('/');
  for (let length = segments.length; length > 0; length--) {
    for (const [declared, option] of Object.entries(names)) {
      const keys = declared.split('/');
      if (keys.length !== length) continue;
      let index: number | undefined;
      const matches = keys.every((key, at) => {
        const segment = segments[at] as string;
        if (key !== '<i>') return key === segment;
        index = Number(segment);
        return /^\d+$/.test(segment);
      });
      if (!matches) continue;
      const named =
        index === undefined
          ? option
          : option.replaceAll('<i+1>', String(index + 1)).replaceAll('<i>', String(index));
      const rest = segments.slice(length).join('/');
      return rest ? `${named} (its ${rest})` : named;
    }
  }
  return undefined;
}

export function operatorUrl(dataDir: string): string {
  const start = `start it with "hotline serve --data ${dataDir}"`;
  if (!existsSync(paths(dataDir).running))
    throw new CliError(`no running node for ${dataDir}: ${start}`);
  const running = runningNode(dataDir);
  // A node killed without a shutdown (SIGKILL, power cut) leaves its node.json behind.
  if (!running)
    throw new CliError(`the node for ${dataDir} is not running (its process has ended): ${start}`, {
      cause: 'NOT_RUNNING',
    });
  return running.operatorUrl;
}

/**
 * The bearer token the CLI presents: `HOTLINE_TOKEN`, else the data folder's `operator.token`,
 * and where it came from, for the sentence when the node refuses it.
 */
export function cliToken(dataDir: string): { token: string; from: string } {
  const fromEnv = process.env.HOTLINE_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, from: 'HOTLINE_TOKEN' };
  const file = paths(dataDir).token;
  if (!existsSync(file))
    throw new CliError(
      `no token: set HOTLINE_TOKEN (from "hotline user token"), or restore ${file}`,
    );
  return { token: readToken(dataDir), from: file };
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export async function callNode(
  dataDir: string,
  method: Method,
  path: string,
  body?: unknown,
  names: OptionNames = {},
  typed: TypedTimes = {},
): Promise<unknown> {
  const url = `${operatorUrl(dataDir)}${path}`;
  const credential = cliToken(dataDir);
  let response: { status: number; text: string };
  try {
    response = await request(
      url,
      method,
      {
        authorization: `Bearer ${credential.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`the node at ${url} does not answer (${code ?? (e as Error).message})`, {
      cause: code,
    });
  }
  if (response.status === 401 && /"E_UNAUTHORIZED"/.test(response.text))
    throw new CliError(
      `E_UNAUTHORIZED: the node refused the token in ${credential.from} (expired, revoked or unknown): ${
        credential.from === 'HOTLINE_TOKEN'
          ? 'set HOTLINE_TOKEN to a live token (hotline user token), or unset it to use the data folder’s operator.token'
          : 'set HOTLINE_TOKEN to a live token (hotline user token)'
      }`,
      { cause: 'E_UNAUTHORIZED' },
    );
  return answerOf(response.status, response.text, names, body, typed);
}

/**
 * One request on node:http(s): the global fetch loads undici on first use, which costs a
 * command more than the rest of its start (docs/benchmarks.md § CLI and memory).
 */
async function request(
  url: string,
  method: Method,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const { request } =
    target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('no answer in 30 s'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

function answerOf(
  status: number,
  text: string,
  names: OptionNames,
  body: unknown,
  typed: TypedTimes,
): unknown {
  let answer: { error?: { code: string; message: string } } = {};
  try {
    answer = JSON.parse(text);
  } catch {
    answer = {};
  }
  if (status >= 400)
    throw new CliError(
      `${answer.error?.code ?? status}: ${asTyped(inOptionTerms(answer.error?.message ?? 'request failed', names, body), typed)}`,
      { cause: answer.error?.code },
    );
  return answer;
}

/** `sentence` with each time sent said as it was typed. */
function asTyped(sentence: string, typed: TypedTimes): string {
  return Object.entries(typed).reduce((said, [sent, as]) => said.replaceAll(sent, as), sentence);
}

/**
 * A people route: through the running node's API, or, when no node runs on this data folder, in
 * this process on its database, acting as the folder's owner (audited as `os:<user>`; the node
 * anchors those entries in its ledger when it next starts). The store and the routes are loaded
 * only then, so commands that reach a running node start at once.
 */
export async function callPeople(
  dataDir: string,
  method: Method,
  path: string,
  body?: unknown,
  names: OptionNames = {},
  typed: TypedTimes = {},
): Promise<unknown> {
  if (existsSync(paths(dataDir).running)) {
    try {
      return await callNode(dataDir, method, path, body, names, typed);
    } catch (e) {
      // A node.json left by a node that died: nothing listens, so use the folder.
      if (!(e instanceof CliError && (e.cause === 'ECONNREFUSED' || e.cause === 'NOT_RUNNING')))
        throw e;
    }
  }
  const [{ default: pino }, { localPeopleServer }, { readConfig }, { openNodeStore }, people] =
    await Promise.all([
      import('pino'),
      import('../api/server.ts'),
      import('../node/core/config.ts'),
      import('../node/core/data.ts'),
      import('../node/people/people.ts'),
    ]);
  const { dataFolderPrincipal, openPeople } = people;
  const config = readConfig(dataDir);
  const store = await openNodeStore(dataDir, config);
  try {
    const people = openPeople(store, config);
    const app = await localPeopleServer(people, dataFolderPrincipal(), pino({ level: 'silent' }));
    const response = await app.inject({
      method,
      url: path,
      ...(body === undefined ? {} : { payload: body as object }),
    });
    await app.close();
    return answerOf(response.statusCode, response.body, names, body, typed);
  } finally {
    await store.close();
  }
}

/**
 * A call that sends to `to`: refused because a recipient is not a pinned party (an unknown id,
 * this node's own, or a name such as "Beijing" where the id goes), the error names the pinned
 * parties to choose from.
 */
export async function toPinned<T>(
  dataDir: string,
  to: string | readonly string[],
  call: Promise<T>,
): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw await unknownRecipient(dataDir, [to].flat(), e);
  }
}

async function unknownRecipient(
  dataDir: string,
  to: readonly string[],
  e: unknown,
): Promise<unknown> {
  const code = e instanceof CliError ? e.cause : undefined;
  if (
    code !== 'E_UNKNOWN_PARTY' &&
    !(code === 'E_MALFORMED' && /(\/|--)to\b/.test((e as Error).message))
  )
    return e;
  let status: { party: string; peers: Array<{ party: string; names: Record<string, string> }> };
  try {
    status = (await callNode(dataDir, 'GET', '/api/v1/status')) as typeof status;
  } catch {
    return e;
  }
  const { peers } = status;
  const wrong = to.filter((t) => !peers.some((p) => p.party === t));
  if (!wrong.length) return e;
  const named = (p: (typeof peers)[number]) => `${p.party} (${Object.values(p.names).join(' / ')})`;
  const first = wrong[0] as string;
  const meant = peers.find((p) =>
    Object.values(p.names).some((n) => n.toLowerCase() === first.toLowerCase()),
  );
  const hint = meant ? ` (did you mean --to ${meant.party}?)` : '';
  const choices = peers.length ? peers.map(named).join(', ') : 'none yet (hotline peer add)';
  const what = first === status.party ? "is this node's own party" : 'is not a pinned party';
  return new CliError(`E_UNKNOWN_PARTY: "${first}" ${what}${hint}; pinned: ${choices}`);
}
