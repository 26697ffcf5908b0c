// Writes a static token-embedding model in the transformers.js layout:
// config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx (fp32 table) and/or
// onnx/model_quantized.onnx (int8 table with one scale per row). The ONNX graph gathers
// token vectors and mean-pools them under the attention mask, so loading it through
// @huggingface/transformers is the same code path as for any hub encoder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export type OnnxVariant = 'fp32' | 'q8';

export interface StaticModelSpec {
  outDir: string;
  /** Name recorded in config.json (`_name_or_path`). */
  name: string;
  /** Token strings by id, WordPiece style (`##` marks a word-internal piece). Must contain `[PAD]` and `[UNK]`. */
  vocab: string[];
  /** vocab.length × dim, row-major. Token weights, if any, are already folded into the rows. */
  embeddings: Float32Array;
  dim: number;
  maxLength: number;
  variants: OnnxVariant[];
  lowercase?: boolean;
  /** Extra files written verbatim next to the model (model card, newsdedup.json, …). */
  extraFiles?: Record<string, string>;
  /**
   * Output only `sentence_embedding`, pooled with one batched MatMul (mask/count weights × rows), and no
   * `last_hidden_state`: the per-token tensor is then never materialised nor copied out of ONNX
   * Runtime, which makes embedding several times faster. Default false (both outputs).
   */
  pooledOnly?: boolean;
  /**
   * 'bert' (default): BertNormalizer + BertPreTokenizer. 'regex': the same tokenisation written as
   * regex normalisers (control characters removed, lower-case) and one regex Split pre-tokeniser
   * (words, single punctuation marks, single CJK ideographs): identical tokens for the lower-casing
   * configuration (checked by scripts/model/check-tokenizer.ts), but several times faster in
   * @huggingface/tokenizers, whose BertNormalizer walks the text one character at a time.
   */
  tokenizerPipeline?: 'bert' | 'regex';
}

const DataType = { FLOAT: 1, INT8: 3, INT64: 7 } as const;
const AttrType = { INT: 2 } as const;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

let protoRoot: protobuf.Root | undefined;
function onnxTypes() {
  protoRoot ??= protobuf.loadSync(join(dirname(fileURLToPath(import.meta.url)), 'onnx-subset.proto'));
  return { Model: protoRoot.lookupType('onnx.ModelProto') };
}

function tensor(name: string, dataType: number, dims: number[], bytes: Uint8Array) {
  return { name, dataType, dims, rawData: bytes };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function node(opType: string, inputs: string[], outputs: string[], ints: Record<string, number> = {}) {
  return {
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(ints).map(([name, i]) => ({ name, i, type: AttrType.INT })),
  };
}

/** Symmetric per-row int8 quantisation: row r ≈ q[r] * scale[r]. */
export function quantizeRows(table: Float32Array, dim: number): { q: Int8Array; scales: Float32Array } {
  const rows = table.length / dim;
  const q = new Int8Array(table.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) max = Math.max(max, Math.abs(table[j]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[r] = scale;
    for (let j = r * dim; j < (r + 1) * dim; j++) q[j] = Math.round(table[j]! / scale);
  }
  return { q, scales };
}

/** The embedding table as initializers: fp32 rows, or int8 rows with one scale per row. */
function tableInitializers(spec: StaticModelSpec, variant: OnnxVariant): ReturnType<typeof tensor>[] {
  const rows = spec.vocab.length;
  if (variant === 'fp32') return [tensor('embeddings', DataType.FLOAT, [rows, spec.dim], bytesOf(spec.embeddings))];
  const { q, scales } = quantizeRows(spec.embeddings, spec.dim);
  return [
    tensor('embeddings_q', DataType.INT8, [rows, spec.dim], bytesOf(q)),
    tensor('embeddings_scale', DataType.FLOAT, [rows], bytesOf(scales)),
  ];
}

function buildGraph(spec: StaticModelSpec, variant: OnnxVariant) {
  const rows = spec.vocab.length;
  const initializer = [
    tensor('axis_seq', DataType.INT64, [1], bytesOf(new BigInt64Array([1n]))),
    tensor('axis_last', DataType.INT64, [1], bytesOf(new BigInt64Array([2n]))),
    tensor('min_count', DataType.FLOAT, [], bytesOf(new Float32Array([1e-9]))),
  ];
  const nodes = [];
  if (spec.pooledOnly) return buildPooledGraph(spec, variant, initializer);
  initializer.push(...tableInitializers(spec, variant));
  if (variant === 'fp32') {
    nodes.push(node('Gather', ['embeddings', 'input_ids'], ['token_vectors'], { axis: 0 }));
  } else {
    nodes.push(
      node('Gather', ['embeddings_q', 'input_ids'], ['token_q'], { axis: 0 }),
      node('Cast', ['token_q'], ['token_qf'], { to: DataType.FLOAT }),
      node('Gather', ['embeddings_scale', 'input_ids'], ['token_scale'], { axis: 0 }),
      node('Unsqueeze', ['token_scale', 'axis_last'], ['token_scale3']),
      node('Mul', ['token_qf', 'token_scale3'], ['token_vectors']),
    );
  }
  nodes.push(
    node('Cast', ['attention_mask'], ['mask_f'], { to: DataType.FLOAT }),
    node('Unsqueeze', ['mask_f', 'axis_last'], ['mask3']),
    node('Mul', ['token_vectors', 'mask3'], ['last_hidden_state']),
    node('ReduceSum', ['last_hidden_state', 'axis_seq'], ['summed'], { keepdims: 0 }),
    node('ReduceSum', ['mask3', 'axis_seq'], ['counts'], { keepdims: 0 }),
    node('Max', ['counts', 'min_count'], ['counts_safe']),
    node('Div', ['summed', 'counts_safe'], ['sentence_embedding']),
  );
  return {
    name: 'static_embedding',
    node: nodes,
    initializer,
    input: [
      valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']),
    ],
    output: [
      valueInfo('last_hidden_state', DataType.FLOAT, ['batch_size', 'sequence_length', spec.dim]),
      valueInfo('sentence_embedding', DataType.FLOAT, ['batch_size', spec.dim]),
    ],
  };
}

/**
 * sentence_embedding[b] = Σ_t (mask[b,t] / count[b]) · scale[id] · q[id] as a batched MatMul
 * [B,1,T] × [B,T,D] → [B,1,D] → [B,D] (fp32: scale 1, rows gathered directly).
 */
function buildPooledGraph(spec: StaticModelSpec, variant: OnnxVariant, initializer: ReturnType<typeof tensor>[]) {
  const rows = spec.vocab.length;
  initializer.push(tensor('axis_mid', DataType.INT64, [1], bytesOf(new BigInt64Array([1n]))));
  const nodes = [
    node('Cast', ['attention_mask'], ['mask_f'], { to: DataType.FLOAT }),
    node('ReduceSum', ['mask_f', 'axis_seq'], ['counts'], { keepdims: 1 }),
    node('Max', ['counts', 'min_count'], ['counts_safe']),
    node('Div', ['mask_f', 'counts_safe'], ['mask_w']),
  ];
  initializer.push(...tableInitializers(spec, variant));
  if (variant === 'fp32') {
    nodes.push(node('Gather', ['embeddings', 'input_ids'], ['token_vectors'], { axis: 0 }), node('Unsqueeze', ['mask_w', 'axis_mid'], ['weights3']));
  } else {
    nodes.push(
      node('Gather', ['embeddings_q', 'input_ids'], ['token_q'], { axis: 0 }),
      node('Cast', ['token_q'], ['token_vectors'], { to: DataType.FLOAT }),
      node('Gather', ['embeddings_scale', 'input_ids'], ['token_scale'], { axis: 0 }),
      node('Mul', ['mask_w', 'token_scale'], ['weights']),
      node('Unsqueeze', ['weights', 'axis_mid'], ['weights3']),
    );
  }
  nodes.push(node('MatMul', ['weights3', 'token_vectors'], ['pooled3']), node('Squeeze', ['pooled3', 'axis_mid'], ['sentence_embedding']));
  return {
    name: 'static_embedding',
    node: nodes,
    initializer,
    input: [
      valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']),
    ],
    output: [valueInfo('sentence_embedding', DataType.FLOAT, ['batch_size', spec.dim])],
  };
}

export function encodeOnnx(spec: StaticModelSpec, variant: OnnxVariant): Uint8Array {
  const { Model } = onnxTypes();
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'newsdedup',
    producerVersion: '1',
    graph: buildGraph(spec, variant),
  };
  const err = Model.verify(model);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return Model.encode(Model.create(model)).finish();
}

// BertNormalizer's clean_text drops NUL, U+FFFD and control/format/private-use/surrogate code points
// except tab, newline and carriage return; handle_chinese_chars isolates the BMP CJK ideograph blocks;
// BertPreTokenizer keeps runs of non-space non-punctuation characters and single punctuation marks.
const BERT_PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const CJK_BMP = '\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uF900-\\uFAFF';
function regexPipeline(lowercase: boolean) {
  const normalizers: unknown[] = [{ type: 'Replace', pattern: { Regex: '(?![\\t\\n\\r])[\\u0000\\uFFFD\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]' }, content: '' }];
  if (lowercase) normalizers.push({ type: 'Lowercase' });
  return {
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: {
      type: 'Split',
      pattern: { Regex: `[^\\s${BERT_PUNCT}${CJK_BMP}]+|[${BERT_PUNCT}]|[${CJK_BMP}]` },
      behavior: 'Isolated',
      invert: true,
    },
  };
}

function tokenizerJson(spec: StaticModelSpec) {
  const vocab: Record<string, number> = {};
  spec.vocab.forEach((tok, id) => {
    if (tok in vocab) throw new Error(`duplicate token in vocabulary: ${JSON.stringify(tok)}`);
    vocab[tok] = id;
  });
  for (const s of ['[PAD]', '[UNK]']) if (!(s in vocab)) throw new Error(`vocabulary lacks ${s}`);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.filter((s) => s in vocab).map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    ...(spec.tokenizerPipeline === 'regex'
      ? regexPipeline(spec.lowercase ?? true)
      : {
          // Accents are kept: stripping them would merge distinct Cyrillic letters and drop Devanagari vowel signs.
          normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: spec.lowercase ?? true },
          pre_tokenizer: { type: 'BertPreTokenizer' },
        }),
    // No [CLS]/[SEP]: in a mean of token vectors they would only add a constant offset.
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function exportStaticModel(spec: StaticModelSpec): void {
  if (spec.embeddings.length !== spec.vocab.length * spec.dim) {
    throw new Error(`embeddings hold ${spec.embeddings.length} values, expected ${spec.vocab.length}×${spec.dim}`);
  }
  mkdirSync(join(spec.outDir, 'onnx'), { recursive: true });
  const write = (file: string, content: string | Uint8Array) => writeFileSync(join(spec.outDir, file), content);
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  write(
    'config.json',
    json({
      _name_or_path: spec.name,
      // transformers.js needs a known encoder type to pick the feature-extraction forward pass;
      // "bert" only implies input_ids/attention_mask inputs, which is all the graph takes.
      model_type: 'bert',
      architectures: ['StaticEmbeddingModel'],
      hidden_size: spec.dim,
      vocab_size: spec.vocab.length,
      max_position_embeddings: spec.maxLength,
      pad_token_id: spec.vocab.indexOf('[PAD]'),
    }),
  );
  write('tokenizer.json', JSON.stringify(tokenizerJson(spec)));
  write(
    'tokenizer_config.json',
    json({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: spec.lowercase ?? true,
      strip_accents: false,
      tokenize_chinese_chars: true,
      model_max_length: spec.maxLength,
      clean_up_tokenization_spaces: true,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
    }),
  );
  for (const variant of spec.variants) {
    write(variant === 'fp32' ? 'onnx/model.onnx' : 'onnx/model_quantized.onnx', encodeOnnx(spec, variant));
  }
  for (const [file, content] of Object.entries(spec.extraFiles ?? {})) write(file, content);
}
