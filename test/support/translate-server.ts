/**
 * A machine-translation endpoint on loopback for tests, speaking the LibreTranslate API the node
 * uses (POST {q, source, target, format, api_key?} → {translatedText}). It translates from a
 * small phrase table; anything else is an HTTP 400, as a real engine answers an unsupported pair.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

const PHRASES: Record<string, string> = {
  'zh>en:我方正在调查该系统的异常行为。':
    'We are investigating the abnormal behaviour of the system.',
  'en>zh:We have isolated the system.': '我们已经隔离了该系统。',
};

export interface TranslateServer {
  url: string;
  /** Every request body received, parsed. */
  requests: Array<Record<string, unknown>>;
  /** When set, every request is answered with this status. */
  failWith?: number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTranslateServer(apiKey?: string): Promise<TranslateServer> {
  const state: TranslateServer = { url: '', requests: [], close: async () => {} };
  const server: Server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as Record<string, string>;
    state.requests.push(body);
    const answer = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    if (state.failWith) return answer(state.failWith, { error: 'failing on purpose' });
    if (request.method !== 'POST' || request.url !== '/translate')
      return answer(404, { error: 'not found' });
    if (apiKey && body.api_key !== apiKey) return answer(403, { error: 'invalid api key' });
    const translated = PHRASES[`${body.source}>${body.target}:${body.q}`];
    if (!translated) return answer(400, { error: 'language pair or text not supported' });
    return answer(200, { translatedText: translated });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  state.url = `http://127.0.0.1:${port}/translate`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
