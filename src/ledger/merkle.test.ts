import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import argon from '../../test/vectors/ledger/merkle-argon2020.json' with { type: 'json' };
import reference from '../../test/vectors/ledger/merkle-rfc6962.json' with { type: 'json' };
import published from '../../test/vectors/ledger/merkle-testdata.json' with { type: 'json' };
import { concatBytes, fromHex, sha256, toHex, utf8 } from '../protocol/encoding.ts';
import { fromBase64 } from './base64.ts';
import {
  checkRecord,
  checkTree,
  emptyTreeHash,
  type HashReader,
  leafHash,
  leafHashOfText,
  MemoryHashStore,
  nodeHash,
  proveRecord,
  proveRecordSync,
  proveTree,
  proveTreeSync,
  RecordChecker,
  type SyncHashReader,
  storedHashCount,
  storedHashes,
  storedHashesSync,
  storedHashIndex,
  TreeEdge,
  treeHash,
  treeHashSync,
} from './merkle.ts';

// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 written as the definitions read, over all the leaves:
// the reference the stored-hash implementation must agree with.
function mth(leaves: readonly Uint8Array[]): Uint8Array {
  const [first] = leaves;
  if (first === undefined) return sha256();
  if (leaves.length === 1) return sha256(Uint8Array.of(0), first);
  const k = splitPoint(leaves.length);
  return sha256(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function rfcPath(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...rfcPath(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...rfcPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function rfcProof(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  return rfcSubproof(m, leaves, true);
}

function rfcSubproof(m: number, leaves: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === leaves.length) return b ? [] : [mth(leaves)];
  const k = splitPoint(leaves.length);
  return m <= k
    ? [...rfcSubproof(m, leaves.slice(0, k), b), mth(leaves.slice(k))]
    : [...rfcSubproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

/** Which side each sibling of PATH(m, D[n]) sits on: the tree shape an inclusion proof encodes. */
function pathShape(m: number, n: number): string {
  if (n <= 1) return '';
  const k = splitPoint(n);
  return m < k ? `${pathShape(m, k)}R` : `${pathShape(m - k, n - k)}L`;
}

/** The shape of PROOF(m, D[n]): which side each element sits on, S for an old subtree's root. */
function proofShape(m: number, n: number, b = true): string {
  if (m === n) return b ? '' : 'S';
  const k = splitPoint(n);
  return m <= k ? `${proofShape(m, k, b)}R` : `${proofShape(m - k, n - k, false)}L`;
}

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function storeOf(leaves: readonly Uint8Array[]): MemoryHashStore {
  const store = new MemoryHashStore();
  for (const leaf of leaves) store.append(leaf);
  return store;
}

/**
 * Distinct leaves of varied lengths derived from a seed, the first one empty for even seeds.
 * Distinct, because two equal sibling leaves make a proof hold for either index, truthfully.
 */
function leavesFrom(seed: number, size: number): Uint8Array[] {
  return Array.from({ length: size }, (_, i) =>
    i === 0 && seed % 2 === 0
      ? new Uint8Array()
      : concatBytes(utf8(`${i}:`), sha256(utf8(`${seed}/${i}`)).subarray(0, (i * 7 + seed) % 33)),
  );
}

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ 0x01;
  return copy;
}

const hexes = (list: readonly string[]) => list.map(fromHex);
const b64s = (list: readonly string[]) =>
  list.map((h) => (h === '' ? new Uint8Array() : fromBase64(h)));
const referenceLeaves = hexes(reference.leaves);
const referenceRoots = hexes(reference.roots);
const rootOf = (size: number) => referenceRoots[size - 1] ?? emptyTreeHash();

/** A reader that answers later, counting its calls, as a database-backed store would. */
function asyncReader(store: SyncHashReader, calls: (readonly number[])[] = []): HashReader {
  return {
    readHashes: async (indexes) => {
      calls.push([...indexes]);
      await Promise.resolve();
      return store.readHashes(indexes);
    },
  };
}

describe('RFC 9162 hashing, against transparency-dev/merkle rfc6962_test.go', () => {
  it('hashes the empty tree, the empty leaf and a leaf', () => {
    expect(toHex(emptyTreeHash())).toBe(reference.hasher.emptyRoot);
    expect(toHex(leafHash(new Uint8Array()))).toBe(reference.hasher.emptyLeaf);
    expect(toHex(leafHash(utf8(reference.hasher.leaf.data)))).toBe(reference.hasher.leaf.hash);
  });

  it('hashes a text leaf as the leaf of its UTF-8 bytes', () => {
    expect(toHex(leafHashOfText(reference.hasher.leaf.data))).toBe(reference.hasher.leaf.hash);
    expect(toHex(leafHashOfText(''))).toBe(reference.hasher.emptyLeaf);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(leafHashOfText(text)).toEqual(leafHash(utf8(text)));
      }),
    );
  });

  it('hashes a long text leaf (a receipt of a batch) as the leaf of its UTF-8 bytes', () => {
    // Long texts are hashed in pieces of 8,192 code units: whatever straddles a piece's end
    // (a surrogate pair, a lone half of one, a character of 2 or 3 bytes) is hashed as in the
    // whole text.
    const sample = fc.tuple(
      fc.integer({ min: 8_170, max: 8_200 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.integer({ min: 0, max: 20_000 }),
    );
    fc.assert(
      fc.property(sample, ([before, middle, after]) => {
        const text = `${'é'.repeat(before)}${middle}${'—'.repeat(after)}`;
        expect(leafHashOfText(text)).toEqual(leafHash(utf8(text)));
      }),
    );
    for (const middle of ['😀', '\ud83d', '\ude00', '\ud83dx', '\ude00\ud83d'])
      for (let at = 8_188; at <= 8_193; at++) {
        const text = `${'a'.repeat(at)}${middle}${'b'.repeat(9_000)}`;
        expect(leafHashOfText(text)).toEqual(leafHash(utf8(text)));
      }
  });

  it('separates leaves from nodes and orders children', () => {
    const [a, b] = [leafHash(utf8('Hello')), leafHash(utf8('World'))];
    expect(nodeHash(a, b)).not.toEqual(leafHash(new Uint8Array([...a, ...b])));
    expect(nodeHash(a, b)).not.toEqual(nodeHash(b, a));
    expect(() => nodeHash(a, b.subarray(1))).toThrow('32-byte');
  });
});

describe('the 8-leaf reference tree of transparency-dev/merkle verify_test.go', () => {
  const store = storeOf(referenceLeaves);

  it('gives the published root at every size, sync and async', async () => {
    for (let size = 1; size <= 8; size++) {
      expect(toHex(treeHashSync(size, store))).toBe(reference.roots[size - 1]);
      expect(toHex(await treeHash(size, asyncReader(store)))).toBe(reference.roots[size - 1]);
    }
    expect(treeHashSync(0, store)).toEqual(emptyTreeHash());
  });

  it.each(reference.inclusion)('proves and checks leaf $leafIndex of $treeSize', (vector) => {
    const { leafIndex, treeSize } = vector;
    const proof = hexes(vector.proof);
    const leaf = leafHash(referenceLeaves[leafIndex] ?? new Uint8Array());
    expect(proveRecordSync(treeSize, leafIndex, store)).toEqual(proof);
    expect(checkRecord(proof, treeSize, rootOf(treeSize), leafIndex, leaf)).toBe(true);
  });

  // The probes of corruptInclusionProof in verify_test.go.
  it.each(reference.inclusion.filter((v) => v.proof.length > 0))(
    'refuses corrupted inclusion proofs for leaf $leafIndex of $treeSize',
    ({ leafIndex, treeSize, proof: hex }) => {
      const proof = hexes(hex);
      const root = rootOf(treeSize);
      const leaf = leafHash(referenceLeaves[leafIndex] ?? new Uint8Array());
      const some = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');
      const probes: [Uint8Array[], number, Uint8Array, number, Uint8Array][] = [
        [proof, treeSize, root, leafIndex - 1, leaf],
        [proof, treeSize, root, leafIndex + 1, leaf],
        [proof, treeSize, root, leafIndex ^ 2, leaf],
        [proof, treeSize * 2, root, leafIndex, leaf],
        [proof, Math.floor(treeSize / 2), root, leafIndex, leaf],
        [proof, treeSize, root, leafIndex, utf8('WrongLeaf')],
        [proof, treeSize, emptyTreeHash(), leafIndex, leaf],
        [proof, treeSize, some, leafIndex, leaf],
        [[...proof, new Uint8Array()], treeSize, root, leafIndex, leaf],
        [[...proof, root], treeSize, root, leafIndex, leaf],
        [[new Uint8Array(), ...proof], treeSize, root, leafIndex, leaf],
        [[root, ...proof], treeSize, root, leafIndex, leaf],
        [proof.slice(0, -1), treeSize, root, leafIndex, leaf],
        ...proof.map((_, i): [Uint8Array[], number, Uint8Array, number, Uint8Array] => [
          proof.map((p, j) => (i === j ? flipped(p, 0) : p)),
          treeSize,
          root,
          leafIndex,
          leaf,
        ]),
      ];
      if (proof.length > 1) {
        probes.push([[proof[0] ?? some, some, ...proof.slice(1)], treeSize, root, leafIndex, leaf]);
      }
      for (const [p, t, r, n, l] of probes) {
        if (n < 0) continue;
        expect(checkRecord(p, t, r, n, l)).toBe(false);
      }
    },
  );

  it.each(reference.consistency)('proves and checks $size1 → $size2', (vector) => {
    const { size1, size2 } = vector;
    const proof = hexes(vector.proof);
    expect(proveTreeSync(size2, size1, store)).toEqual(proof);
    expect(checkTree(proof, size2, rootOf(size2), size1, rootOf(size1))).toBe(true);
  });

  // The probes of corruptConsistencyProof in verify_test.go.
  it.each(reference.consistency.filter((v) => v.proof.length > 0))(
    'refuses corrupted consistency proofs for $size1 → $size2',
    ({ size1, size2, proof: hex }) => {
      const proof = hexes(hex);
      const [root1, root2] = [rootOf(size1), rootOf(size2)];
      const wrong = sha256(utf8('WrongRoot'));
      const probes: [Uint8Array[], number, Uint8Array, number, Uint8Array][] = [
        [proof, size2, root2, size1 - 1, root1],
        [proof, size2, root2, size1 + 1, root1],
        [proof, size2, root2, size1 ^ 2, root1],
        [proof, size2 * 2, root2, size1, root1],
        [proof, Math.floor(size2 / 2), root2, size1, root1],
        [proof, size2, root2, size1, wrong],
        [proof, size2, wrong, size1, root1],
        [proof, size2, root1, size1, root2],
        [[], size2, root2, size1, root1],
        [[...proof, new Uint8Array()], size2, root2, size1, root1],
        [[...proof, root1], size2, root2, size1, root1],
        [[...proof, root2], size2, root2, size1, root1],
        [[new Uint8Array(), ...proof], size2, root2, size1, root1],
        [[root1, ...proof], size2, root2, size1, root1],
        [[root2, ...proof], size2, root2, size1, root1],
        [[proof[0] ?? wrong, ...proof], size2, root2, size1, root1],
        [proof.slice(0, -1), size2, root2, size1, root1],
        ...proof.map((_, i): [Uint8Array[], number, Uint8Array, number, Uint8Array] => [
          proof.map((p, j) => (i === j ? flipped(p, 4) : p)),
          size2,
          root2,
          size1,
          root1,
        ]),
      ];
      for (const [p, t, r, n, o] of probes) {
        expect(checkTree(p, t, r, n, o)).toBe(false);
      }
    },
  );

  it('treats the edges of consistency as the transparency-dev verifier does', () => {
    const r = rootOf(3);
    expect(checkTree([], 3, r, 3, r)).toBe(true);
    expect(checkTree([], 3, r, 0, emptyTreeHash())).toBe(true);
    expect(checkTree([emptyTreeHash()], 3, r, 3, r)).toBe(false);
    expect(checkTree([emptyTreeHash()], 3, r, 0, emptyTreeHash())).toBe(false);
    expect(checkTree([], 3, r, 3, rootOf(2))).toBe(false);
    expect(checkTree([], 1, r, 2, r)).toBe(false);
    expect(proveTreeSync(8, 0, store)).toEqual([]);
    expect(proveTreeSync(8, 8, store)).toEqual([]);
  });
});

describe('the published test data of transparency-dev/merkle', () => {
  it.each(published.inclusion)('inclusion: $desc', (v) => {
    const ok = checkRecord(
      b64s(v.proof),
      v.treeSize,
      fromBase64(v.root),
      v.leafIdx,
      b64s([v.leafHash])[0] ?? new Uint8Array(),
    );
    expect(ok).toBe(!v.wantErr);
  });

  it.each(published.consistency)('consistency: $desc', (v) => {
    const ok = checkTree(b64s(v.proof), v.size2, fromBase64(v.root2), v.size1, fromBase64(v.root1));
    expect(ok).toBe(!v.wantErr);
  });
});

describe('real Certificate Transparency proofs (Argon 2020, from golang.org/x/mod tlog)', () => {
  const size = argon.sth.tree_size;
  const root = fromBase64(argon.sth.sha256_root_hash);
  const entry = argon.entries.entries[0]?.leaf_input ?? '';
  const leaf = leafHash(fromBase64(entry));
  const audit = b64s(argon.proof.audit_path);
  const consistency = b64s(argon.consistency.consistency);
  const oldRoot = fromBase64(argon.oldRoot);

  it('verifies entry 10000 in a tree of 961,984,013 leaves', () => {
    expect(checkRecord(audit, size, root, argon.proof.leaf_index, leaf)).toBe(true);
    expect(checkRecord(audit, size, root, argon.proof.leaf_index + 1, leaf)).toBe(false);
    expect(checkRecord(audit, size, flipped(root, 31), argon.proof.leaf_index, leaf)).toBe(false);
  });

  it('verifies that tree extends the one of 3,654,490 leaves', () => {
    expect(checkTree(consistency, size, root, argon.oldSize, oldRoot)).toBe(true);
    expect(checkTree(consistency, size, root, argon.oldSize, flipped(oldRoot, 0))).toBe(false);
    expect(checkTree(consistency.slice(1), size, root, argon.oldSize, oldRoot)).toBe(false);
  });
});

describe('stored hashes, as golang.org/x/mod/sumdb/tlog lays them out', () => {
  it('indexes subtrees in the order they complete', () => {
    // Leaves 0, 1, then node (1,0); leaves 2, 3, then (1,1) and (2,0); leaf 4.
    const order = [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 2],
      [0, 3],
      [1, 1],
      [2, 0],
      [0, 4],
    ];
    expect(order.map(([level, n]) => storedHashIndex(level ?? 0, n ?? 0))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect([0, 1, 2, 3, 4, 5, 7, 8].map(storedHashCount)).toEqual([0, 1, 3, 4, 7, 8, 11, 15]);
    expect(storedHashCount(2 ** 52)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('appends one hash per leaf plus one per completed subtree, under two on average', () => {
    const store = new MemoryHashStore();
    let written = 0;
    for (let n = 0; n < 1024; n++) {
      const hashes = storedHashesSync(n, utf8(`leaf ${n}`), store);
      written += hashes.length;
      expect(hashes.length).toBe(1 + Math.log2(((n ^ (n + 1)) + 1) / 2));
      store.append(utf8(`leaf ${n}`));
      expect(storedHashCount(n + 1)).toBe(written);
    }
    expect(written / 1024).toBeLessThan(2);
  });

  it('reads each root and proof in one batch of O(log n) increasing indexes', async () => {
    const store = storeOf(leavesFrom(7, 1000));
    const calls: (readonly number[])[] = [];
    const reader = asyncReader(store, calls);
    await treeHash(1000, reader);
    await proveRecord(1000, 617, reader);
    await proveTree(1000, 377, reader);
    await storedHashes(999, utf8('next'), reader);
    expect(calls).toHaveLength(4);
    for (const indexes of calls) {
      expect(indexes.length).toBeLessThanOrEqual(2 * Math.log2(1000) + 2);
      expect([...indexes].sort((a, b) => a - b)).toEqual(indexes);
      expect(new Set(indexes).size).toBe(indexes.length);
    }
  });

  it('carries on after a restart from the stored hashes alone', async () => {
    const leaves = leavesFrom(3, 300);
    const before = storeOf(leaves.slice(0, 200));
    const persisted = before.readHashes(Array.from({ length: storedHashCount(200) }, (_, i) => i));
    // A new process: nothing but the persisted hashes, read through an async reader.
    const disk: SyncHashReader = { readHashes: (ix) => ix.map((i) => persisted[i] ?? sha256()) };
    for (let n = 200; n < 300; n++) {
      persisted.push(...(await storedHashes(n, leaves[n] ?? new Uint8Array(), asyncReader(disk))));
    }
    expect(await treeHash(300, asyncReader(disk))).toEqual(mth(leaves));
    expect(await treeHash(200, asyncReader(disk))).toEqual(mth(leaves.slice(0, 200)));
  });

  it('keeps hashes across its memory pages as a plain list of them would', () => {
    // 17,000 leaves store about 34,000 hashes: past the first page (2^15 hashes), which grows.
    const leaves = leavesFrom(5, 17_000);
    const store = storeOf(leaves);
    const list: Uint8Array[] = [];
    const plain: SyncHashReader = { readHashes: (ix) => ix.map((i) => list[i] ?? sha256()) };
    for (const [n, leaf] of leaves.entries()) list.push(...storedHashesSync(n, leaf, plain));
    const all = Array.from({ length: storedHashCount(17_000) }, (_, i) => i);
    expect(store.readHashes(all)).toEqual(list);
    expect(() => store.readHashes([list.length])).toThrow(RangeError);
    for (const size of [1, 64, 65, 16_384, 16_385, 17_000])
      expect(treeHashSync(size, store)).toEqual(treeHashSync(size, plain));
  });

  it('checks its inputs at the boundary', async () => {
    const store = storeOf(referenceLeaves);
    expect(() => proveRecordSync(8, 8, store)).toThrow(RangeError);
    expect(() => proveRecordSync(8, -1, store)).toThrow(RangeError);
    expect(() => proveTreeSync(4, 5, store)).toThrow(RangeError);
    expect(() => treeHashSync(1.5, store)).toThrow(RangeError);
    expect(() => treeHashSync(2 ** 52 + 1, store)).toThrow(RangeError);
    expect(() => storedHashIndex(0, -1)).toThrow(RangeError);
    expect(() => treeHashSync(9, store)).toThrow('no stored hash');
    expect(() => checkRecord([], 1, emptyTreeHash(), Number.NaN, emptyTreeHash())).toThrow(
      RangeError,
    );
    expect(() => treeHashSync(8, asyncReader(store) as SyncHashReader)).toThrow('async');
    const short: HashReader = { readHashes: (ix) => store.readHashes(ix).slice(1) };
    await expect(treeHash(7, short)).rejects.toThrow('returned 2 hashes for 3 indexes');
    const bad: HashReader = { readHashes: (ix) => ix.map(() => new Uint8Array(31)) };
    await expect(treeHash(7, bad)).rejects.toThrow('32 bytes');
  });

  it('refuses a wrong-size hash anywhere in a proof, root or leaf', () => {
    const store = storeOf(referenceLeaves);
    const proof = proveRecordSync(8, 2, store);
    const leaf = leafHash(referenceLeaves[2] ?? new Uint8Array());
    const root = rootOf(8);
    expect(checkRecord(proof, 8, root, 2, leaf)).toBe(true);
    expect(checkRecord(proof, 8, root.subarray(1), 2, leaf)).toBe(false);
    expect(checkRecord(proof, 8, root, 2, new Uint8Array([...leaf, 0]))).toBe(false);
    expect(
      checkRecord([proof[0] ?? root, new Uint8Array(33), ...proof.slice(2)], 8, root, 2, leaf),
    ).toBe(false);
  });
});

describe('properties over random trees of 1 to 2000 leaves', () => {
  const tree = fc
    .record({ size: fc.integer({ min: 1, max: 2000 }), seed: fc.nat() })
    .map(({ size, seed }) => {
      const leaves = leavesFrom(seed, size);
      return { size, leaves, store: storeOf(leaves) };
    });
  const runs = { numRuns: 20 };

  it('computes the root the RFC 9162 definition gives', () => {
    fc.assert(
      fc.property(tree, fc.nat(), ({ size, leaves, store }, cut) => {
        const smaller = cut % (size + 1);
        expect(treeHashSync(size, store)).toEqual(mth(leaves));
        expect(treeHashSync(smaller, store)).toEqual(mth(leaves.slice(0, smaller)));
      }),
      runs,
    );
  });

  it('keeps the right edge: loaded at any size, it appends the stored hashes and roots of the RFC', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.nat(), async ({ size, leaves, store }, cut) => {
        const from = cut % (size + 1);
        const edge = await TreeEdge.load(from, store);
        expect(edge.root()).toEqual(mth(leaves.slice(0, from)));
        for (let n = from; n < size; n++) {
          const data = leaves[n] ?? new Uint8Array();
          expect(edge.append(data)).toEqual(storedHashesSync(n, data, store));
        }
        expect(edge.size).toBe(size);
        expect(edge.root()).toEqual(mth(leaves));
      }),
      runs,
    );
  });

  it('checks many proofs against one head as checkRecord does, tampered ones among them', () => {
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(
        tree,
        fc.array(fc.record({ pick: fc.nat(), tamper: fc.nat({ max: 5 }), at: fc.nat() }), {
          minLength: 1,
          maxLength: 60,
        }),
        ({ size, leaves, store }, checks) => {
          const root = treeHashSync(size, store);
          const checker = new RecordChecker(size, root);
          for (const { pick, tamper, at } of checks) {
            // Runs of neighbouring leaves, as a receipt's entries are, with a few strays.
            const n = (pick % 7 === 0 ? pick : size - 1 - (pick % 64)) % size;
            const leaf = leafHash(leaves[Math.max(0, n)] ?? new Uint8Array());
            let proof = proveRecordSync(size, Math.max(0, n), store);
            let index = Math.max(0, n);
            if (tamper === 1 && proof.length)
              proof = proof.map((p, i) => (i === at % proof.length ? flipped(p, at) : p));
            if (tamper === 2) proof = proof.slice(1);
            if (tamper === 3) index = (index + 1) % size;
            const expected = checkRecord(proof, size, root, index, leaf);
            expect(checker.check(proof, index, leaf)).toBe(expected);
            outcomes[expected ? 'accepted' : 'refused']++;
          }
        },
      ),
      runs,
    );
    expect(outcomes.accepted).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(10);
  });

  it('proves inclusion as PATH does, and every such proof verifies', () => {
    fc.assert(
      fc.property(tree, fc.nat(), ({ size, leaves, store }, pick) => {
        const root = treeHashSync(size, store);
        for (const n of new Set([0, size - 1, pick % size])) {
          const proof = proveRecordSync(size, n, store);
          expect(proof).toEqual(rfcPath(n, leaves));
          expect(checkRecord(proof, size, root, n, leafHash(leaves[n] ?? new Uint8Array()))).toBe(
            true,
          );
        }
      }),
      runs,
    );
  });

  it('proves consistency as PROOF does, and every such proof verifies', () => {
    fc.assert(
      fc.property(tree, fc.nat(), ({ size, leaves, store }, pick) => {
        const m = 1 + (pick % size);
        const proof = proveTreeSync(size, m, store);
        expect(proof).toEqual(m === size ? [] : rfcProof(m, leaves));
        const [root, old] = [treeHashSync(size, store), treeHashSync(m, store)];
        expect(checkTree(proof, size, root, m, old)).toBe(true);
      }),
      runs,
    );
  });

  it('refuses an inclusion proof with any flipped byte, root, leaf, index or size', () => {
    fc.assert(
      fc.property(
        tree,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        ({ size, leaves, store }, pick, at, other) => {
          const n = pick % size;
          const root = treeHashSync(size, store);
          const leaf = leafHash(leaves[n] ?? new Uint8Array());
          const proof = proveRecordSync(size, n, store);
          proof.forEach((_, i) => {
            const bad = proof.map((p, j) => (i === j ? flipped(p, at) : p));
            expect(checkRecord(bad, size, root, n, leaf)).toBe(false);
          });
          expect(checkRecord(proof, size, flipped(root, at), n, leaf)).toBe(false);
          expect(checkRecord(proof, size, root, n, flipped(leaf, at))).toBe(false);
          const wrongIndex = (n + 1 + (other % size)) % (size + 1);
          if (wrongIndex !== n)
            expect(checkRecord(proof, size, root, wrongIndex, leaf)).toBe(false);
          // A proof encodes a path, not a size: another size whose path to leaf n has the same shape
          // verifies too (size 3 and 4 for leaf 0), which is why sizes come signed with their root.
          const wrongSize = n + 1 + (other % (2 * size));
          if (wrongSize !== size) {
            const sameShape = pathShape(n, wrongSize) === pathShape(n, size);
            expect(checkRecord(proof, wrongSize, root, n, leaf)).toBe(sameShape);
          }
        },
      ),
      runs,
    );
  });

  it('refuses a consistency proof with any flipped byte, root or size', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), fc.nat(), ({ size, store }, pick, at, other) => {
        fc.pre(size > 1);
        const m = 1 + (pick % (size - 1));
        const [root, old] = [treeHashSync(size, store), treeHashSync(m, store)];
        const proof = proveTreeSync(size, m, store);
        proof.forEach((_, i) => {
          const bad = proof.map((p, j) => (i === j ? flipped(p, at) : p));
          expect(checkTree(bad, size, root, m, old)).toBe(false);
        });
        expect(checkTree(proof, size, flipped(root, at), m, old)).toBe(false);
        expect(checkTree(proof, size, root, m, flipped(old, at))).toBe(false);
        // As with inclusion, only sizes whose proof has another shape are refused.
        const wrongOld = 1 + ((m + other) % size);
        if (wrongOld !== m) {
          const sameShape = proofShape(wrongOld, size) === proofShape(m, size);
          expect(checkTree(proof, size, root, wrongOld, old)).toBe(sameShape);
        }
        const wrongSize = m + 1 + (other % (2 * size));
        if (wrongSize !== size) {
          const sameShape = proofShape(m, wrongSize) === proofShape(m, size);
          expect(checkTree(proof, wrongSize, root, m, old)).toBe(sameShape);
        }
      }),
      runs,
    );
  });
});
