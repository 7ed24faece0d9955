/**
 * HTTP to a peer: JSON over fetch with a timeout. A timeout or a non-2xx answer is a failed send.
 */
export class TransportError extends Error {
  override name = 'TransportError';
}

export async function postJson(url: string, body: string, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new TransportError(
      `${url}: ${(e as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (cause ?? (e as Error).message)}`,
    );
  }
  const text = await response.text();
  if (!response.ok)
    throw new TransportError(`${url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError(`${url}: the answer is not JSON`);
  }
}
