// Learns a multilingual WordPiece vocabulary from word counts per language:
// specials, every character seen (standalone and as a ## continuation), frequent whole words
// ranked by their relative frequency inside their language (so small languages get coverage),
// then frequent word-initial prefixes and ## continuation pieces so that unseen words (names,
// inflections) are spelled out by meaningful pieces rather than single characters or [UNK].

export const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export interface VocabOptions {
  size: number;
  /** Share of the non-character budget given to whole words (rest: prefixes and ## pieces). */
  wordShare: number;
  minWordCount: number;
  minCharCount: number;
}

const PUNCT = /^[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]$/u;
function isCjkIdeograph(c: string): boolean {
  const cp = c.charCodeAt(0);
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xf900 && cp <= 0xfaff);
}

/** counts: lang -> (word -> count). */
export function buildVocab(counts: Map<string, Map<string, number>>, opts: VocabOptions): string[] {
  const vocab: string[] = [...SPECIALS];
  const have = new Set(vocab);
  const add = (t: string) => {
    if (!have.has(t)) {
      have.add(t);
      vocab.push(t);
    }
  };
  const totals = new Map<string, number>();
  for (const [lang, m] of counts) {
    let t = 0;
    for (const c of m.values()) t += c;
    totals.set(lang, t);
  }
  // 1. characters
  const charCount = new Map<string, number>();
  for (const m of counts.values())
    for (const [w, c] of m) for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + c);
  const chars = [...charCount].filter(([, c]) => c >= opts.minCharCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [ch] of chars) {
    add(ch);
    if (!PUNCT.test(ch) && !isCjkIdeograph(ch)) add(`##${ch}`);
  }
  const budget = opts.size - vocab.length;
  const wordBudget = Math.floor(budget * opts.wordShare);
  // 2. whole words by relative frequency within their language (max over languages)
  const score = new Map<string, number>();
  for (const [lang, m] of counts) {
    const tot = totals.get(lang)!;
    for (const [w, c] of m) {
      if (c < opts.minWordCount || [...w].length > 100) continue;
      const s = c / tot;
      if (s > (score.get(w) ?? 0)) score.set(w, s);
    }
  }
  const ranked = [...score].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  let added = 0;
  for (const [w] of ranked) {
    if (added >= wordBudget) break;
    if (!have.has(w)) {
      add(w);
      added++;
    }
  }
  // 3. prefixes (2..10 chars) and ## pieces (2..6 chars, any non-initial position), scored like words
  const pieceScore = new Map<string, number>();
  for (const [lang, m] of counts) {
    const tot = totals.get(lang)!;
    const local = new Map<string, number>();
    for (const [w, c] of m) {
      if (c < 2) continue;
      const cs = [...w];
      if (cs.length < 3 || cs.length > 40) continue;
      if (isCjkIdeograph(cs[0]!)) continue;
      for (let l = 2; l <= Math.min(10, cs.length - 1); l++) {
        const p = cs.slice(0, l).join('');
        local.set(p, (local.get(p) ?? 0) + c);
      }
      for (let s = 1; s < cs.length; s++)
        for (let l = 2; l <= 6 && s + l <= cs.length; l++) {
          const p = `##${cs.slice(s, s + l).join('')}`;
          local.set(p, (local.get(p) ?? 0) + c);
        }
    }
    for (const [p, c] of local) {
      const s = c / tot;
      if (s > (pieceScore.get(p) ?? 0)) pieceScore.set(p, s);
    }
  }
  const pieces = [...pieceScore].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [p] of pieces) {
    if (vocab.length >= opts.size) break;
    add(p);
  }
  // fill any remaining room with further words
  for (const [w] of ranked) {
    if (vocab.length >= opts.size) break;
    add(w);
  }
  return vocab;
}
