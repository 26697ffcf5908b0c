// The SIMD similarity matrix must agree with the plain dot product, for any sizes, and the
// committed binary must be the build of its source.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWat, WASM } from '../scripts/build-wasm.ts';
import { dot } from '../worker/passages.ts';
import { similarityMatrix } from '../worker/similarity.ts';

let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const vectors = (n: number, dim: number) => Array.from({ length: n }, () => Float32Array.from({ length: dim }, rnd));

describe('similarityMatrix', () => {
  it('equals the dot product of every pair, whatever the dimension and counts', () => {
    for (const [na, nb, dim] of [
      [15, 17, 256],
      [1, 1, 4],
      [3, 2, 10],
      [2, 5, 12],
      [40, 3, 384],
    ] as const) {
      const a = vectors(na, dim);
      const b = vectors(nb, dim);
      const m = similarityMatrix(a, b);
      expect(m.length).toBe(na * nb);
      for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) expect(m[i * nb + j]).toBeCloseTo(dot(a[i]!, b[j]!), 4);
    }
  });

  it('answers empty inputs with an empty matrix and grows its memory for large ones', () => {
    expect(similarityMatrix([], vectors(3, 8)).length).toBe(0);
    const a = vectors(300, 256);
    const m = similarityMatrix(a, a);
    expect(m[299 * 300 + 299]).toBeCloseTo(dot(a[299]!, a[299]!), 3);
  });

  it('is built from similarity.wat (run npx tsx scripts/build-wasm.ts after editing it)', async () => {
    expect(Buffer.from(await compileWat()).equals(readFileSync(WASM))).toBe(true);
  });
});
