// Builds worker/similarity.wasm from worker/similarity.wat (wabt). The binary is committed, so a
// fresh clone needs no build step; tests/similarity.test.ts checks the two agree.
//   npx tsx scripts/build-wasm.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { scriptArgs } from './args.ts';

export const WAT = new URL('../worker/similarity.wat', import.meta.url);
export const WASM = new URL('../worker/similarity.wasm', import.meta.url);

export async function compileWat(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('similarity.wat', readFileSync(WAT, 'utf8'), { simd: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = scriptArgs(
    `Builds worker/similarity.wasm from worker/similarity.wat (wabt); --check compares instead of writing.

  npx tsx scripts/build-wasm.ts [--check]`,
    { check: { type: 'boolean', default: false } },
  );
  const binary = await compileWat();
  if (values.check) {
    const same = Buffer.from(binary).equals(readFileSync(WASM));
    console.log(same ? 'similarity.wasm is up to date' : 'similarity.wasm differs from similarity.wat: run npx tsx scripts/build-wasm.ts');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(WASM, binary);
  console.log(`wrote ${WASM.pathname} (${binary.length} bytes)`);
}
