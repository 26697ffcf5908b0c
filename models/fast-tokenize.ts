// A faster path through the model's own tokenizer. The tokenizers.js pipeline (normaliser →
// pre-tokeniser → subword model → post-processor) is kept, its components are the tokenizer's
// own, but the subword model runs once per distinct word (news text is Zipfian: most words
// repeat) and the tensors are filled directly instead of through arrays of BigInts.
// It only applies to tokenizers without a post-processor or added-token splitting in play, like
// the bundled static models; other tokenizers go through the library's regular call.
import { type PreTrainedTokenizer, Tensor } from '@huggingface/transformers';

/** The parts of the inner tokenizers.js Tokenizer used here (not in the public typings). */
interface InnerTokenizer {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options?: object) => string[]) | null;
  model: ((tokens: string[]) => string[]) & { tokens_to_ids: Map<string, number>; unk_token_id?: number };
  post_processor: unknown;
  added_tokens: { content: string }[];
  encode(text: string, opts: { add_special_tokens: boolean }): { ids: number[] };
}

export interface Encoded {
  inputIds: Tensor;
  attentionMask: Tensor;
  lengths: number[];
}

const MAX_CACHED_WORDS = 500_000;

export class CachedTokenizer {
  private readonly cache = new Map<string, Int32Array>();
  private readonly added: string[];

  private constructor(private readonly inner: InnerTokenizer) {
    this.added = inner.added_tokens.map((t) => t.content).filter((c) => c.length > 0);
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
    const { normalizer, pre_tokenizer, model } = this.inner;
    const normalized = normalizer ? normalizer(text) : text;
    const words = pre_tokenizer ? pre_tokenizer(normalized) : [normalized];
    const out: number[] = [];
    for (const word of words) {
      let ids = this.cache.get(word);
      if (!ids) {
        const pieces = model([word]);
        ids = Int32Array.from(pieces, (p) => model.tokens_to_ids.get(p) ?? model.unk_token_id ?? 0);
        if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) {
        if (out.length >= maxLength) return out;
        out.push(id);
      }
    }
    return out;
  }

  /** A padded batch: int64 input_ids and attention_mask tensors, as the library's call returns. */
  encode(texts: string[], maxLength: number, padId: number): Encoded {
    const rows = texts.map((t) => this.ids(t, maxLength));
    const seq = Math.max(1, ...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * seq).fill(BigInt(padId));
    const mask = new BigInt64Array(rows.length * seq);
    rows.forEach((r, b) => {
      for (let s = 0; s < r.length; s++) {
        ids[b * seq + s] = BigInt(r[s]!);
        mask[b * seq + s] = 1n;
      }
    });
    return {
      inputIds: new Tensor('int64', ids, [rows.length, seq]),
      attentionMask: new Tensor('int64', mask, [rows.length, seq]),
      lengths: rows.map((r) => r.length),
    };
  }
}
