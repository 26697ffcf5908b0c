// Training-side tokenisation that is identical to what the exported tokenizer.json does at
// inference time in @huggingface/tokenizers (used by transformers.js): the normaliser and the
// pre-tokeniser are the library's own classes, and WordPiece is the same greedy longest-match
// algorithm (checked against AutoTokenizer by scripts/model/check-tokenizer.ts).
import * as hfTokenizers from '@huggingface/tokenizers';

// The classes are exported at runtime but not declared in the package's types.
type Ctor = new (config?: unknown) => unknown;
const { BertNormalizer, BertPreTokenizer } = hfTokenizers as unknown as { BertNormalizer: Ctor; BertPreTokenizer: Ctor };

const normalizer = new BertNormalizer({
  type: 'BertNormalizer',
  clean_text: true,
  handle_chinese_chars: true,
  strip_accents: false,
  lowercase: true,
});
const preTokenizer = new BertPreTokenizer();

/** Normalised, pre-tokenised words of a text (what WordPiece sees). */
export function words(text: string): string[] {
  const norm = (normalizer as unknown as { normalize(t: string): string }).normalize(text);
  return (preTokenizer as unknown as { pre_tokenize_text(t: string, o?: unknown): string[] }).pre_tokenize_text(norm) ?? [];
}

export const MAX_CHARS_PER_WORD = 100;

export class WordPieceEncoder {
  readonly ids = new Map<string, number>();
  private readonly cache = new Map<string, Int32Array>();
  readonly unkId: number;

  constructor(readonly vocab: string[]) {
    vocab.forEach((t, i) => this.ids.set(t, i));
    const unk = this.ids.get('[UNK]');
    if (unk === undefined) throw new Error('vocab lacks [UNK]');
    this.unkId = unk;
  }

  /** WordPiece ids of one pre-tokenised word (same algorithm as @huggingface/tokenizers WordPiece.encode). */
  encodeWord(word: string): Int32Array {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = [...word];
    let out: number[];
    if (chars.length > MAX_CHARS_PER_WORD) out = [this.unkId];
    else {
      out = [];
      let start = 0;
      let unknown = false;
      while (start < chars.length) {
        let end = chars.length;
        let found = -1;
        while (start < end) {
          let sub = chars.slice(start, end).join('');
          if (start > 0) sub = `##${sub}`;
          const id = this.ids.get(sub);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          unknown = true;
          break;
        }
        out.push(found);
        start = end;
      }
      if (unknown) out = [this.unkId];
    }
    const arr = Int32Array.from(out);
    if (this.cache.size < 3_000_000) this.cache.set(word, arr);
    return arr;
  }

  encodeWords(ws: string[]): Int32Array {
    const parts: Int32Array[] = [];
    let n = 0;
    for (const w of ws) {
      const p = this.encodeWord(w);
      parts.push(p);
      n += p.length;
    }
    const out = new Int32Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  encode(text: string): Int32Array {
    return this.encodeWords(words(text));
  }
}
