// The embedder: loads any feature-extraction model in transformers.js layout (a local folder or a
// hub id) and turns articles into one document vector plus one vector per window (title,
// paragraphs, or pieces of over-long paragraphs), all L2-normalised.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AutoModel, AutoTokenizer, env, ModelRegistry, type PreTrainedModel, type PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { ModelLoadError } from '../worker/errors.ts';
import { cosine } from '../worker/passages.ts';
import { CachedTokenizer, tensors } from './fast-tokenize.ts';
import { folderModelName } from './shipped-thresholds.ts';

export interface EmbedderOptions {
  /** Local folder in transformers.js layout. Takes precedence over `model`. */
  modelDir?: string;
  /** Hub id (e.g. Xenova/multilingual-e5-small), resolved through the transformers.js cache. */
  model?: string;
  /** Which ONNX file: fp32 → onnx/model.onnx, q8 → onnx/model_quantized.onnx. Default: the model's own choice. */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
  /** Folder where hub downloads are cached. */
  cacheDir?: string;
  /** Allow downloads from the hub (off: everything must be on disk). */
  allowRemote?: boolean;
  /** Upper bound on padded tokens per ONNX run, to keep memory flat whatever the batch. */
  maxTokensPerRun?: number;
  /** onnxruntime threads for this model; default: the model's `onnx_threads` (newsdedup.json), else the runtime's own choice (all cores). */
  onnxThreads?: number;
}

export interface DocumentInput {
  title?: string;
  text: string;
  lang?: string;
}

export interface WindowEmbedding {
  /** Character offsets into `documentText(doc)`. */
  start: number;
  end: number;
  tokens: number;
  vector: Float32Array;
}

export interface DocumentEmbedding {
  vector: Float32Array;
  windows: WindowEmbedding[];
  tokens: number;
  /** How the model reads the document (see Reading). */
  reading: Reading;
}

/**
 * How a model reads a document. `native`: in one of its languages (or, for a model without
 * language means such as a hub model, in any language it is given). `near`: in a language it does
 * not know, through the model language the text lies nearest (Catalan as Spanish, Bulgarian as
 * Russian): against a document it reads natively that works, but two such documents keep the
 * traits of their own language, which the model cannot take out, and unrelated ones look alike
 * (scripts/probe/message-docs.ts: 35 of 60 matches between two such documents were wrong, scored
 * up to 0.92). `none`: the vectors say nothing of the content (MAX_UNKNOWN_SHARE, MIN_LANGUAGE_FIT).
 */
export type Reading = 'native' | 'near' | 'none';

/**
 * Above this share of unknown tokens the model cannot read a document: a script outside its
 * vocabulary (Korean, Hebrew, Thai, Georgian: 53-100% of their tokens) or text of emoji and
 * symbols. Its 20 languages have 0.03% in training text.
 */
const MAX_UNKNOWN_SHARE = 0.3;

/**
 * A document in a language the model has no directions for is read at all only when its raw vector
 * lies this close (cosine) to one of the model's language means: Hausa, which the language
 * detector names Tagalog or Malay, 0.90-0.97 to the Hausa mean over FLORES documents; Bulgarian
 * 0.65 to Russian's. Greek, Vietnamese, Swedish and Indonesian news reached 0.12-0.45: their
 * words reach the model as letters and scraps, and unrelated articles of such a language scored
 * 0.97-0.99 with each other. The model's own languages' dev articles lie at 0.44-0.99 (median
 * 0.70-0.90); they are not tested against it.
 */
const MIN_LANGUAGE_FIT = 0.5;

/**
 * From this fit a document in a language without directions is read natively, as the model
 * language it lies nearest: Hausa, named Tagalog or Malay by the detector, lies at 0.90-0.97 to
 * the Hausa mean; close relatives of the model's languages lie at a median of 0.55-0.77 per language
 * (Catalan, Danish, Serbian, Slovak, Bulgarian in scripts/probe/message-docs.ts) and are read `near`.
 */
const NATIVE_FIT = 0.85;

/** Model-specific settings read from the model folder (newsdedup.json, sentence-transformers files). */
interface ModelSettings {
  dtype?: EmbedderOptions['dtype'];
  /**
   * onnxruntime threads the model is best run with. A static model's graph is a gather and a mean:
   * more threads add nothing to one call, and the idle pool spins on the cores the rest of the
   * process needs.
   */
  onnxThreads?: number;
  windowTokens: number;
  prompt: string;
  pooling: 'mean' | 'cls';
  languageMeans: Map<string, Float32Array>;
  /**
   * How a language's mean leaves a vector: `subtract` it, or `project` out its direction and the
   * language's further directions (`language_directions`, scripts/model/language-directions.ts).
   * A small language's mean is large and its size varies with the text's style (its frequent
   * words are rare in the training mix, so they weigh a lot), and subtracting a fixed mean then
   * leaves every document of that language pointing the same way.
   */
  centering: 'subtract' | 'project';
  /** For `project`: an orthonormal basis per language, the mean's direction first. */
  languageBases: Map<string, Float32Array[]>;
  thresholds: Record<string, unknown>;
}

/** The onnxruntime session transformers.js keeps per model (not in its public typings). */
interface OrtSession {
  inputNames: string[];
  outputNames: string[];
  run(feeds: Record<string, unknown>, fetches: string[]): Promise<Record<string, { data: unknown; dims: number[] }>>;
}

/** The text the windows' offsets refer to: title, a blank line, then the body. */
export function documentText(doc: Pick<DocumentInput, 'title' | 'text'>): string {
  const title = doc.title?.trim();
  return title ? `${title}\n\n${doc.text}` : doc.text;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/g;

/** A pooled window: its vector, its token count and how many of those are the unknown token. */
interface Pooled {
  vector: Float32Array;
  tokens: number;
  unknown: number;
}

function occurrences(ids: readonly number[], id: number | undefined): number {
  let n = 0;
  if (id !== undefined) for (const x of ids) if (x === id) n++;
  return n;
}

/**
 * Splits a document into windows on paragraph boundaries. Paragraphs shorter than `minChars` are
 * merged into the next one (a lone "Read more" makes a poor passage); paragraphs longer than
 * `maxChars` are cut at sentence ends, so each window fits the model's length.
 */
export function splitWindows(text: string, maxChars: number, minChars = 80): { start: number; end: number }[] {
  const paragraphs: { start: number; end: number }[] = [];
  const re = /[^\n]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const lead = m[0].length - m[0].trimStart().length;
    const body = m[0].trim();
    if (body) paragraphs.push({ start: m.index + lead, end: m.index + lead + body.length });
  }
  const pieces: { start: number; end: number }[] = [];
  for (const p of paragraphs) {
    let start = p.start;
    while (p.end - start > maxChars) {
      const slice = text.slice(start, start + maxChars);
      // Last sentence end inside the slice, else the last space, else a hard cut.
      let cut = Math.max(slice.lastIndexOf('. '), slice.lastIndexOf('。'), slice.lastIndexOf('! '), slice.lastIndexOf('? '));
      if (cut < maxChars / 3) cut = slice.lastIndexOf(' ');
      const end = cut < maxChars / 3 ? start + maxChars : start + cut + 1;
      pieces.push({ start, end });
      start = end;
      while (start < p.end && /\s/.test(text[start]!)) start++;
    }
    if (start < p.end) pieces.push({ start, end: p.end });
  }
  const windows: { start: number; end: number }[] = [];
  let open: { start: number; end: number } | undefined;
  for (const piece of pieces) {
    if (open && open.end - open.start < minChars && piece.end - open.start <= maxChars) {
      open.end = piece.end;
    } else {
      if (open) windows.push(open);
      open = { ...piece };
    }
  }
  if (open) windows.push(open);
  return windows;
}

function l2normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

/** Gram-Schmidt: the vectors made orthonormal in order (the first keeps its direction). */
function orthonormal(vectors: Float32Array[]): Float32Array[] {
  const basis: Float32Array[] = [];
  for (const v0 of vectors) {
    const v = Float32Array.from(v0);
    for (const u of basis) removeAlong(v, u);
    basis.push(l2normalize(v));
  }
  return basis;
}

/** v ← v − (v·u)u for a unit vector u. */
function removeAlong(v: Float32Array, u: Float32Array): void {
  let along = 0;
  for (let j = 0; j < v.length; j++) along += v[j]! * u[j]!;
  for (let j = 0; j < v.length; j++) v[j]! -= along * u[j]!;
}

type Dtype = NonNullable<EmbedderOptions['dtype']>;

/**
 * The ONNX file transformers.js loads for each dtype newsdedup accepts: `onnx/model<suffix>.onnx`
 * (its DEFAULT_DTYPE_SUFFIX_MAPPING, which the package does not export).
 */
const ONNX_FILES: Record<Dtype, string> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
  int8: 'onnx/model_int8.onnx',
  uint8: 'onnx/model_uint8.onnx',
  q4: 'onnx/model_q4.onnx',
};

/** The dtypes whose ONNX file a model folder has. */
function dtypesIn(dir: string): Dtype[] {
  const files = existsSync(join(dir, 'onnx')) ? new Set(readdirSync(join(dir, 'onnx')).map((f) => `onnx/${f}`)) : new Set<string>();
  return (Object.keys(ONNX_FILES) as Dtype[]).filter((d) => files.has(ONNX_FILES[d]));
}

/**
 * What to tell the user when transformers.js could not load a model, in place of its own words
 * where they mislead: a local folder without the dtype's file ("file was not found locally ... allow
 * remote models"), a hub id that is not in the cache while downloads are off ("Cannot read
 * properties of undefined (reading 'tokenizer_class')").
 */
async function loadFailure(err: unknown, m: { dir?: string; name: string; dtype: Dtype; allowRemote?: boolean; cacheDir?: string }): Promise<ModelLoadError> {
  if (m.dir && !existsSync(join(m.dir, ONNX_FILES[m.dtype]))) {
    const has = dtypesIn(m.dir);
    const listed = has.map((d) => `${d} (${ONNX_FILES[d]})`).join(', ');
    const choice = has.length === 0 ? 'it has no ONNX model file of a dtype newsdedup loads' : `it has ${listed}: pass --dtype ${has.length === 1 ? has[0] : 'with one of them'}`;
    return new ModelLoadError(`model folder ${m.dir} has no ${m.dtype} file (${ONNX_FILES[m.dtype]}); ${choice}`, m.dir, { cause: err });
  }
  if (!m.dir && !m.allowRemote) {
    const cached = await ModelRegistry.is_cached(m.name, { cache_dir: m.cacheDir, dtype: m.dtype }).catch(() => false);
    if (!cached) {
      return new ModelLoadError(
        `model ${m.name} (${m.dtype}) is not in the local model cache (${m.cacheDir ?? env.cacheDir}) and downloads are off: ` +
          'set NEWSDEDUP_ALLOW_REMOTE_MODELS=1 to download it, or pass --model-dir with a local folder of the model',
        m.name,
        { cause: err },
      );
    }
  }
  const hint = m.dir || m.allowRemote ? '' : ' (downloads are off: NEWSDEDUP_ALLOW_REMOTE_MODELS=1 allows them, or pass --model-dir with a local folder)';
  return new ModelLoadError(`cannot load model ${m.name}: ${(err as Error).message}${hint}`, m.name, { cause: err });
}

function readJson(path: string): Record<string, unknown> | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : undefined;
}

function onnxThreadsOf(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1) throw new ModelLoadError(`newsdedup.json: onnx_threads must be a whole number ≥ 1, not ${JSON.stringify(value)}`, where);
  return value as number;
}

function readSettings(dir: string | undefined, modelId: string): ModelSettings {
  const own = dir ? readJson(join(dir, 'newsdedup.json')) : undefined;
  const st = dir ? readJson(join(dir, 'config_sentence_transformers.json')) : undefined;
  const pooling = dir ? readJson(join(dir, '1_Pooling', 'config.json')) : undefined;
  const prompts = (st?.prompts ?? {}) as Record<string, string>;
  // e5 models are trained with "query: " / "passage: " prefixes; their authors recommend
  // "query: " on both sides for symmetric tasks such as bitext mining and dedup.
  const e5 = /(^|[/-])e5([-_/]|$)/i.test(modelId);
  const prompt = (own?.prompt as string | undefined) ?? prompts.query ?? (e5 ? 'query: ' : '');
  const languageMeans = new Map<string, Float32Array>();
  const meansFile = own?.language_means as string | undefined;
  if (dir && meansFile) {
    const means = JSON.parse(readFileSync(join(dir, meansFile), 'utf8')) as Record<string, number[]>;
    for (const [lang, v] of Object.entries(means)) languageMeans.set(lang, Float32Array.from(v));
  }
  const centering = (own?.centering as string | undefined) ?? 'subtract';
  if (centering !== 'subtract' && centering !== 'project') {
    throw new ModelLoadError(`newsdedup.json: centering must be "subtract" or "project", not ${JSON.stringify(centering)}`, dir ?? modelId);
  }
  const directionsFile = own?.language_directions as string | undefined;
  if (directionsFile && centering !== 'project') throw new ModelLoadError('newsdedup.json: language_directions needs centering "project"', dir ?? modelId);
  const directions = dir && directionsFile ? (JSON.parse(readFileSync(join(dir, directionsFile), 'utf8')) as Record<string, number[][]>) : {};
  const languageBases = new Map<string, Float32Array[]>();
  if (centering === 'project') {
    for (const [lang, mean] of languageMeans) languageBases.set(lang, orthonormal([mean, ...(directions[lang] ?? []).map((d) => Float32Array.from(d))]));
  }
  return {
    dtype: own?.dtype as ModelSettings['dtype'],
    onnxThreads: onnxThreadsOf(own?.onnx_threads, dir ?? modelId),
    windowTokens: (own?.window_tokens as number | undefined) ?? 256,
    prompt,
    pooling: pooling?.pooling_mode_cls_token ? 'cls' : 'mean',
    languageMeans,
    centering,
    languageBases,
    thresholds: (own?.thresholds ?? {}) as Record<string, unknown>,
  };
}

export class Embedder {
  /** Identity recorded in the database: the model's name plus the ONNX variant. */
  readonly id: string;
  readonly dim: number;
  readonly maxLength: number;
  private readonly maxTokensPerRun: number;
  private readonly fast: CachedTokenizer | undefined;

  /** Tokens per passage window (newsdedup.json's window_tokens, at most the model's input length). */
  get windowTokens(): number {
    return Math.min(this.settings.windowTokens, this.maxLength);
  }

  /** The settings besides the weights that shape stored vectors, recorded with the model in a database. */
  get vectorSettings(): string {
    const { languageMeans, centering, languageBases } = this.settings;
    const dims = Math.max(0, ...[...languageBases.values()].map((b) => b.length));
    // `nearest`: a document in a language without directions is centred as the nearest model language.
    return `windows=${this.windowTokens} centering=${languageMeans.size ? `${centering}${dims > 1 ? `-${dims}` : ''} unknown=nearest` : 'none'}`;
  }

  /** Decision thresholds calibrated for this model (newsdedup.json), if it ships any. */
  get recommendedThresholds(): Record<string, unknown> {
    return this.settings.thresholds;
  }

  private constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
    private readonly settings: ModelSettings,
    id: string,
    dim: number,
    maxTokensPerRun: number,
  ) {
    this.id = id;
    this.dim = dim;
    const configured = tokenizer.model_max_length;
    this.maxLength = Number.isFinite(configured) && configured > 0 && configured < 100_000 ? configured : 512;
    this.maxTokensPerRun = maxTokensPerRun;
    this.fast = CachedTokenizer.for(tokenizer);
  }

  static async load(opts: EmbedderOptions): Promise<Embedder> {
    const source = opts.modelDir ?? opts.model;
    if (!source) throw new ModelLoadError('no model given: set modelDir (--model-dir) or model (--model)', '');
    // transformers.js reads a string with a slash in it as a hub id, so a local folder must be absolute.
    const dir = opts.modelDir ? resolve(opts.modelDir) : undefined;
    if (dir && !existsSync(join(dir, 'config.json'))) {
      throw new ModelLoadError(`model folder ${dir} has no config.json (expected transformers.js layout)`, dir);
    }
    env.allowRemoteModels = opts.allowRemote ?? false;
    env.allowLocalModels = true;
    if (opts.cacheDir) env.cacheDir = opts.cacheDir;
    const name = dir ?? opts.model!;
    const modelName = dir ? folderModelName(dir) : opts.model!;
    const settings = readSettings(dir, modelName);
    const dtype = opts.dtype ?? settings.dtype ?? (dir && !existsSync(join(dir, 'onnx', 'model.onnx')) ? 'q8' : 'fp32');
    let tokenizer: PreTrainedTokenizer;
    let model: PreTrainedModel;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(name);
      const onnxThreads = opts.onnxThreads ?? settings.onnxThreads;
      const threads = onnxThreads ? { session_options: { intraOpNumThreads: onnxThreads, interOpNumThreads: 1 } } : {};
      model = await AutoModel.from_pretrained(name, { dtype, ...threads });
    } catch (err) {
      throw await loadFailure(err, { dir, name, dtype, allowRemote: opts.allowRemote, cacheDir: opts.cacheDir });
    }
    const probe = await new Embedder(tokenizer, model, settings, '', 0, opts.maxTokensPerRun ?? 16_384).embedTexts(['dimension probe']);
    const dim = probe[0]!.length;
    return new Embedder(tokenizer, model, settings, `${modelName}@${dtype}`, dim, opts.maxTokensPerRun ?? 16_384);
  }

  /** Embeds short texts as single windows (sentences, queries, passages). */
  async embedTexts(texts: string[], langs: (string | undefined)[] = []): Promise<Float32Array[]> {
    const pooled = await this.pooledInOrder(texts);
    return pooled.map((p, i) => this.finish(p.vector, langs[i]));
  }

  /** Embeds articles: windows over the document text, and a document vector built from all of them. */
  async embedDocuments(docs: DocumentInput[]): Promise<DocumentEmbedding[]> {
    const maxChars = this.windowChars();
    const layout = docs.map((doc) => {
      const text = documentText(doc);
      return { text, spans: splitWindows(text, maxChars(text)) };
    });
    const flat = layout.flatMap((l) => l.spans.map((s) => l.text.slice(s.start, s.end)));
    const pooled = await this.pooledInOrder(flat);
    let k = 0;
    return layout.map((l, d) => {
      const own = l.spans.map(() => pooled[k++]!);
      const sum = new Float64Array(this.dim);
      let tokens = 0;
      let unknown = 0;
      for (const p of own) {
        for (let j = 0; j < this.dim; j++) sum[j]! += p.vector[j]! * p.tokens;
        tokens += p.tokens;
        unknown += p.unknown;
      }
      const mean = new Float32Array(this.dim);
      for (let j = 0; j < this.dim; j++) mean[j] = tokens > 0 ? sum[j]! / tokens : 0;
      const { lang, fit } = this.centeringLanguage(mean, docs[d]!.lang);
      const reading: Reading = unknown > MAX_UNKNOWN_SHARE * tokens || fit < MIN_LANGUAGE_FIT ? 'none' : fit < NATIVE_FIT ? 'near' : 'native';
      const windows = l.spans.map((span, w) => ({ ...span, tokens: own[w]!.tokens, vector: this.finish(Float32Array.from(own[w]!.vector), lang) }));
      return { vector: this.finish(mean, lang), windows, tokens, reading };
    });
  }

  /**
   * The language whose directions are taken out of a document: its own when the model ships them,
   * else the model language whose mean the document's raw vector lies nearest. A detector that
   * does not know the language (eld names Hausa Tagalog or Malay) would otherwise leave the
   * vectors uncentred, and unrelated articles of that language then look alike (FLORES documents
   * with detected languages: pairwise precision 0.78 instead of 0.96, almost all of it Hausa).
   * `fit`: the cosine to that nearest mean (1 for a language of the model), see MIN_LANGUAGE_FIT.
   */
  private centeringLanguage(raw: Float32Array, lang: string | undefined): { lang: string | undefined; fit: number } {
    const means = this.settings.languageMeans;
    // A model without language means (a hub model) is taken to read every language it is given.
    if (means.size === 0 || (lang !== undefined && means.has(lang))) return { lang, fit: 1 };
    let best: string | undefined;
    let fit = -Infinity;
    for (const [candidate, mean] of means) {
      const c = cosine(raw, mean);
      if (c > fit) [best, fit] = [candidate, c];
    }
    return { lang: best, fit };
  }

  private windowChars(): (text: string) => number {
    const tokens = this.windowTokens;
    // About 4 characters per token in alphabetic scripts, about 1 in CJK.
    return (text) => {
      const cjk = (text.match(CJK)?.length ?? 0) / Math.max(1, text.length);
      return Math.max(64, Math.floor(tokens * (cjk > 0.3 ? 1 : 4)));
    };
  }

  /** Takes the language's mean out (when the model ships one) and L2-normalises. */
  private finish(v: Float32Array, lang: string | undefined): Float32Array {
    const basis = lang ? this.settings.languageBases.get(lang) : undefined;
    const mean = lang ? this.settings.languageMeans.get(lang) : undefined;
    if (basis) for (const u of basis) removeAlong(v, u);
    else if (mean) for (let j = 0; j < v.length; j++) v[j]! -= mean[j]!;
    return l2normalize(v);
  }

  /**
   * Pooled (not yet normalised) vectors in input order, computed in length-sorted runs to limit
   * padding. With the cached tokenizer the token counts are known before batching, so runs are cut
   * on padded tokens (sorting by characters instead left 43% of a run's tokens as padding on
   * ~600-word articles); otherwise on an estimate from the characters.
   */
  private async pooledInOrder(texts: string[]): Promise<Pooled[]> {
    const prompted = texts.map((t) => this.settings.prompt + t);
    const fast = this.fast;
    const rows = fast ? prompted.map((t) => fast.ids(t, this.maxLength)) : undefined;
    const size = rows ? (i: number) => rows[i]!.length : (i: number) => Math.min(this.maxLength, prompted[i]!.length / 2 + 2);
    const order = texts.map((_, i) => i).sort((a, b) => size(a) - size(b));
    const out: Pooled[] = new Array(texts.length);
    let i = 0;
    while (i < order.length) {
      // The longest row of the run is its last, as they are sorted.
      let j = i + 1;
      while (j < order.length && (j - i + 1) * size(order[j]!) <= this.maxTokensPerRun) j++;
      const run = order.slice(i, j);
      const pooled = await this.runBatch(rows ? this.padded(run.map((idx) => rows[idx]!)) : this.tokenize(run.map((idx) => prompted[idx]!)));
      run.forEach((idx, r) => (out[idx] = { ...pooled[r]!, unknown: rows ? occurrences(rows[idx]!, fast!.unknownId) : 0 }));
      i = j;
    }
    return out;
  }

  /** The model's inputs for rows of token ids from the cached tokenizer. */
  private padded(rows: number[][]): { input_ids: Tensor; attention_mask: Tensor; lengths: number[] } {
    const e = tensors(rows, this.tokenizer.pad_token_id ?? 0);
    return { input_ids: e.inputIds, attention_mask: e.attentionMask, lengths: e.lengths };
  }

  /** input_ids and attention_mask for a batch through the library's tokenizer (pooledInOrder's path without a cached tokenizer). */
  private tokenize(texts: string[]): { input_ids: Tensor; attention_mask: Tensor; lengths?: number[] } {
    return this.tokenizer(texts, { padding: true, truncation: true, max_length: this.maxLength }) as { input_ids: Tensor; attention_mask: Tensor };
  }

  /**
   * Runs the model. When the graph pools for us (a `sentence_embedding` output) and mean pooling is
   * wanted, only that output is fetched from the session transformers.js created: copying out
   * `last_hidden_state` ([batch, tokens, dim] floats) would triple the cost of a static model.
   */
  private async forward(inputs: { input_ids: Tensor; attention_mask: Tensor }): Promise<Record<string, Tensor>> {
    const session = (this.model as unknown as { sessions?: Record<string, OrtSession> }).sessions?.model;
    if (this.settings.pooling === 'mean' && session?.outputNames.includes('sentence_embedding') && session.inputNames.every((n) => n in inputs)) {
      const feeds = Object.fromEntries(session.inputNames.map((n) => [n, (inputs as unknown as Record<string, { ort_tensor: unknown }>)[n]!.ort_tensor]));
      const out = await session.run(feeds, ['sentence_embedding']);
      const t = out.sentence_embedding!;
      return { sentence_embedding: new Tensor('float32', t.data as Float32Array, t.dims) };
    }
    return (await this.model(inputs)) as Record<string, Tensor>;
  }

  private async runBatch(encoded: { input_ids: Tensor; attention_mask: Tensor; lengths?: number[] }): Promise<{ vector: Float32Array; tokens: number }[]> {
    const { lengths, ...inputs } = encoded;
    const outputs = await this.forward(inputs);
    const mask = inputs.attention_mask as Tensor;
    const [batch, seq] = mask.dims as [number, number];
    const maskData = mask.data as BigInt64Array;
    let counts = lengths;
    if (!counts) {
      counts = new Array<number>(batch).fill(0);
      for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) if (maskData[b * seq + s]) counts[b]!++;
    }
    const pooledOut = outputs.sentence_embedding;
    if (pooledOut && this.settings.pooling === 'mean') {
      const dim = pooledOut.dims[1]!;
      const data = pooledOut.data as Float32Array;
      return counts.map((tokens, b) => ({ vector: data.slice(b * dim, (b + 1) * dim), tokens }));
    }
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
    if (!hidden) throw new ModelLoadError(`model output has neither sentence_embedding nor last_hidden_state`, this.id);
    const dim = hidden.dims[2]!;
    const data = hidden.data as Float32Array;
    return counts.map((tokens, b) => {
      const v = new Float32Array(dim);
      if (this.settings.pooling === 'cls') {
        v.set(data.subarray(b * seq * dim, b * seq * dim + dim));
      } else {
        for (let s = 0; s < seq; s++) {
          if (!maskData[b * seq + s]) continue;
          const off = (b * seq + s) * dim;
          for (let j = 0; j < dim; j++) v[j]! += data[off + j]!;
        }
        for (let j = 0; j < dim; j++) v[j]! /= Math.max(1, tokens);
      }
      return { vector: v, tokens };
    });
  }
}
