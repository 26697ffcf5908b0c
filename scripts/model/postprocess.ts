// Linear post-processing that can be folded into the exported table (so the product needs nothing
// new): partial whitening of the centred sentence-vector distribution, W = U diag(λ^(-β/2)) Uᵀ,
// which damps the few dominant directions that make some documents "hubs" (near to everything).
// β = 0 leaves the table unchanged; β = 1 is full ZCA whitening.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi). Returns eigenvalues and column eigenvectors. */
export function symEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-30) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Covariance of centred, L2-normalised vectors (each language weighted equally), then
 * W = U diag((λ/λ̄)^(-β/2)) Uᵀ.
 */
export function whiteningMatrix(vecsByLang: Map<string, Float32Array[]>, dim: number, beta: number): Float32Array {
  const C = new Float64Array(dim * dim);
  let langs = 0;
  for (const vecs of vecsByLang.values()) {
    if (!vecs.length) continue;
    langs++;
    const w = 1 / vecs.length;
    for (const v of vecs)
      for (let i = 0; i < dim; i++) {
        const vi = v[i]! * w;
        for (let j = 0; j < dim; j++) C[i * dim + j]! += vi * v[j]!;
      }
  }
  for (let i = 0; i < C.length; i++) C[i]! /= Math.max(1, langs);
  const { values, vectors } = symEigen(C, dim);
  let mean = 0;
  for (const x of values) mean += Math.max(x, 0) / dim;
  const W = new Float32Array(dim * dim);
  for (let k = 0; k < dim; k++) {
    const f = Math.pow(Math.max(values[k]!, mean * 1e-3) / mean, -beta / 2);
    for (let i = 0; i < dim; i++) {
      const uik = vectors[i * dim + k]! * f;
      for (let j = 0; j < dim; j++) W[i * dim + j]! += uik * vectors[j * dim + k]!;
    }
  }
  return W;
}

/** rows (V×dim) ← rows · W */
export function applyLinear(rows: Float32Array, dim: number, W: Float32Array): Float32Array {
  const out = new Float32Array(rows.length);
  const tmp = new Float64Array(dim);
  for (let r = 0; r < rows.length / dim; r++) {
    tmp.fill(0);
    const o = r * dim;
    for (let i = 0; i < dim; i++) {
      const x = rows[o + i]!;
      if (x === 0) continue;
      for (let j = 0; j < dim; j++) tmp[j]! += x * W[i * dim + j]!;
    }
    for (let j = 0; j < dim; j++) out[o + j] = tmp[j]!;
  }
  return out;
}

/** Reads the (dequantised) table back from an exported onnx/model_quantized.onnx or onnx/model.onnx. */
export function readTable(modelDir: string): { rows: Float32Array; dim: number; vocab: string[] } {
  const root = protobuf.loadSync(join(dirname(fileURLToPath(import.meta.url)), 'onnx-subset.proto'));
  const Model = root.lookupType('onnx.ModelProto');
  const tk = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const vocab: string[] = [];
  for (const [t, i] of Object.entries(tk.model.vocab)) vocab[i] = t;
  let file = join(modelDir, 'onnx', 'model.onnx');
  let fp32 = true;
  try {
    readFileSync(file, { flag: 'r' }).length;
  } catch {
    file = join(modelDir, 'onnx', 'model_quantized.onnx');
    fp32 = false;
  }
  const m = Model.toObject(Model.decode(readFileSync(file)), { bytes: Buffer }) as {
    graph: { initializer: { name: string; dims: (number | { toNumber(): number })[]; rawData: Buffer }[] };
  };
  const get = (name: string) => m.graph.initializer.find((t) => t.name === name)!;
  const toNum = (d: number | { toNumber(): number }) => (typeof d === 'number' ? d : d.toNumber());
  if (fp32) {
    const t = get('embeddings');
    const buf = Buffer.from(t.rawData);
    return { rows: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), dim: toNum(t.dims[1]!), vocab };
  }
  const q = get('embeddings_q');
  const s = get('embeddings_scale');
  const dim = toNum(q.dims[1]!);
  const qb = Buffer.from(q.rawData);
  const qa = new Int8Array(qb.buffer, qb.byteOffset, qb.byteLength);
  const sb = Buffer.from(s.rawData);
  const sa = new Float32Array(sb.buffer.slice(sb.byteOffset, sb.byteOffset + sb.byteLength));
  const rows = new Float32Array(qa.length);
  for (let i = 0; i < qa.length; i++) rows[i] = qa[i]! * sa[Math.floor(i / dim)]!;
  return { rows, dim, vocab };
}
