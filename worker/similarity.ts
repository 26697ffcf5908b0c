// Window-by-window similarity matrices, the inner loop of the passage evidence (every window of an
// article against every window of each candidate): WebAssembly SIMD (similarity.wat), about four
// times the speed of the scalar JavaScript loop. Sums are float32, where the scalar loop's are
// float64: the two differ by about 1e-7, far below any decision threshold.
import { readFileSync } from 'node:fs';

interface Exports {
  memory: WebAssembly.Memory;
  matrix(a: number, na: number, b: number, nb: number, stride: number, out: number): void;
}

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('./similarity.wasm', import.meta.url)))).exports as unknown as Exports;

/** Copies vectors into the module's memory at `offset`, each zero-padded to `floats`. */
function place(memory: Float32Array, offset: number, vectors: readonly Float32Array[], floats: number): void {
  vectors.forEach((v, i) => {
    const at = offset / 4 + i * floats;
    memory.set(v, at);
    memory.fill(0, at + v.length, at + floats);
  });
}

/**
 * `out[i * b.length + j]` = a[i] · b[j]. The returned array is a view into the module's memory,
 * valid until the next call: read it, do not keep it.
 */
export function similarityMatrix(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array {
  // A loop, not Math.max(...a.map()): the spread was a tenth of the ingest's main-thread allocations.
  let dim = 0;
  for (let i = 0; i < a.length; i++) dim = Math.max(dim, a[i]!.length);
  for (let i = 0; i < b.length; i++) dim = Math.max(dim, b[i]!.length);
  const floats = Math.ceil(dim / 4) * 4;
  const bytesA = a.length * floats * 4;
  const bytesB = b.length * floats * 4;
  const need = bytesA + bytesB + a.length * b.length * 4;
  const pages = Math.ceil(need / 65536) - wasm.memory.buffer.byteLength / 65536;
  if (pages > 0) wasm.memory.grow(pages);
  const memory = new Float32Array(wasm.memory.buffer);
  place(memory, 0, a, floats);
  place(memory, bytesA, b, floats);
  wasm.matrix(0, a.length, bytesA, b.length, floats * 4, bytesA + bytesB);
  return new Float32Array(wasm.memory.buffer, bytesA + bytesB, a.length * b.length);
}
