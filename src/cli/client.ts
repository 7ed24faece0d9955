/**
 * The CLI's way to a running node: its operator URL from `<data>/node.json`, its token from
 * `<data>/operator.token`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { paths, readToken } from '../node/data.ts';

export class CliError extends Error {
  override name = 'CliError';
}

export function operatorUrl(dataDir: string): string {
  const file = paths(dataDir).running;
  const start = `start it with "hotline serve --data ${dataDir}"`;
  if (!existsSync(file)) throw new CliError(`no running node for ${dataDir}: ${start}`);
  const running = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; operatorUrl: string };
  // A node killed without a shutdown (SIGKILL, power cut) leaves its node.json behind.
  if (
    Number.isSafeInteger(running.pid) &&
    (running.pid as number) > 0 &&
    !isAlive(running.pid as number)
  )
    throw new CliError(
      `the node for ${dataDir} is not running (its process ${running.pid} has ended): ${start}`,
    );
  return running.operatorUrl;
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function callNode(
  dataDir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = `${operatorUrl(dataDir)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${readToken(dataDir)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new CliError(
      `the node at ${url} does not answer (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`,
    );
  }
  const answer = (await response.json().catch(() => ({}))) as {
    error?: { code: string; message: string };
  };
  if (!response.ok)
    throw new CliError(
      `${answer.error?.code ?? response.status}: ${answer.error?.message ?? 'request failed'}`,
    );
  return answer;
}
