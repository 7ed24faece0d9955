/**
 * `hotline export`: writes a node's ledger as an export bundle (src/ledger/bundle.ts,
 * docs/ledger.md § Bundle) for an offline audit.
 *
 * It reads the store through its own read-only connection, in one read transaction, so the bundle
 * is one consistent snapshot even while the node runs and writes beside it (SQLite WAL), and works
 * as well on a stopped node's folder. Leaves are read and written a page at a time, so memory does
 * not grow with the log.
 *
 * The node signs checkpoints as it goes, but its newest leaves (a release, a verified receipt) may
 * not be under one yet. So that every leaf of the bundle is under a signature, the export signs a
 * checkpoint of the exported tree with the log key when the store has none of that size. The tree
 * at a size never changes, so this can never contradict a checkpoint the node signs.
 */
import {
  BUNDLE_VERSION,
  type BundleRecord,
  bundleLine,
  type CosignatureRecord,
} from '../../ledger/bundle.ts';
import { signCheckpoint } from '../../ledger/checkpoint.ts';
import { parseLeaf } from '../../ledger/leaves.ts';
import { treeHash } from '../../ledger/merkle.ts';
import type { Body } from '../../protocol/body.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { fromUtf8 } from '../../protocol/encoding.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { RotationStore } from '../../store/rotations.ts';
import type { Executor, Store } from '../../store/store.ts';
import { openNodeStoreReadOnly, readNodeKeys, readOwnCard } from '../core/data.ts';
import { type OutFileOptions, writeOutFile } from '../core/out-file.ts';
import { isRedExportLeaf } from '../language/language.ts';
import { LOG_ORIGIN, logNoteSigner } from './ledger.ts';

/** The cards rotations replaced, by party, in ascending serial. */
async function previousCards(store: Store, tx: Executor): Promise<Map<string, SignedCard[]>> {
  const byParty = new Map<string, SignedCard[]>();
  const rotations = (await new RotationStore(store).list(tx)).sort((a, b) => a.serial - b.serial);
  for (const { party, detail } of rotations)
    if (detail.previous) byParty.set(party, [...(byParty.get(party) ?? []), detail.previous]);
  return byParty;
}

/** Leaves read per query. */
const PAGE = 1000;
/** Bytes of bundle text gathered before one write. */
const CHUNK = 1 << 20;

export interface ExportSummary {
  party: string;
  exportedAt: string;
  cards: number;
  leaves: number;
  bodies: number;
  checkpoints: number;
  cosignatures: number;
  /** Whether the export signed the last checkpoint (the store had none of the full size). */
  signedCheckpoint: boolean;
  /** TLP:RED bodies left out (their proofs still hold: leaves commit to bodyHash only). */
  redWithheld: number;
}

export interface ExportOptions {
  /** Include the plain bodies this side can read (default); without, every proof still holds. */
  bodies?: boolean;
  /**
   * Include TLP:RED bodies too. Only with the leaf index of the ledger event recording who forced
   * it and why (`POST /api/v1/exports/red`); without, TLP:RED bodies are withheld.
   */
  includeRed?: { auditLeaf: number };
}

/** Writes the bundle of the node in `dataDir` through `write`, which may apply backpressure. */
export async function exportLedger(
  dataDir: string,
  write: (text: string) => Promise<void> | void,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const withBodies = options.bodies ?? true;
  const own = readOwnCard(dataDir);
  const keys = readNodeKeys(dataDir);
  const signer = logNoteSigner(keys);
  const store = await openNodeStoreReadOnly(dataDir).catch((e: unknown) => {
    keys.close();
    throw e;
  });
  const party = own.card.party;
  const out = new Chunks(write);
  try {
    return await store.transaction(async (tx) => {
      const size = await store.ledgerSize(tx);
      const exportedAt = new Date().toISOString();
      const summary: ExportSummary = {
        party,
        exportedAt,
        cards: 0,
        leaves: size,
        bodies: 0,
        checkpoints: 0,
        cosignatures: 0,
        signedCheckpoint: false,
        redWithheld: 0,
      };
      if (options.includeRed) await checkRedAudit(store, options.includeRed.auditLeaf, size, tx);
      await out.add({
        type: 'hotline-export',
        version: BUNDLE_VERSION,
        party,
        exportedAt,
        leaves: size,
      });
      // Each card a party held, oldest first: the verifier needs the keys that signed before
      // each rotation (docs/ledger.md § Key rotation).
      const previous = await previousCards(store, tx);
      const cardRecords: Array<{ role: 'self' | 'peer'; signed: SignedCard }> = [
        ...(previous.get(party) ?? []).map((signed) => ({ role: 'self' as const, signed })),
        { role: 'self' as const, signed: own },
      ];
      for (const peer of await store.listPeers(tx))
        cardRecords.push(
          ...(previous.get(peer.party) ?? []).map((signed) => ({ role: 'peer' as const, signed })),
          { role: 'peer' as const, signed: peer.card },
        );
      for (const card of cardRecords) await out.add({ type: 'card', ...card });
      summary.cards = cardRecords.length;
      for (let from = 0; from < size; from += PAGE) {
        const texts = await store.readLeaves(from, Math.min(PAGE, size - from), tx);
        const bodies = withBodies ? await bodiesOf(store, from, texts, tx) : new Map();
        for (const [k, leaf] of texts.entries()) {
          let body = bodies.get(from + k);
          if (body !== undefined && !options.includeRed && isRed(body)) {
            body = undefined;
            summary.redWithheld++;
          }
          if (body !== undefined) summary.bodies++;
          await out.add({
            type: 'leaf',
            index: from + k,
            leaf,
            ...(body === undefined ? {} : { body }),
          });
        }
      }
      const checkpoints = (await store.listCheckpoints(tx)).filter((c) => c.size <= size);
      for (const { note, at } of checkpoints) await out.add({ type: 'checkpoint', note, at });
      if (checkpoints.at(-1)?.size !== size) {
        // The root of the log's stored hashes, written when each leaf was appended — not one
        // recomputed from the texts above, so a leaf altered in the database is never signed.
        const root = await treeHash(size, { readHashes: (i) => store.readHashes(i, tx) });
        const origin = (await store.getMeta(LOG_ORIGIN, tx)) ?? signer.name;
        const checkpoint = { origin, size, root, extensions: [] };
        const note = fromUtf8(signCheckpoint(checkpoint, signer));
        await out.add({ type: 'checkpoint', note, at: exportedAt });
        summary.signedCheckpoint = true;
      }
      summary.checkpoints = checkpoints.length + (summary.signedCheckpoint ? 1 : 0);
      const cosignatures: CosignatureRecord[] = [
        ...(await store.listCosignatureLines(tx))
          .filter((c) => c.size <= size)
          .map((c) => ({
            type: 'cosignature' as const,
            log: party,
            by: c.party,
            size: c.size,
            line: c.line,
          })),
        ...(await store.listWitnessedLines(tx)).map((w) => ({
          type: 'cosignature' as const,
          log: w.party,
          by: party,
          size: w.size,
          line: w.line,
          checkpoint: w.note,
        })),
      ];
      for (const c of cosignatures) await out.add(c);
      summary.cosignatures = cosignatures.length;
      const { cards, leaves, bodies, checkpoints: n, cosignatures: m } = summary;
      await out.add({ type: 'end', cards, leaves, bodies, checkpoints: n, cosignatures: m });
      await out.flush();
      return summary;
    });
  } finally {
    keys.close();
    await store.close();
  }
}

const isRed = (body: Body) => body.tlp === 'red';

/** TLP:RED goes into an export only when the ledger being exported records who forced it. */
async function checkRedAudit(store: Store, index: number, size: number, q: Executor) {
  const [text] = index < size ? await store.readLeaves(index, 1, q) : [];
  if (text === undefined || !isRedExportLeaf(text))
    throw new ProtocolError(
      'E_TLP_RED',
      `leaf ${index} does not record a forced TLP:RED export: TLP:RED content stays out`,
    );
}

/** Exports to a file, readable by its owner alone, in place once complete (../core/out-file.ts). */
export function exportLedgerToFile(
  dataDir: string,
  file: string,
  options: ExportOptions & Pick<OutFileOptions, 'replace'> = {},
): Promise<ExportSummary> {
  return writeOutFile(file, { replace: options.replace }, (write) =>
    exportLedger(dataDir, write, options),
  );
}

/**
 * The bodies of a page's envelope leaves, by leaf index. Rows are found by (party, id), the
 * tables' keys; a message to several recipients has one row (and leaf) per recipient.
 */
export async function bodiesOf(
  store: Store,
  from: number,
  texts: readonly string[],
  q: Executor,
): Promise<Map<number, Body>> {
  const want = {
    in: { parties: new Set<string>(), ids: new Set<string>() },
    out: { parties: new Set<string>(), ids: new Set<string>() },
  };
  for (const text of texts) {
    const leaf = parseLeaf(text);
    if (leaf.leaf !== 'envelope') continue;
    const w = want[leaf.dir];
    w.ids.add(leaf.header.id);
    for (const p of leaf.dir === 'in' ? [leaf.header.from] : leaf.header.to) w.parties.add(p);
  }
  const bodies = new Map<number, Body>();
  for (const dir of ['in', 'out'] as const) {
    const rows = await store.bodiesByLeaf(dir, [...want[dir].parties], [...want[dir].ids], q);
    for (const [index, body] of rows)
      if (index >= from && index < from + texts.length) bodies.set(index, body);
  }
  return bodies;
}

/** Gathers bundle lines into writes of about CHUNK bytes. */
class Chunks {
  readonly #write: (text: string) => Promise<void> | void;
  #parts: string[] = [];
  #length = 0;

  constructor(write: (text: string) => Promise<void> | void) {
    this.#write = write;
  }

  async add(record: BundleRecord): Promise<void> {
    const line = bundleLine(record);
    this.#parts.push(line);
    this.#length += line.length;
    if (this.#length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.#parts.length) return;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    await this.#write(text);
  }
}
