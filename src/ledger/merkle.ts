/**
 * Merkle tree hashing and proofs: RFC 9162 §2.1 (Certificate Transparency Version 2.0).
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1
 *
 * Storage follows golang.org/x/mod/sumdb/tlog (tlog.go): the hash of every complete subtree has
 * one index in a flat space (Crosby and Wallach, "Efficient Data Structures for Tamper-Evident
 * Logging", §3.3) and is written once, when its last leaf arrives. Appending leaf n writes
 * 1 + (trailing one bits of n) hashes, under two per leaf on average, and never rewrites any, so
 * a stored tree needs no rebuild after a restart. A root or a proof needs O(log n) stored hashes,
 * fetched in one batched read.
 *
 * Sizes and indexes are JS numbers. Stored hash indexes reach about 2n, so a stored tree holds at
 * most 2^52 leaves (MAX_TREE_SIZE); verification accepts any safe-integer size.
 */
import { createHash, hash } from 'node:crypto';
import { equalBytes, sha256 } from '../protocol/encoding.ts';

/** SHA-256 output length: every tree hash and proof element has it. */
export const HASH_SIZE = 32;

/** The largest tree whose stored hash indexes (about 2n) are all exact JS integers. */
export const MAX_TREE_SIZE = 2 ** 52;

const LEAF_PREFIX = Uint8Array.of(0x00);
/** A leaf text is hashed in pieces of this many UTF-16 code units when it is longer. */
const TEXT_PIECE = 8192;
/** 0x01 ‖ left ‖ right, written in place for each node: a tree hashes about one node per leaf. */
const NODE_INPUT = Uint8Array.of(0x01, ...new Uint8Array(2 * HASH_SIZE));

/**
 * Reads stored hashes by index (see storedHashIndex). It must answer one hash per index, in the
 * order asked. Indexes arrive in increasing order, which lets a store read them in one pass.
 */
export interface HashReader {
  readHashes(indexes: readonly number[]): Promise<Uint8Array[]> | Uint8Array[];
}

/** A HashReader that answers at once; the `*Sync` functions take one. */
export interface SyncHashReader extends HashReader {
  readHashes(indexes: readonly number[]): Uint8Array[];
}

// RFC 9162 §2.1.1: "The hash of an empty list is the hash of an empty string: MTH({}) = HASH()."
/** MTH({}), the root of the empty tree: SHA-256 of the empty string. */
export function emptyTreeHash(): Uint8Array {
  return sha256();
}

// RFC 9162 §2.1.1: "The hash of a list with one entry (also known as a leaf hash) is:
// MTH({d(0)}) = HASH(0x00 || d(0))."
/** The leaf hash of one entry: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('leaf data must be a Uint8Array');
  return sha256(LEAF_PREFIX, data);
}

/**
 * The leaf hash of a text entry, SHA-256(0x00 ‖ UTF-8(text)): the same as `leafHash(utf8(text))`,
 * hashed without copying the text into a buffer first (node:crypto encodes a string as UTF-8, a
 * lone surrogate as U+FFFD as TextEncoder does, and the NUL character is the byte 0x00).
 */
export function leafHashOfText(text: string): Uint8Array {
  if (text.length < TEXT_PIECE) {
    // Joined to its prefix, a short text is copied once on the young heap: cheaper than a hash
    // object.
    const digest = hash('sha256', `\0${text}`, 'buffer');
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }
  // A long one (a receipt of a batch: hundreds of kilobytes) is hashed in pieces: encoded whole,
  // it would be copied into memory fresh from the system each time, which costs several times
  // the hashing. A piece never ends between the two halves of a surrogate pair, so the bytes are
  // those of the whole text (a lone surrogate is U+FFFD either way).
  const sha = createHash('sha256').update(LEAF_PREFIX);
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + TEXT_PIECE, text.length);
    if (isHighSurrogate(text.charCodeAt(end - 1)) && end < text.length) end++;
    sha.update(text.slice(start, end));
    start = end;
  }
  const digest = sha.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// RFC 9162 §2.1.1: "MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))".
/** The hash of an interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!isHash(left) || !isHash(right)) throw new TypeError('node children must be 32-byte hashes');
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

/**
 * Maps the subtree at (level, n) — leaves [n·2^level, (n+1)·2^level) — to its storage index:
 * level L's n-th hash is written right after level L+1's (2n+1)-th, so hashes land in the order
 * their subtrees complete.
 */
export function storedHashIndex(level: number, n: number): number {
  if (!Number.isInteger(level) || level < 0 || level > 52) throw new RangeError('bad tree level');
  if (!Number.isSafeInteger(n) || n < 0 || n * 2 ** level >= MAX_TREE_SIZE) {
    throw new RangeError('bad subtree index');
  }
  return indexOf(level, n);
}

function indexOf(level: number, n: number): number {
  let leaf = n;
  for (let l = level; l > 0; l--) leaf = 2 * leaf + 1;
  // Level 0's n-th hash is written at n + n/2 + n/4 + …, after every hash completed before it.
  let index = 0;
  for (let rest = leaf; rest > 0; rest = half(rest)) index += rest;
  return index + level;
}

/** How many hashes a tree of n leaves has stored: those of every subtree completed so far. */
export function storedHashCount(n: number): number {
  checkSize(n, MAX_TREE_SIZE, 'tree size');
  if (n === 0) return 0;
  let count = indexOf(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = half(i)) count++;
  return count;
}

/**
 * The hashes to store, from index storedHashIndex(0, n) on, when appending leaf n with `data`:
 * its leaf hash, then the hash of each subtree the leaf completes. Reads up to log₂ n earlier
 * hashes, in one call.
 */
export async function storedHashes(
  n: number,
  data: Uint8Array,
  reader: HashReader,
): Promise<Uint8Array[]> {
  return run(planStoredHashes(n, data), reader);
}

/** storedHashes for a reader that answers at once. */
export function storedHashesSync(
  n: number,
  data: Uint8Array,
  reader: SyncHashReader,
): Uint8Array[] {
  return runSync(planStoredHashes(n, data), reader);
}

function planStoredHashes(n: number, data: Uint8Array): ReadPlan<Uint8Array[]> {
  checkSize(n, MAX_TREE_SIZE - 1, 'leaf index');
  const leaf = leafHash(data);
  // Each trailing one bit of n completes a subtree, merging it with the stored sibling on its left.
  let completed = 0;
  for (let rest = n; rest % 2 === 1; rest = half(rest)) completed++;
  const indexes: number[] = [];
  for (let level = completed - 1; level >= 0; level--) {
    indexes.push(indexOf(level, Math.floor(n / 2 ** level) - 1));
  }
  return {
    indexes,
    finish(siblings) {
      const out = [leaf];
      let hash = leaf;
      for (let level = 0; level < completed; level++) {
        hash = nodeHash(at(siblings, completed - 1 - level), hash);
        out.push(hash);
      }
      return out;
    },
  };
}

/**
 * MTH(D[n]), the root of the tree of the first n leaves, from the hashes stored while appending
 * them. Reads at most 1 + log₂ n hashes, in one call; the empty tree needs none.
 */
export async function treeHash(n: number, reader: HashReader): Promise<Uint8Array> {
  return run(planTreeHash(n), reader);
}

/** treeHash for a reader that answers at once. */
export function treeHashSync(n: number, reader: SyncHashReader): Uint8Array {
  return runSync(planTreeHash(n), reader);
}

function planTreeHash(n: number): ReadPlan<Uint8Array> {
  checkSize(n, MAX_TREE_SIZE, 'tree size');
  return {
    indexes: n === 0 ? [] : subtreeIndexes(0, n, []),
    finish: (hashes) => (n === 0 ? emptyTreeHash() : subtreeHash(0, n, new Queue(hashes))),
  };
}

// RFC 9162 §2.1.1: "For n > 1, let k be the largest power of two smaller than n (i.e.,
// k < n <= 2k)." Leaves [lo, hi) split into stored complete subtrees of sizes k₁ > k₂ > …, left to
// right; the root of [lo, hi) folds them from the right.
function subtreeIndexes(lo: number, hi: number, need: number[]): number[] {
  for (let start = lo; start < hi; ) {
    const [k, level] = largestPowerOfTwoAtMost(hi - start);
    need.push(indexOf(level, start / k));
    start += k;
  }
  return need;
}

function subtreeHash(lo: number, hi: number, queue: Queue): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let start = lo; start < hi; start += largestPowerOfTwoAtMost(hi - start)[0]) {
    parts.push(queue.take());
  }
  let hash = at(parts, parts.length - 1);
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(at(parts, i), hash);
  return hash;
}

/**
 * PATH(n, D[t]) (RFC 9162 §2.1.3.1): the inclusion proof that leaf n is in the tree of size t,
 * in RFC order (from the leaf's sibling up to the root's child). One read of O(log t) hashes.
 */
export async function proveRecord(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  return run(planProveRecord(t, n), reader);
}

/** proveRecord for a reader that answers at once. */
export function proveRecordSync(t: number, n: number, reader: SyncHashReader): Uint8Array[] {
  return runSync(planProveRecord(t, n), reader);
}

function planProveRecord(t: number, n: number): ReadPlan<Uint8Array[]> {
  checkSize(t, MAX_TREE_SIZE, 'tree size');
  checkSize(n, t - 1, 'leaf index');
  return {
    indexes: pathIndexes(0, t, n, []),
    finish: (hashes) => path(0, t, n, new Queue(hashes)),
  };
}

// RFC 9162 §2.1.3.1: "The path for the single leaf in a tree with a one-element input list
// D[1] = {d(0)} is empty: PATH(0, {d(0)}) = {}. For n > 1, let k be the largest power of two
// smaller than n. The path for the (m+1)th element d(m) in a list of n > m elements is then
// defined recursively as: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) for m < k; and
// PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k".
function pathIndexes(lo: number, hi: number, m: number, need: number[]): number[] {
  if (hi - lo === 1) return need;
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m < lo + k) {
    pathIndexes(lo, lo + k, m, need);
    subtreeIndexes(lo + k, hi, need);
  } else {
    subtreeIndexes(lo, lo + k, need);
    pathIndexes(lo + k, hi, m, need);
  }
  return need;
}

function path(lo: number, hi: number, m: number, queue: Queue): Uint8Array[] {
  if (hi - lo === 1) return [];
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m < lo + k) {
    const inner = path(lo, lo + k, m, queue);
    return [...inner, subtreeHash(lo + k, hi, queue)];
  }
  const sibling = subtreeHash(lo, lo + k, queue);
  return [...path(lo + k, hi, m, queue), sibling];
}

/**
 * PROOF(n, D[t]) (RFC 9162 §2.1.4.1): the consistency proof that the tree of size t extends the
 * tree of size n ≤ t, in RFC order. Empty when n is 0 or t. One read of O(log t) hashes.
 */
export async function proveTree(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  return run(planProveTree(t, n), reader);
}

/** proveTree for a reader that answers at once. */
export function proveTreeSync(t: number, n: number, reader: SyncHashReader): Uint8Array[] {
  return runSync(planProveTree(t, n), reader);
}

function planProveTree(t: number, n: number): ReadPlan<Uint8Array[]> {
  checkSize(t, MAX_TREE_SIZE, 'tree size');
  checkSize(n, t, 'old tree size');
  if (n === 0 || n === t) return { indexes: [], finish: () => [] };
  return {
    indexes: subproofIndexes(0, t, n, true, []),
    finish: (hashes) => subproof(0, t, n, true, new Queue(hashes)),
  };
}

// RFC 9162 §2.1.4.1: "PROOF(m, D[n]) = SUBPROOF(m, D[n], true)". "If m = n, SUBPROOF(m, D[m], b)
// = {} if b is true, and {MTH(D[m])} if b is false. For m < n, let k be the largest power of two
// smaller than n. If m <= k: SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n]). If
// m > k: SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])."
function subproofIndexes(lo: number, hi: number, m: number, b: boolean, need: number[]): number[] {
  if (m === hi) return b ? need : subtreeIndexes(lo, hi, need);
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m <= lo + k) {
    subproofIndexes(lo, lo + k, m, b, need);
    subtreeIndexes(lo + k, hi, need);
  } else {
    subtreeIndexes(lo, lo + k, need);
    subproofIndexes(lo + k, hi, m, false, need);
  }
  return need;
}

function subproof(lo: number, hi: number, m: number, b: boolean, queue: Queue): Uint8Array[] {
  if (m === hi) return b ? [] : [subtreeHash(lo, hi, queue)];
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m <= lo + k) {
    const inner = subproof(lo, lo + k, m, b, queue);
    return [...inner, subtreeHash(lo + k, hi, queue)];
  }
  const left = subtreeHash(lo, lo + k, queue);
  return [...subproof(lo + k, hi, m, false, queue), left];
}

// RFC 9162 §2.1.3.2 (verifying an inclusion proof), step by step.
/**
 * Whether `proof` shows that the tree of size t with root `root` has `leaf` (a leaf hash) at
 * index n. False on any mismatch, including n ≥ t and hashes that are not 32 bytes; throws only
 * when t or n is not a non-negative safe integer.
 */
export function checkRecord(
  proof: readonly Uint8Array[],
  t: number,
  root: Uint8Array,
  n: number,
  leaf: Uint8Array,
): boolean {
  checkSize(t, Number.MAX_SAFE_INTEGER, 'tree size');
  checkSize(n, Number.MAX_SAFE_INTEGER, 'leaf index');
  if (!isHash(root) || !isHash(leaf)) return false;
  // 1. "If leaf_index is greater than or equal to tree_size, then fail the proof verification."
  if (n >= t) return false;
  // 2. "Set fn to leaf_index and sn to tree_size - 1."
  let fn = n;
  let sn = t - 1;
  // 3. "Set r to hash."
  let r = leaf;
  // 4. "For each value p in the inclusion_path array:"
  for (const p of proof) {
    // a. "If sn is 0, then stop the iteration and fail the proof verification."
    if (sn === 0 || !isHash(p)) return false;
    // b. "If LSB(fn) is set, or if fn is equal to sn, then:"
    if (fn % 2 === 1 || fn === sn) {
      // 1. "Set r to HASH(0x01 || p || r)."
      r = nodeHash(p, r);
      // 2. "If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn)
      //    is set or fn is 0."
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      // "Otherwise: Set r to HASH(0x01 || r || p)."
      r = nodeHash(r, p);
    }
    // c. "Finally, right-shift both fn and sn one time."
    fn = half(fn);
    sn = half(sn);
  }
  // 5. "If sn is equal to 0 and r and the root_hash are equal, then the log has proven the
  //    inclusion of hash. Otherwise, fail the proof verification."
  return sn === 0 && equalBytes(r, root);
}

/**
 * checkRecord for many proofs against one tree head, as a batched receipt carries them: the
 * proofs of neighbouring leaves share all but their first few steps, and those are not hashed
 * again. Each step of §2.1.3.2 depends only on (fn, sn, r) and the proof elements left, so once a
 * proof has verified, any later proof that reaches one of its states (fn, sn, r) with the same
 * elements left verifies too. Answers exactly what checkRecord answers.
 */
export class RecordChecker {
  readonly #t: number;
  readonly #root: Uint8Array;
  /** Per state `fn sn` of a verified proof: its r there, and the proof elements left after it. */
  readonly #verified = new Map<string, { r: Uint8Array; rest: ProofElements }>();

  constructor(t: number, root: Uint8Array) {
    checkSize(t, Number.MAX_SAFE_INTEGER, 'tree size');
    this.#t = t;
    this.#root = root;
  }

  /**
   * Whether `proof` proves `leaf` at `n`. Its elements may be given as lowercase hex, as a receipt
   * carries them: only those hashed are decoded, the rest compared as they are — once proofs
   * share their path, most elements of each are never decoded.
   */
  check(proof: ProofElements, n: number, leaf: Uint8Array): boolean {
    checkSize(n, Number.MAX_SAFE_INTEGER, 'leaf index');
    const t = this.#t;
    if (!isHash(this.#root) || !isHash(leaf) || n >= t) return false;
    let fn = n;
    let sn = t - 1;
    let r = leaf;
    // The states this proof passes through, to remember if it verifies.
    const states: { key: string; r: Uint8Array; at: number }[] = [];
    const verified = () => {
      for (const s of states) this.#verified.set(s.key, { r: s.r, rest: proof.slice(s.at) });
      return true;
    };
    for (let i = 0; i < proof.length; i++) {
      const p = hashOf(proof[i]);
      // The steps of checkRecord (RFC 9162 §2.1.3.2, 4a to 4c).
      if (sn === 0 || !isHash(p)) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else r = nodeHash(r, p);
      fn = half(fn);
      sn = half(sn);
      const key = `${fn} ${sn}`;
      const known = this.#verified.get(key);
      if (known && equalBytes(known.r, r) && sameHashes(known.rest, proof, i + 1))
        return verified();
      states.push({ key, r, at: i + 1 });
    }
    return sn === 0 && equalBytes(r, this.#root) && verified();
  }
}

/** A proof's hashes, as bytes or as lowercase hex (each 64 digits: 32 bytes). */
export type ProofElements = readonly Uint8Array[] | readonly string[];

function hashOf(element: Uint8Array | string | undefined): Uint8Array | undefined {
  if (typeof element !== 'string') return element;
  if (!HEX_HASH.test(element)) return undefined;
  const bytes = Buffer.from(element, 'hex');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, HASH_SIZE);
}

const HEX_HASH = /^[0-9a-f]{64}$/;

function sameHashes(a: ProofElements, b: ProofElements, from: number): boolean {
  if (a.length !== b.length - from) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Uint8Array | string;
    const y = b[from + i] as Uint8Array | string;
    if (typeof x === 'string' && typeof y === 'string') {
      if (x !== y) return false;
    } else if (!equalBytes(hashOf(x) ?? new Uint8Array(), hashOf(y) ?? new Uint8Array(1)))
      return false;
  }
  return true;
}

// RFC 9162 §2.1.4.2 (verifying consistency between two tree heads), step by step, for
// 0 < first < second. Equal sizes need an empty proof and equal roots; the empty tree, an empty
// proof and the empty-tree hash.
/**
 * Whether `proof` shows that the tree of size t with root `root` extends the tree of size n ≤ t
 * with root `oldRoot`. False on any mismatch, including n > t and hashes that are not 32 bytes;
 * throws only when t or n is not a non-negative safe integer.
 */
export function checkTree(
  proof: readonly Uint8Array[],
  t: number,
  root: Uint8Array,
  n: number,
  oldRoot: Uint8Array,
): boolean {
  checkSize(t, Number.MAX_SAFE_INTEGER, 'tree size');
  checkSize(n, Number.MAX_SAFE_INTEGER, 'old tree size');
  if (!isHash(root) || !isHash(oldRoot) || n > t) return false;
  if (n === 0) return proof.length === 0 && equalBytes(oldRoot, emptyTreeHash());
  if (n === t) return proof.length === 0 && equalBytes(oldRoot, root);
  // 1. "If consistency_path is an empty array, stop and fail the proof verification."
  if (proof.length === 0) return false;
  // 2. "If first is an exact power of 2, then prepend first_hash to the consistency_path array."
  const consistencyPath = isPowerOfTwo(n) ? [oldRoot, ...proof] : proof;
  // 3. "Set fn to first - 1 and sn to second - 1."
  let fn = n - 1;
  let sn = t - 1;
  // 4. "If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set."
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. "Set both fr and sr to the first value in the consistency_path array."
  const first = at(consistencyPath, 0);
  if (!isHash(first)) return false;
  let fr = first;
  let sr = first;
  // 6. "For each subsequent value c in the consistency_path array:"
  for (const c of consistencyPath.slice(1)) {
    // a. "If sn is 0, then stop the iteration and fail the proof verification."
    if (sn === 0 || !isHash(c)) return false;
    // b. "If LSB(fn) is set, or if fn is equal to sn, then:"
    if (fn % 2 === 1 || fn === sn) {
      // 1. "Set fr to HASH(0x01 || c || fr)." 2. "Set sr to HASH(0x01 || c || sr)."
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // 3. "If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn)
      //    is set or fn is 0."
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      // "Otherwise: Set sr to HASH(0x01 || sr || c)."
      sr = nodeHash(sr, c);
    }
    // c. "Finally, right-shift both fn and sn one time."
    fn = half(fn);
    sn = half(sn);
  }
  // 7. "verify that the fr calculated is equal to the first_hash supplied, that the sr calculated
  //    is equal to the second_hash supplied, and that sn is 0."
  return equalBytes(fr, oldRoot) && equalBytes(sr, root) && sn === 0;
}

/**
 * The right edge of a tree of n leaves: the hashes of its complete subtrees, one per set bit of n
 * (RFC 9162 §2.1.1's split taken repeatedly on the right). That is all an append reads, and the
 * root folds from it, so a log that keeps its edge appends and signs checkpoints without reading
 * stored hashes back. Loading it takes one read of at most log₂ n + 1 hashes.
 *
 * @example
 * const edge = await TreeEdge.load(store.size, store);
 * const hashes = edge.append(utf8('next entry')); // to store from storedHashIndex(0, old size)
 * const root = edge.root();
 */
export class TreeEdge {
  /** By level: the hash of the complete subtree of 2^level leaves on the edge, if bit `level` of the size is set. */
  readonly #levels: (Uint8Array | undefined)[];
  #size: number;

  private constructor(size: number, levels: (Uint8Array | undefined)[]) {
    this.#size = size;
    this.#levels = levels;
  }

  /** The edge of the stored tree of n leaves, read in one call. */
  static async load(n: number, reader: HashReader): Promise<TreeEdge> {
    checkSize(n, MAX_TREE_SIZE, 'tree size');
    const indexes = n === 0 ? [] : subtreeIndexes(0, n, []);
    const hashes = indexes.length ? checkRead(indexes, await reader.readHashes(indexes)) : [];
    // subtreeIndexes lists the subtrees left to right: largest (highest set bit) first.
    const levels: (Uint8Array | undefined)[] = [];
    let k = 0;
    for (let level = 52; level >= 0; level--)
      if (Math.floor(n / 2 ** level) % 2 === 1) levels[level] = at(hashes, k++);
    return new TreeEdge(n, levels);
  }

  get size(): number {
    return this.#size;
  }

  /** An independent copy, to append to without changing this one. */
  clone(): TreeEdge {
    return new TreeEdge(this.#size, [...this.#levels]);
  }

  /**
   * Appends leaf n = size with `data`; answers what storedHashes(n, data) would: the hashes to
   * store from storedHashIndex(0, n) on, the leaf hash first.
   */
  append(data: Uint8Array): Uint8Array[] {
    checkSize(this.#size, MAX_TREE_SIZE - 1, 'leaf index');
    let hash = leafHash(data);
    const out = [hash];
    let level = 0;
    // Each trailing one bit of n completes a subtree with the stored sibling on its left.
    for (let rest = this.#size; rest % 2 === 1; rest = half(rest), level++) {
      hash = nodeHash(this.#levels[level] as Uint8Array, hash);
      this.#levels[level] = undefined;
      out.push(hash);
    }
    this.#levels[level] = hash;
    this.#size++;
    return out;
  }

  /** MTH(D[size]): the subtrees folded from the right, as treeHash does from stored hashes. */
  root(): Uint8Array {
    let root: Uint8Array | undefined;
    for (const hash of this.#levels) if (hash) root = root ? nodeHash(hash, root) : hash;
    return root ?? emptyTreeHash();
  }
}

/**
 * A tree kept in memory as its stored hashes: for tests and the offline verifier.
 *
 * @example
 * const store = new MemoryHashStore();
 * store.append(utf8('first entry'));
 * const root = treeHashSync(store.size, store);
 */
export class MemoryHashStore implements SyncHashReader {
  // Hashes are packed into pages of PAGE_HASHES × 32 bytes rather than kept as one small array
  // each: a tree stores about 2n hashes, and millions of tiny buffers cost several times the
  // 64 bytes per leaf they carry, in memory and in garbage-collection time.
  readonly #pages: Uint8Array[] = [];
  #count = 0;
  #size = 0;

  /** The number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /** Appends a leaf and its completed subtree hashes; answers the leaf's index. */
  append(data: Uint8Array): number {
    return this.appendLeafHash(leafHash(data));
  }

  /** The same, given the leaf's hash (`leafHash(data)`, computed elsewhere: on another thread). */
  appendLeafHash(leaf: Uint8Array): number {
    const index = this.#size;
    checkSize(index, MAX_TREE_SIZE - 1, 'leaf index');
    if (!isHash(leaf)) throw new RangeError('a leaf hash is 32 bytes');
    // What storedHashes computes, read straight from the pages: the leaf hash, then for each
    // trailing one bit of the index the subtree it completes, merged with its stored left sibling.
    let hash = leaf;
    this.#push(hash);
    for (let level = 0, n = index; n % 2 === 1; level++, n = half(n)) {
      hash = nodeHash(this.#at(indexOf(level, n - 1)), hash);
      this.#push(hash);
    }
    this.#size = index + 1;
    return index;
  }

  /** Copies of the stored hashes at `indexes`; throws on an index not yet stored. */
  readHashes(indexes: readonly number[]): Uint8Array[] {
    return indexes.map((index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index >= this.#count) {
        throw new RangeError(`no stored hash at index ${index}`);
      }
      return this.#at(index).slice();
    });
  }

  /** The stored hash at `index`, as a view into its page. */
  #at(index: number): Uint8Array {
    const page = this.#pages[Math.floor(index / PAGE_HASHES)] as Uint8Array;
    const at = (index % PAGE_HASHES) * HASH_SIZE;
    return page.subarray(at, at + HASH_SIZE);
  }

  #push(hash: Uint8Array): void {
    const slot = this.#count % PAGE_HASHES;
    const last = this.#pages.length - 1;
    let page = slot === 0 ? undefined : this.#pages[last];
    if (!page) {
      // The first page starts small and doubles, so a small tree does not cost a whole page.
      page = new Uint8Array((last < 0 ? FIRST_PAGE_HASHES : PAGE_HASHES) * HASH_SIZE);
      this.#pages.push(page);
    } else if (page.length === slot * HASH_SIZE) {
      const bigger = new Uint8Array(Math.min(PAGE_HASHES, 2 * slot) * HASH_SIZE);
      bigger.set(page);
      page = bigger;
      this.#pages[last] = page;
    }
    page.set(hash, slot * HASH_SIZE);
    this.#count++;
  }
}

/** Hashes per page of a MemoryHashStore: pages of 1 MiB. */
const PAGE_HASHES = 2 ** 15;
const FIRST_PAGE_HASHES = 64;

interface ReadPlan<T> {
  readonly indexes: readonly number[];
  finish(hashes: Uint8Array[]): T;
}

async function run<T>(plan: ReadPlan<T>, reader: HashReader): Promise<T> {
  const hashes = plan.indexes.length === 0 ? [] : await reader.readHashes(plan.indexes);
  return plan.finish(checkRead(plan.indexes, hashes));
}

function runSync<T>(plan: ReadPlan<T>, reader: SyncHashReader): T {
  const hashes = plan.indexes.length === 0 ? [] : reader.readHashes(plan.indexes);
  if (!Array.isArray(hashes)) throw new TypeError('hash reader is async: use the async function');
  return plan.finish(checkRead(plan.indexes, hashes));
}

function checkRead(indexes: readonly number[], hashes: Uint8Array[]): Uint8Array[] {
  if (hashes.length !== indexes.length) {
    throw new Error(`hash reader returned ${hashes.length} hashes for ${indexes.length} indexes`);
  }
  if (!hashes.every(isHash)) throw new Error('hash reader returned a hash that is not 32 bytes');
  return hashes;
}

/** Hands out the hashes of one read in the order their indexes were requested. */
class Queue {
  readonly #hashes: readonly Uint8Array[];
  #next = 0;

  constructor(hashes: readonly Uint8Array[]) {
    this.#hashes = hashes;
  }

  take(): Uint8Array {
    return at(this.#hashes, this.#next++);
  }
}

function checkSize(value: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} out of range`);
  }
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest % 2 === 0) rest /= 2;
  return rest === 1;
}

// Bit shifts would truncate to 32 bits; tree sizes go to 2^53.
function half(n: number): number {
  return Math.floor(n / 2);
}

/** The largest power of two k ≤ n (n ≥ 1), with log₂ k. */
function largestPowerOfTwoAtMost(n: number): [number, number] {
  let k = 1;
  let level = 0;
  while (k * 2 <= n) {
    k *= 2;
    level++;
  }
  return [k, level];
}

/** RFC 9162's k for a split: the largest power of two smaller than n (n ≥ 2). */
function largestPowerOfTwoBelow(n: number): number {
  return largestPowerOfTwoAtMost(n - 1)[0];
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error('merkle: index math out of step with the read');
  return item;
}
