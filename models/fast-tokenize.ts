// A faster path through the model's own tokenizer. The tokenizers.js pipeline (normaliser →
// pre-tokeniser → subword model → post-processor) is kept, its components are the tokenizer's
// own, but it runs once per distinct space-separated chunk of text and the subword model once per
// distinct word (news text is Zipfian: most words repeat), and the tensors are filled directly
// instead of through arrays of BigInts. Chunking is used only when the tokenizer's own components
// treat ASCII spaces and line breaks as pure separators (probed at construction), so that
// tokenizing chunk by chunk gives the ids of the whole text.
// It only applies to tokenizers without a post-processor or added-token splitting in play, like
// the bundled static models; other tokenizers go through the library's regular call.
import { type PreTrainedTokenizer, Tensor } from '@huggingface/transformers';

/** The parts of the inner tokenizers.js Tokenizer used here (not in the public typings). */
interface InnerTokenizer {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options?: object) => string[]) | null;
  model: ((tokens: string[]) => string[]) & {
    tokens_to_ids: Map<string, number>;
    unk_token_id?: number;
    fuse_unk?: boolean;
    config?: { type?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
  };
  post_processor: unknown;
  added_tokens: { content: string }[];
  encode(text: string, opts: { add_special_tokens: boolean }): { ids: number[] };
}

export interface Encoded {
  inputIds: Tensor;
  attentionMask: Tensor;
  lengths: number[];
}

const MAX_CACHED = 500_000;

export class CachedTokenizer {
  private readonly words = new Map<string, readonly number[]>();
  private readonly chunks = new Map<string, readonly number[]>();
  private readonly added: string[];
  /** Whether text is tokenized chunk by chunk (see separatesOnSpaces). */
  readonly chunked: boolean;
  private readonly wordPiece: WordPiece | undefined;
  /** The id of the unknown token, when the vocabulary has one. */
  readonly unknownId: number | undefined;

  private constructor(private readonly inner: InnerTokenizer) {
    this.unknownId = inner.model.unk_token_id;
    this.added = inner.added_tokens.map((t) => t.content).filter((c) => c.length > 0);
    this.chunked = separatesOnSpaces(inner);
    this.wordPiece = WordPiece.of(inner.model);
  }

  /** Returns a fast path for `tokenizer` when its pipeline allows one, else undefined. */
  static for(tokenizer: PreTrainedTokenizer): CachedTokenizer | undefined {
    const inner = (tokenizer as unknown as { _tokenizer?: InnerTokenizer })._tokenizer;
    if (!inner || inner.post_processor || typeof inner.model !== 'function' || !inner.model.tokens_to_ids) return undefined;
    return new CachedTokenizer(inner);
  }

  /** Token ids of one text, truncated to `maxLength`. */
  ids(text: string, maxLength: number): number[] {
    // Text that spells out a special token ("[SEP]") takes the library's full path, which splits those first.
    if (this.added.some((a) => text.includes(a))) return this.inner.encode(text, { add_special_tokens: false }).ids.slice(0, maxLength);
    if (!this.chunked) return this.encodeText(text, maxLength);
    const out: number[] = [];
    let start = 0;
    // A scan by hand: matchAll's match objects cost more than the cache lookups they feed.
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 32;
      if (c !== 32 && c !== 10 && c !== 9 && c !== 13) continue;
      if (i > start) {
        const chunk = text.slice(start, i);
        let ids = this.chunks.get(chunk);
        if (!ids) {
          ids = this.encodeText(chunk, Infinity);
          if (this.chunks.size >= MAX_CACHED) this.chunks.clear();
          this.chunks.set(chunk, ids);
        }
        for (let k = 0; k < ids.length; k++) {
          if (out.length >= maxLength) return out;
          out.push(ids[k]!);
        }
      }
      start = i + 1;
    }
    return out;
  }

  /** The tokenizer's normaliser and pre-tokeniser over the text, then the subword model per distinct word. */
  private encodeText(text: string, maxLength: number): number[] {
    const { normalizer, pre_tokenizer, model } = this.inner;
    const normalized = normalizer ? normalizer(text) : text;
    const words = pre_tokenizer ? pre_tokenizer(normalized) : [normalized];
    const out: number[] = [];
    for (const word of words) {
      let ids = this.words.get(word);
      if (!ids) {
        ids = this.wordPiece ? this.wordPiece.ids(word) : model([word]).map((p) => model.tokens_to_ids.get(p) ?? model.unk_token_id ?? 0);
        if (this.words.size >= MAX_CACHED) this.words.clear();
        this.words.set(word, ids);
      }
      for (const id of ids) {
        if (out.length >= maxLength) return out;
        out.push(id);
      }
    }
    return out;
  }
}

/**
 * WordPiece's greedy longest-match-first, as the library's WordPieceTokenizer.encode does it, but
 * on code-point offsets into the word instead of joining a character array for every attempt, and
 * never trying a piece longer than the longest vocabulary entry of its kind (word-initial or
 * continuing: the bundled vocabulary's are 23 and 6 characters), with plain UTF-16 offsets for
 * words without astral characters: 3.9 → 1.6 µs a word over the 42,902 distinct words of dev.jsonl
 * (2.4 with one bound for both kinds and offsets built for every word). New words are most of the
 * cost of text the caches have not seen (a fresh process, a cron run).
 */
class WordPiece {
  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly prefix: string,
    private readonly maxChars: number,
    private readonly longestInitial: number,
    private readonly longestContinuing: number,
    private readonly unk: number,
  ) {}

  static of(model: InnerTokenizer['model']): WordPiece | undefined {
    const c = model.config;
    if (c?.type !== 'WordPiece' || model.fuse_unk || model.unk_token_id === undefined) return undefined;
    const prefix = c.continuing_subword_prefix ?? '##';
    let initial = 0;
    let continuing = 0;
    for (const token of model.tokens_to_ids.keys()) {
      // A token spelled with the prefix may also be a word-initial piece ("##" itself, say): it bounds both.
      initial = Math.max(initial, [...token].length);
      if (token.startsWith(prefix)) continuing = Math.max(continuing, [...token.slice(prefix.length)].length);
    }
    return new WordPiece(model.tokens_to_ids, prefix, c.max_input_chars_per_word ?? 100, initial, continuing, model.unk_token_id);
  }

  ids(word: string): number[] {
    // Code-point offsets are needed only past the Basic Multilingual Plane (two UTF-16 units a character).
    const at = /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(word) ? codePointOffsets(word) : undefined;
    const n = at ? at.length - 1 : word.length;
    if (n > this.maxChars) return [this.unk];
    const out: number[] = [];
    for (let start = 0; start < n; ) {
      let end = Math.min(n, start + (start > 0 ? this.longestContinuing : this.longestInitial));
      let id: number | undefined;
      for (; end > start; end--) {
        const piece = at ? word.slice(at[start], at[end]) : word.slice(start, end);
        id = this.vocab.get(start > 0 ? this.prefix + piece : piece);
        if (id !== undefined) break;
      }
      // A word with a part the vocabulary cannot spell is one unknown token, as in the library.
      if (id === undefined) return [this.unk];
      out.push(id);
      start = end;
    }
    return out;
  }
}

/** The UTF-16 offset of each code point of `word`, then its length. */
function codePointOffsets(word: string): number[] {
  const at: number[] = [];
  for (let i = 0; i < word.length; i += word.codePointAt(i)! > 0xffff ? 2 : 1) at.push(i);
  at.push(word.length);
  return at;
}

/** Padded int64 input_ids and attention_mask tensors for rows of token ids, as the library's call returns them. */
export function tensors(rows: readonly (readonly number[])[], padId: number): Encoded {
  let seq = 1;
  for (const r of rows) if (r.length > seq) seq = r.length;
  const ids = new BigInt64Array(rows.length * seq);
  const mask = new BigInt64Array(rows.length * seq);
  // Filled through 32-bit views (little-endian low words; ids are small and non-negative), so
  // no BigInt is created per token.
  const ids32 = new Int32Array(ids.buffer);
  const mask32 = new Int32Array(mask.buffer);
  for (let b = 0; b < rows.length; b++) {
    const r = rows[b]!;
    const row = 2 * b * seq;
    for (let s = 0; s < r.length; s++) {
      ids32[row + 2 * s] = r[s]!;
      mask32[row + 2 * s] = 1;
    }
    if (padId !== 0) for (let s = r.length; s < seq; s++) ids32[row + 2 * s] = padId;
  }
  return {
    inputIds: new Tensor('int64', ids, [rows.length, seq]),
    attentionMask: new Tensor('int64', mask, [rows.length, seq]),
    lengths: rows.map((r) => r.length),
  };
}

/**
 * Whether the normaliser leaves ASCII spaces and line breaks alone and the pre-tokeniser splits on
 * them without keeping them in any word (BERT-style splitting does; SentencePiece's "▁" does not).
 */
function separatesOnSpaces(inner: InnerTokenizer): boolean {
  const { normalizer, pre_tokenizer } = inner;
  if (!pre_tokenizer) return false;
  const seps = ' \t\n\r';
  if (normalizer && normalizer(`a${seps}b`) !== `a${seps}b`) return false;
  const words = pre_tokenizer(`ab cd\tef\ngh\rij  kl`);
  return words.join('|') === 'ab|cd|ef|gh|ij|kl';
}
