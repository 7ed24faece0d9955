/**
 * A machine-translation endpoint configured in `machineTranslation` (docs/language.md): any
 * service speaking the LibreTranslate HTTP API — `POST <url>` with JSON
 * `{ q, source, target, format: "text", api_key? }`, answered `{ translatedText }`. Its output
 * becomes a local note marked as machine-made, never the sender's words.
 */
import { ProtocolError } from '../../protocol/errors.ts';
import type { Config } from '../core/config.ts';

export interface MachineTranslator {
  /** How its translations are labelled. */
  readonly name: string;
  translate(text: string, source: string, target: string): Promise<string>;
}

type Settings = NonNullable<Config['machineTranslation']>;

/** The answer a translation may have at most, in characters: a runaway service is cut off. */
const MAX_ANSWER_CHARS = 256 * 1024;

export function httpTranslator(
  settings: Settings,
  fetchFn: typeof fetch = fetch,
): MachineTranslator {
  const { url, name, apiKey, timeoutMs } = settings;
  const failed = (why: string) =>
    new ProtocolError('E_TRANSLATOR_FAILED', `the machine-translation endpoint "${name}" ${why}`);
  return {
    name,
    async translate(text, source, target) {
      let response: Response;
      try {
        response = await fetchFn(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            q: text,
            // Endpoints know base languages (`zh`, not `zh-Hans`).
            source: source.split('-')[0],
            target: target.split('-')[0],
            format: 'text',
            ...(apiKey ? { api_key: apiKey } : {}),
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        const timedOut = (e as Error).name === 'TimeoutError';
        throw failed(timedOut ? `did not answer within ${timeoutMs} ms` : 'could not be reached');
      }
      const answer = await response.text();
      if (!response.ok) throw failed(`answered HTTP ${response.status}`);
      if (answer.length > MAX_ANSWER_CHARS) throw failed('answered with too much text');
      let translated: unknown;
      try {
        translated = (JSON.parse(answer) as { translatedText?: unknown }).translatedText;
      } catch {
        throw failed('did not answer JSON');
      }
      if (typeof translated !== 'string' || !translated.trim())
        throw failed('answered without a "translatedText"');
      return translated;
    },
  };
}
