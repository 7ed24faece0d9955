/**
 * Language and standards on a node (docs/language.md): its vocabulary and how it compares with
 * each peer's, messages rendered for a reader in a language, local translations (a person's or
 * the configured machine's) kept as notes with their provenance, CAP 1.2 alerts of incidents,
 * and the audited forcing of TLP:RED content into an export.
 *
 * A local translation is never part of a signed body, never sent, and never shown in place of
 * the original: views list it after the original and the sender's own translations, labelled.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { eventLeaf, parseLeaf } from '../../ledger/leaves.ts';
import { viewAttachment } from '../../protocol/attachments.ts';
import { type Body, ownLanguageProblem } from '../../protocol/body.ts';
import { type CapMessage, capAlert } from '../../protocol/cap.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { citesOf } from '../../protocol/citations.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { NOTIFICATION_MEDIA_TYPE, viewNotification } from '../../protocol/notification.ts';
import type { Regimes } from '../../protocol/regimes.ts';
import { renderBody } from '../../protocol/render.ts';
import type {
  CitationView,
  LocalTranslation,
  MessageView,
  TranslationStatus,
  VocabularyComparison,
} from '../../protocol/views.ts';
import { compareVocabulary, loadVocabulary, type Vocabulary } from '../../protocol/vocabulary.ts';
import type { RotationStore } from '../../store/rotations.ts';
import type { Store, TranslationRow } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { Peers } from '../core/peers.ts';
import type { Ledger } from '../record/ledger.ts';
import { httpTranslator, type MachineTranslator } from './translator.ts';

export const TRANSLATION_STATUSES = [
  'sight',
  'rough',
  'final',
] as const satisfies readonly TranslationStatus[];

/** The ledger event recording that TLP:RED content was forced into an export. */
export const RED_EXPORT_EVENT = 'tlp-red-export';

interface Found {
  from: string;
  id: string;
  dir: 'in' | 'out';
  at: string;
  body: Body;
  /** A received message a compromise rotation disputed: when, and by which rotation. */
  disputed?: { at: string; rotation: string };
}

export interface LanguageParts {
  config: Config;
  card: SignedCard;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  /** Disputed messages are shown (marked) but never translated or cited. */
  rotations: RotationStore;
  logger: Logger;
  /** The notification regimes: a notice on a regime type is shown by its name and fields. */
  regimes?: Regimes;
}

export class Language {
  readonly #parts: LanguageParts;
  readonly vocabulary: Vocabulary;
  readonly translator: MachineTranslator | undefined;

  /** The configured vocabulary (a bad file throws here) and machine translation, if any. */
  constructor(parts: LanguageParts) {
    const { vocabularyFile, machineTranslation } = parts.config;
    this.#parts = parts;
    this.vocabulary = loadVocabulary(vocabularyFile);
    this.translator = machineTranslation ? httpTranslator(machineTranslation) : undefined;
  }

  /** Our loaded vocabulary against what our own card announces (a re-signed card fixes it). */
  ownCard(lang = 'en'): VocabularyComparison {
    return compareVocabulary(
      this.vocabulary,
      this.#parts.config.party,
      this.#parts.card.card.vocabulary,
      lang,
    );
  }

  /** Our vocabulary against a pinned peer's card. */
  peer(party: string, lang = 'en'): VocabularyComparison {
    return compareVocabulary(
      this.vocabulary,
      party,
      this.#parts.peers.pinned(party).card.vocabulary,
      lang,
    );
  }

  /** A message by its author party and id: one we received, or one we sent (our own party). */
  async #find(from: string, id: string): Promise<Found> {
    const { store, config } = this.#parts;
    if (from === config.party) {
      const [row] = await store.outboxRowsOf(id);
      if (row) return { from, id, dir: 'out', at: row.created_at, body: row.body };
    } else {
      const row = await store.getInbox(from, id);
      if (row) return { from, id, dir: 'in', at: row.received_at, body: row.body };
    }
    throw new ProtocolError('E_NOT_FOUND', `no message ${id} from "${from}"`);
  }

  /** A message as a reader in `lang` sees it, with every warning that applies. */
  async view(from: string, id: string, lang: string): Promise<MessageView> {
    const found = await this.#find(from, id).catch(async (e: unknown) => {
      const row =
        e instanceof ProtocolError && e.code === 'E_NOT_FOUND' && from !== this.#parts.config.party
          ? await this.#parts.rotations.getDisputed(from, id)
          : undefined;
      if (!row) throw e;
      const disputed = { at: row.disputed_at, rotation: row.rotation };
      const shown: Found = { from, id, dir: 'in', at: row.received_at, body: row.body, disputed };
      return shown;
    });
    const rendered = renderBody(this.vocabulary, found.body, lang);
    const regimes = this.#parts.regimes;
    const subject = found.body.notice?.subject;
    if (regimes && rendered.notice && subject && regimes.type(subject)) {
      // A regime type is named by the regimes, not the vocabulary: no "unknown code" warning.
      const type = regimes.type(subject);
      const shown = regimes.languages.includes(rendered.lang) ? rendered.lang : 'en';
      rendered.notice = {
        code: subject,
        known: true,
        lang: shown,
        text: regimes.name(subject, shown),
        definition: type?.description[shown] ?? '',
        review: 'none',
        warnings: [],
      };
      rendered.warnings = rendered.warnings.filter((w) => !w.startsWith(`${subject}: `));
    }
    const localTranslations = await this.translations(from, id, lang);
    const attachments = found.body.attachments.map((a) => {
      const view = viewAttachment(a, found.body.tlp);
      if (!regimes || a.mediaType !== NOTIFICATION_MEDIA_TYPE) return view;
      const notification = viewNotification(regimes, a, rendered.lang);
      return { ...view, notification, problems: [...view.problems, ...notification.problems] };
    });
    const warnings = [...rendered.warnings];
    let vocabulary: VocabularyComparison | undefined;
    if (found.dir === 'in' && this.#parts.peers.has(from)) {
      const comparison = this.peer(from, rendered.lang);
      if (!comparison.same) {
        vocabulary = comparison;
        warnings.unshift(comparison.warning as string);
      }
    }
    for (const a of attachments) warnings.push(...a.problems);
    const citations = await this.citations(found.body);
    for (const c of citations) if (c.problem) warnings.push(c.problem);
    return {
      ...found,
      rendered,
      localTranslations,
      attachments,
      ...(citations.length ? { citations } : {}),
      ...(vocabulary ? { vocabulary } : {}),
      warnings,
    };
  }

  /**
   * The attachments a body cites (`ext.cites`), resolved against the messages this node holds:
   * each with its view, or the reason it could not be found. A malformed `ext.cites` is one
   * unresolved entry saying why.
   */
  async citations(body: Pick<Body, 'ext'>): Promise<CitationView[]> {
    const parsed = citesOf(body.ext);
    if ('problem' in parsed)
      return [{ from: '', message: '', sha256: '', attachment: null, problem: parsed.problem }];
    const out: CitationView[] = [];
    for (const cite of parsed.cites) {
      const found = await this.#find(cite.from, cite.message).catch(() => undefined);
      const attachment = found?.body.attachments.find((a) => a.sha256 === cite.sha256);
      out.push({
        ...cite,
        attachment: attachment ? viewAttachment(attachment) : null,
        ...(!found
          ? {
              problem: `cites message ${cite.message} from "${cite.from}", which this node does not hold`,
            }
          : !attachment
            ? {
                problem: `cites an attachment with sha256 ${cite.sha256} that message ${cite.message} from "${cite.from}" does not carry`,
              }
            : {}),
      });
    }
    return out;
  }

  /** Refuses (E_BAD_ATTACHMENT) a draft citing an attachment this node does not hold. */
  async checkCitations(body: Pick<Body, 'ext'>): Promise<void> {
    const unresolved = (await this.citations(body)).find((c) => c.problem);
    if (unresolved?.problem)
      throw new ProtocolError('E_BAD_ATTACHMENT', `the message ${unresolved.problem}`);
  }

  async translations(from: string, id: string, lang = 'en'): Promise<LocalTranslation[]> {
    const rows = await this.#parts.store.listTranslations(from, id);
    return rows.map((r) => this.#local(r, lang));
  }

  /** Records a person's translation of a message's free text, as a local note. */
  async addTranslation(
    from: string,
    id: string,
    input: {
      lang: string;
      text: string;
      status: TranslationStatus;
      translator: string;
      desk: string;
    },
  ): Promise<LocalTranslation> {
    const found = await this.#find(from, id);
    const source = this.#sourceOf(found, input.lang);
    return this.#store(found, {
      source_lang: source.lang,
      lang: input.lang,
      text: input.text,
      kind: 'person',
      translator: input.translator,
      status: input.status,
      requested_by: input.desk,
    });
  }

  /** Asks the configured machine-translation endpoint; its output is a rough local note. */
  async machineTranslate(
    from: string,
    id: string,
    input: { lang: string; desk: string },
  ): Promise<LocalTranslation> {
    const translator = this.translator;
    if (!translator)
      throw new ProtocolError(
        'E_NO_TRANSLATOR',
        'no machine translation is configured (machineTranslation in hotline.yaml)',
      );
    const found = await this.#find(from, id);
    const source = this.#sourceOf(found, input.lang);
    const text = await translator.translate(source.body, source.lang, input.lang);
    this.#parts.logger.info(
      { from, id, source: source.lang, target: input.lang, translator: translator.name },
      'machine translation added',
    );
    return this.#store(found, {
      source_lang: source.lang,
      lang: input.lang,
      text,
      kind: 'machine',
      translator: translator.name,
      status: 'rough',
      requested_by: input.desk,
    });
  }

  /** The free text a translation into `lang` translates, or E_MALFORMED saying why there is none. */
  #sourceOf(found: Found, lang: string): { lang: string; body: string } {
    if (!found.body.text)
      throw new ProtocolError('E_MALFORMED', `message ${found.id} has no free text to translate`);
    const own = ownLanguageProblem(found.body.text.lang, lang);
    if (own) throw new ProtocolError('E_MALFORMED', `message ${found.id}: ${own}`);
    return found.body.text;
  }

  async #store(
    found: Found,
    fields: Omit<TranslationRow, 'id' | 'party' | 'message_id' | 'created_at'>,
  ): Promise<LocalTranslation> {
    const row: TranslationRow = {
      id: uuidv7(),
      party: found.from,
      message_id: found.id,
      created_at: new Date().toISOString(),
      ...fields,
    };
    await this.#parts.store.addTranslation(row);
    return this.#local(row, fields.lang);
  }

  #local(r: TranslationRow, lang: string): LocalTranslation {
    const v = this.vocabulary;
    const by = v.ui(r.kind === 'machine' ? 'byMachine' : 'byPerson', lang, { who: r.translator });
    const label = [v.ui('localTranslation', lang), by, v.ui(`translation.${r.status}`, lang)].join(
      ' · ',
    );
    return {
      id: r.id,
      origin: 'local',
      sourceLang: r.source_lang,
      lang: r.lang,
      text: r.text,
      kind: r.kind,
      translator: r.translator,
      status: r.status,
      requestedBy: r.requested_by,
      createdAt: r.created_at,
      label,
    };
  }

  /**
   * Records in the ledger that TLP:RED content is being forced into an export, by whom and why;
   * returns the event's leaf index, which the export must find in the log it writes.
   */
  async recordRedExport(what: string, desk: string, reason: string): Promise<number> {
    const { ledger, logger } = this.#parts;
    const index = await ledger.commit((_tx, log) =>
      log.append([eventLeaf(RED_EXPORT_EVENT, new Date().toISOString(), { what, desk, reason })]),
    );
    logger.warn({ event: RED_EXPORT_EVENT, what, desk }, 'TLP:RED content forced into an export');
    return index;
  }

  /**
   * The CAP 1.2 alert of an incident. TLP:RED messages are left out unless `force` names who
   * forces them in and why, which is recorded in the ledger first.
   */
  async cap(
    incident: string,
    force?: { desk: string; reason: string },
  ): Promise<{ xml: string; messages: number; excludedRed: number; auditLeaf?: number }> {
    const rows = await this.#parts.store.incidentMessages(incident);
    if (!rows.length) throw new ProtocolError('E_NOT_FOUND', `no messages of incident ${incident}`);
    const all: CapMessage[] = rows.map((r) => ({
      from: r.dir === 'in' ? r.party : this.#parts.config.party,
      id: r.id,
      at: r.at,
      body: r.body,
    }));
    const red = all.filter((m) => m.body.tlp === 'red').length;
    const messages = force ? all : all.filter((m) => m.body.tlp !== 'red');
    if (!messages.length)
      throw new ProtocolError(
        'E_TLP_RED',
        `every message of incident ${incident} is TLP:RED; an administrator may force the export (it is recorded)`,
      );
    const auditLeaf =
      force && red
        ? await this.recordRedExport(`cap ${incident}`, force.desk, force.reason)
        : undefined;
    const xml = capAlert({
      incident,
      party: this.#parts.config.party,
      names: Object.fromEntries([
        [this.#parts.config.party, this.#parts.card.card.names],
        ...messages
          .filter((m) => this.#parts.peers.has(m.from))
          .map((m) => [m.from, this.#parts.peers.pinned(m.from).card.names]),
      ]),
      messages,
      excludedRed: force ? 0 : red,
      vocabulary: this.vocabulary,
    });
    return {
      xml,
      messages: messages.length,
      excludedRed: force ? 0 : red,
      ...(auditLeaf === undefined ? {} : { auditLeaf }),
    };
  }
}

/** Whether `leaf` (ledger text) records a forced TLP:RED export. */
export function isRedExportLeaf(text: string): boolean {
  const leaf = parseLeaf(text);
  return leaf.leaf === 'event' && leaf.type === RED_EXPORT_EVENT;
}
