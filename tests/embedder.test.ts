import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentText, Embedder, splitWindows } from '../models/embedder.ts';
import { dot } from '../worker/passages.ts';
import { DEV_FILE, FIXTURE_TEXTS, readDev, SHIPPED_MODEL, tempDir, tinyModel } from './helpers.ts';

describe('splitWindows', () => {
  it('keeps paragraphs whole, merges short ones forward and cuts long ones at sentence ends', () => {
    const long = `${'First sentence is here. '.repeat(30)}End.`;
    const text = `Short head\n${FIXTURE_TEXTS.quake}\n${long}`;
    const spans = splitWindows(text, 200);
    // "Short head" (10 chars) is merged with the next paragraph.
    expect(text.slice(spans[0]!.start, spans[0]!.end)).toMatch(/^Short head\nA strong earthquake/);
    for (const s of spans) expect(s.end - s.start).toBeLessThanOrEqual(400);
    const longPieces = spans.filter((s) => s.start >= text.indexOf(long));
    expect(longPieces.length).toBeGreaterThan(1);
    for (const p of longPieces.slice(0, -1)) expect(text.slice(p.start, p.end)).toMatch(/\.$/);
    // Nothing is lost: every word of the text is inside some window.
    const covered = spans.map((s) => text.slice(s.start, s.end)).join(' ');
    expect(covered.split(/\s+/).length).toBe(text.split(/\s+/).length);
  });
});

describe('Embedder (tiny model through @huggingface/transformers)', () => {
  it('loads a local folder, reports its identity and dimension, and returns unit vectors', async () => {
    const e = await Embedder.load({ modelDir: tinyModel() });
    expect(e.id).toBe('tiny-test-model@fp32');
    expect(e.dim).toBe(32);
    const [v] = await e.embedTexts(['A strong earthquake struck']);
    expect(dot(v!, v!)).toBeCloseTo(1, 5);
  });

  it('builds the document vector from every window, beyond the model length', async () => {
    const e = await Embedder.load({ modelDir: tinyModel() });
    const paragraphs = Array.from({ length: 24 }, (_, i) => [FIXTURE_TEXTS.quake, FIXTURE_TEXTS.budget, FIXTURE_TEXTS.match][i % 3]!);
    const doc = { title: 'Long story', text: paragraphs.join('\n') };
    const [d] = await e.embedDocuments([doc]);
    expect(d!.windows.length).toBeGreaterThan(3);
    expect(d!.tokens).toBeGreaterThan(e.maxLength);
    // Offsets point into the document text (the short title shares the first window).
    const full = documentText(doc);
    expect(full.slice(d!.windows[0]!.start, d!.windows[0]!.end)).toBe(`Long story\n\n${paragraphs[0]}`);
    expect(full.slice(d!.windows[1]!.start, d!.windows[1]!.end)).toBe(paragraphs[1]);
    // For a static model, the token-weighted mean of windows equals the embedding of all tokens:
    // compare with the three distinct paragraphs embedded as one text (each appears 8 times).
    const [all] = await e.embedTexts([`Long story ${FIXTURE_TEXTS.quake} ${FIXTURE_TEXTS.budget} ${FIXTURE_TEXTS.match}`]);
    expect(dot(d!.vector, all!)).toBeGreaterThan(0.99);
    // The first window alone is a different vector: later windows count.
    expect(dot(d!.vector, d!.windows[0]!.vector)).toBeLessThan(0.95);
  });

  it("runs with the model's onnx_threads (newsdedup.json) and refuses a value that is not a thread count", async () => {
    const dir = join(tempDir(), 'tiny');
    cpSync(tinyModel(), dir, { recursive: true });
    writeFileSync(join(dir, 'newsdedup.json'), JSON.stringify({ onnx_threads: 1 }));
    const one = await Embedder.load({ modelDir: dir });
    const [a] = await one.embedTexts(['A strong earthquake struck']);
    const [b] = await (await Embedder.load({ modelDir: tinyModel() })).embedTexts(['A strong earthquake struck']);
    expect(dot(a!, b!)).toBeCloseTo(1, 5);
    writeFileSync(join(dir, 'newsdedup.json'), JSON.stringify({ onnx_threads: 'all' }));
    await expect(Embedder.load({ modelDir: dir })).rejects.toThrow(/onnx_threads must be a whole number/);
  });

  it('names the folder when it is not a model', async () => {
    await expect(Embedder.load({ modelDir: '/nonexistent/model' })).rejects.toThrow(/\/nonexistent\/model has no config\.json/);
  });

  it('says which dtypes a model folder has when it has no file for the one asked for', async () => {
    // The bundled model ships only onnx/model_quantized.onnx.
    const load = (dtype: 'fp32' | 'fp16') => Embedder.load({ modelDir: SHIPPED_MODEL, dtype }).then(() => 'loaded', (err: Error) => `${err.name}: ${err.message}`);
    expect(await load('fp32')).toBe(`ModelLoadError: model folder ${SHIPPED_MODEL} has no fp32 file (onnx/model.onnx); it has q8 (onnx/model_quantized.onnx): pass --dtype q8`);
    expect(await load('fp16')).toBe(`ModelLoadError: model folder ${SHIPPED_MODEL} has no fp16 file (onnx/model_fp16.onnx); it has q8 (onnx/model_quantized.onnx): pass --dtype q8`);
    const tiny = join(tempDir(), 'tiny');
    cpSync(tinyModel(), tiny, { recursive: true });
    cpSync(join(tiny, 'onnx', 'model.onnx'), join(tiny, 'onnx', 'model_fp16.onnx'));
    await expect(Embedder.load({ modelDir: tiny, dtype: 'q4' })).rejects.toThrow(
      `model folder ${tiny} has no q4 file (onnx/model_q4.onnx); it has fp32 (onnx/model.onnx), fp16 (onnx/model_fp16.onnx): pass --dtype with one of them`,
    );
  });

  it('says a hub model is not in the local cache while downloads are off, and how to get it', async () => {
    const cacheDir = tempDir();
    await expect(Embedder.load({ model: 'Xenova/multilingual-e5-small', cacheDir, allowRemote: false })).rejects.toThrow(
      `model Xenova/multilingual-e5-small (fp32) is not in the local model cache (${cacheDir}) and downloads are off: ` +
        'set NEWSDEDUP_ALLOW_REMOTE_MODELS=1 to download it, or pass --model-dir with a local folder of the model',
    );
  });
});

describe('CachedTokenizer', () => {
  it('produces exactly the ids of the library tokenizer, padding and truncation included', async () => {
    const { AutoTokenizer } = await import('@huggingface/transformers');
    const { CachedTokenizer, tensors } = await import('../models/fast-tokenize.ts');
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { SEEDS } = await import('./helpers.ts');
    const tok = await AutoTokenizer.from_pretrained(tinyModel());
    const fast = CachedTokenizer.for(tok)!;
    expect(fast).toBeDefined();
    const texts = [
      ...readdirSync(SEEDS).map((f) => readFileSync(join(SEEDS, f), 'utf8')),
      '東京で地震。Zürich — «quotes» and [SEP] spelled out, tab\there',
      'short',
    ];
    for (const max of [512, 16]) {
      const want = tok(texts, { padding: true, truncation: true, max_length: max });
      const got = tensors(texts.map((t) => fast.ids(t, max)), tok.pad_token_id ?? 0);
      expect(got.inputIds.dims).toEqual(want.input_ids.dims);
      expect(Array.from(got.inputIds.data as BigInt64Array)).toEqual(Array.from(want.input_ids.data as BigInt64Array));
      expect(Array.from(got.attentionMask.data as BigInt64Array)).toEqual(Array.from(want.attention_mask.data as BigInt64Array));
    }
  });

  it.runIf(existsSync(DEV_FILE))('tokenizes the bundled model chunk by chunk with exactly the ids of the whole text', async () => {
    const { AutoTokenizer } = await import('@huggingface/transformers');
    const { CachedTokenizer } = await import('../models/fast-tokenize.ts');
    const { SHIPPED_MODEL } = await import('./helpers.ts');
    const tok = await AutoTokenizer.from_pretrained(SHIPPED_MODEL);
    const fast = CachedTokenizer.for(tok)!;
    expect(fast.chunked).toBe(true);
    const dev = readDev().map((a) => a.text);
    // Characters the normaliser drops or that sit at chunk edges: BOM, soft hyphen, zero-width
    // space, no-break space, a final sigma, dotted capital I, CJK without spaces.
    // And words for the WordPiece path: longer than max_input_chars_per_word, pieces the vocabulary
    // cannot spell, astral characters (two UTF-16 units), a lone surrogate, long compounds.
    const tricky = [
      'a\uFEFFb c\u00ADd e\u200Bf', 'x\u00A0y\r\n\tz', 'ΟΔΟΣ ΟΔΟΣ.', 'İstanbul İ', '東京で地震が起きた。', '  lead and trail  ',
      'a'.repeat(100), 'b'.repeat(101), 'x😀y 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \uD800z', 'Donaudampfschifffahrtsgesellschaftskapitän megszentségteleníthetetlenségeskedéseitekért',
    ];
    for (const text of [...dev, ...tricky]) {
      const want = tok(text, { add_special_tokens: false, truncation: true, max_length: 100_000 }).input_ids;
      expect(fast.ids(text, 100_000)).toEqual(Array.from(want.data as BigInt64Array, Number));
    }
  });
});
