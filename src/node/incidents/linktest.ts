/**
 * The routine link test (docs/operators.md § Drills and link tests): every `linkTest.intervalMs`
 * (hourly by default) a `test` message to each pinned peer, which a person there must answer with
 * an acknowledgement. Its text is one of the numbered phrases of the joint vocabulary's `linktest`
 * group, in every language the vocabulary has, so nobody can misread it.
 *
 * When the last test went is remembered in the store (`meta`), so a restart neither skips a test
 * nor sends an extra one. Time comes from an injected clock; `tick()` does the work, and `start()`
 * only calls it on a timer.
 */
import type { Logger } from 'pino';
import type { Draft } from '../../protocol/body.ts';
import type { Released } from '../../protocol/views.ts';
import type { Vocabulary } from '../../protocol/vocabulary.ts';
import type { Store } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { Node } from '../core/node.ts';
import type { Peers } from '../core/peers.ts';
import type { Language } from '../language/language.ts';

const LAST_KEY = 'linktest.last';
const PHRASE_KEY = 'linktest.phrase';

export interface LinkTestSent {
  party: string;
  code: string;
  released: Released;
}

export interface LinkTestParts {
  config: Config;
  store: Store;
  node: Node;
  peers: Peers;
  language: Language;
  logger: Logger;
  clock: () => Date;
}

export class LinkTests {
  readonly #parts: LinkTestParts;
  readonly #clock: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<LinkTestSent[]> | undefined;

  constructor(parts: LinkTestParts) {
    this.#parts = parts;
    this.#clock = parts.clock;
  }

  get #settings() {
    return this.#parts.config.linkTest;
  }

  /**
   * When the next test is due: an interval after the last one, or after the node first looked
   * (a new node sends its first test an interval after it first serves, not at once).
   */
  async due(): Promise<Date> {
    let last = await this.#parts.store.getMeta(LAST_KEY);
    if (last === undefined) {
      last = this.#clock().toISOString();
      await this.#parts.store.setMeta(LAST_KEY, last);
    }
    return new Date(Date.parse(last) + this.#settings.intervalMs);
  }

  /** Sends the link test to every peer if it is due; returns what it sent. */
  tick(): Promise<LinkTestSent[]> {
    // One at a time: a slow release must not let the timer send a second test.
    this.#running ??= this.#tick().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #tick(): Promise<LinkTestSent[]> {
    if (!this.#settings.enabled || !this.#parts.peers.size) return [];
    const now = this.#clock();
    if ((await this.due()).getTime() > now.getTime()) return [];
    const phrases = phrasesOf(this.#parts.language.vocabulary);
    if (!phrases.length) {
      this.#parts.logger.error('the vocabulary has no linktest phrases: no link test sent');
      return [];
    }
    const previous = Number((await this.#parts.store.getMeta(PHRASE_KEY)) ?? -1);
    const index = (previous + 1) % phrases.length;
    const phrase = phrases[index] as Phrase;
    // Remembered first: a crash after this sends the next test an interval later, never twice.
    await this.#parts.store.setMeta(LAST_KEY, now.toISOString());
    await this.#parts.store.setMeta(PHRASE_KEY, String(index));
    const sent: LinkTestSent[] = [];
    // A copy: peers may be reloaded while a release awaits.
    for (const party of [...this.#parts.peers.keys()]) {
      try {
        const released = await this.#parts.node.release([party], this.#draft(phrase), now);
        sent.push({ party, code: phrase.code, released });
        this.#parts.logger.info(
          { peer: party, id: released.id, code: phrase.code },
          'link test sent',
        );
      } catch (err) {
        this.#parts.logger.error({ err, peer: party }, 'link test not sent');
      }
    }
    return sent;
  }

  #draft(phrase: Phrase): Draft {
    const [first, ...others] = phrase.texts;
    return {
      type: 'test',
      precedence: this.#settings.precedence,
      status: 'test',
      tlp: 'clear',
      codes: [phrase.code],
      ...(first ? { text: first } : {}),
      translations: others,
      attachments: [],
      author: { desk: this.#settings.desk },
      approvals: [],
    };
  }

  /** Checks every `checkMs` (a minute at most) whether the test is due. */
  start(checkMs = Math.min(60_000, this.#settings.intervalMs / 10)): void {
    if (!this.#settings.enabled) return;
    const run = () => {
      this.tick().catch((err) => this.#parts.logger.error({ err }, 'link test failed'));
    };
    run();
    this.#timer = setInterval(run, checkMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}

interface Phrase {
  code: string;
  /** English first when the vocabulary has it: the text; the others are translations. */
  texts: Array<{ lang: string; body: string }>;
}

/** The `linktest.*` entries in code order, each with its text in every language. */
export function phrasesOf(vocabulary: Vocabulary): Phrase[] {
  const langs = Object.keys(vocabulary.document.languages).sort((a, b) =>
    a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b),
  );
  return vocabulary.document.entries
    .filter((e) => e.code.startsWith('linktest.'))
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((e) => ({
      code: e.code,
      texts: langs.flatMap((lang) => (e.text[lang] ? [{ lang, body: e.text[lang] }] : [])),
    }));
}
