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
  if (!existsSync(file))
    throw new CliError(
      `no running node for ${dataDir}: start it with "hotline serve --data ${dataDir}"`,
    );
  return (JSON.parse(readFileSync(file, 'utf8')) as { operatorUrl: string }).operatorUrl;
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
