import { beforeAll, describe, expect, test } from 'vitest';
import { createCard } from '../crypto/card.ts';
import { generateNodeKeys, NodeKeys } from '../crypto/keys.ts';
import type { Card } from '../protocol/card.ts';
import { fromUtf8, toHex, utf8 } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { Discontinuity } from '../protocol/recovery.ts';
import { type Checkpoint, signCheckpoint } from './checkpoint.ts';
import { cosignatureSigner, cosignCheckpoint } from './cosignature.ts';
import { checkDiscontinuity, restoredOrigin } from './discontinuity.ts';
import { MemoryHashStore, proveTreeSync, treeHashSync } from './merkle.ts';
import { ed25519NoteSigner, formatSignatureLine } from './note.ts';
import { isOriginOf } from './receipt.ts';

async function party(id: string): Promise<{ card: Card; keys: NodeKeys }> {
  const generated = await generateNodeKeys(id);
  const keys = new NodeKeys(generated);
  const card = createCard({
    party: id,
    names: { en: id },
    keys: generated.map((k) => k.entry),
    endpoints: [{ id: 'direct', kind: 'direct', url: 'http://127.0.0.1:1', priority: 0 }],
    vocabulary: { version: '0', hash: '0'.repeat(64) },
    issued: new Date(),
  });
  return { card, keys };
}

let us: Awaited<ReturnType<typeof party>>;
let cn: Awaited<ReturnType<typeof party>>;
const tree = new MemoryHashStore();

/** Washington's checkpoint of its tree at `size`, signed with its log key, under `origin`. */
function checkpointOf(size: number, origin = 'hotline/us/log'): { note: string; c: Checkpoint } {
  const key = us.keys.get('log');
  const c: Checkpoint = { origin, size, root: treeHashSync(size, tree), extensions: [] };
  return {
    note: fromUtf8(signCheckpoint(c, ed25519NoteSigner(key.entry.name ?? '', key.secret))),
    c,
  };
}

/** Beijing's co-signature line on Washington's checkpoint. */
function cosign(c: Checkpoint, by = cn): string {
  const key = by.keys.get('witness');
  const signer = cosignatureSigner(key.entry.name ?? '', key.secret, () => 1_800_000_000);
  return formatSignatureLine(cosignCheckpoint(c, signer));
}

/** A statement of a log restored at size 12, citing Beijing's co-signature of size 8. */
function statement(): Discontinuity {
  const cosigned = checkpointOf(8);
  return {
    origin: restoredOrigin('hotline/us/log', new Date('2026-12-06T05:40:12.345Z')),
    last: checkpointOf(12).note,
    cosigned: [
      {
        party: 'cn',
        note: cosigned.note,
        line: cosign(cosigned.c),
        proof: proveTreeSync(12, 8, tree).map(toHex),
      },
    ],
  };
}

const refusal = (detail: unknown, witnesses = new Map([['cn', cn.card]])) => {
  try {
    checkDiscontinuity(detail, us.card, witnesses);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('E_BAD_DISCONTINUITY');
    return (e as Error).message;
  }
  return undefined;
};

beforeAll(async () => {
  us = await party('us');
  cn = await party('cn');
  for (let i = 0; i < 20; i++) tree.append(utf8(`leaf ${i}`));
});

describe('the discontinuity statement of a restored log', () => {
  test('a restore names a new origin of the same log key', () => {
    const origin = restoredOrigin('hotline/us/log', new Date('2026-12-06T05:40:12.345Z'));
    expect(origin).toBe('hotline/us/log/restored/2026-12-06T05:40:12Z');
    expect(isOriginOf(origin, 'hotline/us/log')).toBe(true);
    expect(isOriginOf('hotline/us/log', 'hotline/us/log')).toBe(true);
    expect(isOriginOf('hotline/us/logx', 'hotline/us/log')).toBe(false);
    expect(isOriginOf('hotline/cn/log/restored/x', 'hotline/us/log')).toBe(false);
  });

  test('a statement whose checkpoints, co-signature and proof verify is accepted', () => {
    const checked = checkDiscontinuity(statement(), us.card, new Map([['cn', cn.card]]));
    expect(checked.last.size).toBe(12);
    expect(checked.cosigned.get('cn')?.size).toBe(8);
    expect(checked.origin).toMatch(/^hotline\/us\/log\/restored\//);
  });

  test('a co-signature the cited witness never made is refused', async () => {
    const other = await party('cn');
    const bad = statement();
    const cited = bad.cosigned[0] as Discontinuity['cosigned'][number];
    cited.line = cosign(checkpointOf(8).c, other);
    expect(refusal(bad)).toMatch(/does not verify with "cn"'s witness key/);
  });

  test('a last checkpoint that does not extend the co-signed one is refused', () => {
    const bad = statement();
    (bad.cosigned[0] as Discontinuity['cosigned'][number]).proof = proveTreeSync(12, 7, tree).map(
      toHex,
    );
    expect(refusal(bad)).toMatch(/does not extend the one "cn" co-signed/);
  });

  test('the old origin again, or another log’s, is not a new origin', () => {
    expect(refusal({ ...statement(), origin: 'hotline/us/log' })).toMatch(/not a new origin/);
    expect(refusal({ ...statement(), origin: 'hotline/cn/log/restored/x' })).toMatch(
      /not a new origin/,
    );
  });

  test('a last checkpoint not signed by the log key is refused', () => {
    const forged = statement();
    forged.last = forged.last.replace(/— (\S+) (\S+)/, (_m, name) => `— ${name} ${'A'.repeat(88)}`);
    expect(refusal(forged)).toMatch(/its last checkpoint/);
    expect(refusal({ ...statement(), extra: 1 })).toMatch(/the discontinuity statement/);
  });
});
