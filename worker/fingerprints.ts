// Cheap lexical fingerprints that back up the embedding: a hash per window (exact paragraph
// reuse, boilerplate), a MinHash signature over word shingles (near-verbatim copies in one
// language) and anchors (numbers) that survive translation.

import { createHash } from 'node:crypto';

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const CJK_CHAR = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;

/** Lower-cased words; runs of CJK characters become one token per character. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const w of text.normalize('NFKC').toLowerCase().match(WORD) ?? []) {
    if (CJK_CHAR.test(w)) out.push(...w);
    else out.push(w);
  }
  return out;
}

/** Fingerprint of a window's words, blind to case, punctuation and spacing. */
export function windowHash(text: string): string {
  return createHash('sha1').update(words(text).join(' ')).digest('hex').slice(0, 16);
}

/** 32-bit FNV-1a of words[from..to) joined by single spaces, without building the joined string. */
function fnv1aWords(words: readonly string[], from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) {
    if (k > from) h = Math.imul(h ^ 0x20, 0x01000193);
    const w = words[k]!;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/** A strong 32-bit mixer (murmur3 finaliser), used to derive independent hash functions. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export const MINHASH_SIZE = 64;
const SEEDS = Array.from({ length: MINHASH_SIZE }, (_, i) => mix(0x9e3779b9 + i * 0x632be5ab));
const SHINGLE = 4;

/**
 * MinHash of the set of overlapping 4-word shingles (shorter texts: the whole text as one shingle).
 * Each shingle is hashed once, then each signature slot scans the hashes: the inner loop is the
 * mixer alone (this halved the time of the shingle-by-shingle loop over joined strings, same values).
 */
export function minhash(text: string): Uint32Array {
  const w = words(text);
  const n = Math.max(1, w.length - SHINGLE + 1);
  const shingles = new Uint32Array(n);
  for (let i = 0; i < n; i++) shingles[i] = fnv1aWords(w, i, Math.min(w.length, i + SHINGLE));
  const sig = new Uint32Array(MINHASH_SIZE);
  for (let k = 0; k < MINHASH_SIZE; k++) {
    const seed = SEEDS[k]!;
    let min = 0xffffffff;
    for (let i = 0; i < n; i++) {
      const v = mix(shingles[i]! ^ seed);
      if (v < min) min = v;
    }
    sig[k] = min;
  }
  return sig;
}

/** Estimated Jaccard similarity of the two shingle sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < MINHASH_SIZE; k++) if (a[k] === b[k]) same++;
  return same / MINHASH_SIZE;
}

/**
 * Fewest signature slots two texts must share before `contained` says anything: with 64 slots, a
 * short text and a long one share few by chance, and one or two shared would read as all.
 */
const CONTAINED_MIN_SAME = 8;

/**
 * Estimated share of `a`'s shingles that `b` has too. In each slot the smaller value is the
 * minimum over both texts' shingles: equal values when that shingle is in both, `a` below `b` when
 * it is `a`'s alone; so among the slots where `a` is not above `b`, the equal ones estimate
 * |a ∩ b| / |a|. A lead-only cut of a story is contained in the story (near 1) where its Jaccard
 * is only its share of the story's length. 0 when fewer than CONTAINED_MIN_SAME slots agree.
 */
export function contained(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  let own = 0;
  for (let k = 0; k < MINHASH_SIZE; k++) {
    if (a[k] === b[k]) same++;
    else if (a[k]! < b[k]!) own++;
  }
  return same < CONTAINED_MIN_SAME ? 0 : same / (same + own);
}

/**
 * Numbers written in the text, with thousands separators and decimal marks removed, so "1,000",
 * "1 000" and "1.000" agree across languages. Single digits are too common to be evidence.
 */
export function anchors(text: string): string[] {
  const found = new Set<string>();
  // Digit groups joined by one thousands separator, then an optional decimal part: "2023, 1 250,50" is 2023 and 1250.50.
  for (const m of text.normalize('NFKC').matchAll(/\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?/g)) {
    const digits = m[0].replace(/\D/g, '').replace(/^0+(?=\d)/, '');
    if (digits.length >= 2) found.add(digits);
  }
  return [...found].sort();
}

/** Share of the smaller anchor set found in the other; undefined when either side has none. */
export function anchorOverlap(a: readonly string[], b: readonly string[]): number | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  const set = new Set(a);
  let shared = 0;
  for (const x of b) if (set.has(x)) shared++;
  return shared / Math.min(a.length, b.length);
}
