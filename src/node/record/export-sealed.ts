/**
 * `hotline export-sealed`: the sealed parts of the messages in a node's ledger, for a third party
 * that holds a sealing key (docs/security.md § Key files). One JSON line per envelope leaf:
 *
 *   { type: "sealed", index, dir, party, id, header, sealed, sealedHash }
 *
 * `dir: "in"` parts are sealed to this node (its `sealing-*.key` opens them), `dir: "out"` parts
 * to the peer `party`. `sealedHash` is `hex(SHA-256(JCS(sealed)))`, the leaf's own: the reader
 * checks it against a ledger export. TLP:RED messages are withheld (counted in the last line):
 * their bodies leave only through `hotline export --include-red`, which the ledger records.
 */
import { parseLeaf } from '../../ledger/leaves.ts';
import { sha256, toHex } from '../../protocol/encoding.ts';
import { jcsBytes } from '../../protocol/jcs.ts';
import { openNodeStoreReadOnly } from '../core/data.ts';
import { type OutFileOptions, writeOutFile } from '../core/out-file.ts';

const PAGE = 1000;

export interface SealedExportSummary {
  sealed: number;
  redWithheld: number;
}

/** Writes the sealed parts of every envelope leaf of the node at `dataDir`, oldest first. */
export async function exportSealed(
  dataDir: string,
  write: (line: string) => Promise<void> | void,
): Promise<SealedExportSummary> {
  const store = await openNodeStoreReadOnly(dataDir);
  const summary: SealedExportSummary = { sealed: 0, redWithheld: 0 };
  try {
    await store.transaction(async (tx) => {
      const size = await store.ledgerSize(tx);
      for (let from = 0; from < size; from += PAGE) {
        const texts = await store.readLeaves(from, Math.min(PAGE, size - from), tx);
        const leaves = texts.map((text, k) => ({ index: from + k, leaf: parseLeaf(text) }));
        for (const dir of ['in', 'out'] as const) {
          const mine = leaves.filter(({ leaf }) => leaf.leaf === 'envelope' && leaf.dir === dir);
          const parties = new Set<string>();
          const ids = new Set<string>();
          for (const { leaf } of mine) {
            if (leaf.leaf !== 'envelope') continue;
            ids.add(leaf.header.id);
            for (const p of dir === 'in' ? [leaf.header.from] : leaf.header.to) parties.add(p);
          }
          const rows = await store.envelopesByLeaf(dir, [...parties], [...ids], tx);
          for (const { index, leaf } of mine) {
            const row = rows.get(index);
            if (!row || leaf.leaf !== 'envelope') continue;
            if (row.tlp === 'red') {
              summary.redWithheld++;
              continue;
            }
            const { header, sealed } = row.envelope;
            await write(
              `${JSON.stringify({
                type: 'sealed',
                index,
                dir,
                party: row.party,
                id: header.id,
                header,
                sealed,
                sealedHash: toHex(sha256(jcsBytes(sealed))),
              })}\n`,
            );
            summary.sealed++;
          }
        }
      }
    });
  } finally {
    await store.close();
  }
  await write(`${JSON.stringify({ type: 'end', ...summary })}\n`);
  return summary;
}

/** Exports to a file, readable by its owner alone, in place once complete (../core/out-file.ts). */
export function exportSealedToFile(
  dataDir: string,
  file: string,
  options: Pick<OutFileOptions, 'replace'> = {},
): Promise<SealedExportSummary> {
  return writeOutFile(file, { replace: options.replace }, (write) => exportSealed(dataDir, write));
}
