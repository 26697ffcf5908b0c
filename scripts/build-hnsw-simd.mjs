#!/usr/bin/env node
// Run by `npm install` / `npm ci` (postinstall). hnswlib-node compiles with the compiler's default
// x86-64 target, so hnswlib's distance kernels take their SSE path even on CPUs with AVX2: at 1M
// stored vectors a search at ef 384 took 6.4 ms instead of 3.7 ms on this project's machine.
// On a Linux x86-64 CPU with AVX2 and FMA this rebuilds the addon with those instructions, checks
// it in a child process against the portable build, and only then puts it in place. Anything
// else (another CPU or OS, no compiler, a failed check) keeps the portable build and exits 0:
// this step must never break an install.
//
// The rebuilt addon needs AVX2: a node_modules copied to an older CPU fails to load it. Set
// NEWSDEDUP_PORTABLE_HNSW=1 when installing for other machines (a Docker image built on one host
// and run on others), or run `npm rebuild hnswlib-node` there to get the portable build back.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const FLAGS = '-O3 -mavx2 -mfma';
const say = (msg) => process.stdout.write(`newsdedup: ${msg}\n`);
const firstError = (stderr) => stderr?.split('\n').find((l) => /error/i.test(l) && !l.startsWith('gyp WARN'))?.trim();

// Copied beside the target and renamed over it: an install cut short never leaves half an addon.
function replace(from, to) {
  copyFileSync(from, `${to}.tmp`);
  renameSync(`${to}.tmp`, to);
}

function cpuHasAvx2() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/));
    return flags.has('avx2') && flags.has('fma');
  } catch {
    return false;
  }
}

function nodeGyp() {
  // npm names its own node-gyp to lifecycle scripts; outside npm, look beside the node binary.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

// npm passes its nodedir setting to lifecycle scripts; run by hand, use the headers installed beside
// node (a distribution's package) rather than node-gyp's download, which fails offline.
function nodeDir() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? [`--nodedir=${prefix}`] : [];
}

// Runs in a child so that an addon the CPU cannot execute (SIGILL) fails the check, not the install.
const CHECK = `
const [portable, simd] = process.argv.slice(1).map((p) => require(p));
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const dim = 256, n = 2000;
const points = Array.from({ length: n }, () => Array.from({ length: dim }, rnd));
const build = (lib) => {
  const index = new lib.HierarchicalNSW('cosine', dim);
  index.initIndex(n, 16, 100, 7);
  points.forEach((p, i) => index.addPoint(p, i));
  index.setEf(n);
  return index;
};
const a = build(portable), b = build(simd);
for (let i = 0; i < n; i += 17) {
  const x = a.searchKnn(points[i], 10), y = b.searchKnn(points[i], 10);
  if (y.neighbors[0] !== i) throw new Error('point ' + i + ' is not its own nearest neighbour');
  for (let j = 0; j < 10; j++) {
    if (Math.abs(x.distances[j] - y.distances[j]) > 1e-4) throw new Error('distances differ at point ' + i);
  }
}
`;

function main() {
  const pkg = dirname(createRequire(import.meta.url).resolve('hnswlib-node/package.json'));
  const installed = join(pkg, 'build', 'Release', 'addon.node');
  const portable = join(pkg, 'build', 'Release', 'addon.portable.node');
  // An earlier run's AVX2 addon is replaced by the portable one it kept, so that a second install
  // that asks for (or a CPU that needs) the portable build gets it.
  const keepPortable = (why) => {
    if (existsSync(portable)) replace(portable, installed);
    say(`hnswlib-node kept portable (${why})`);
  };
  if (process.env.NEWSDEDUP_PORTABLE_HNSW === '1') return keepPortable('NEWSDEDUP_PORTABLE_HNSW=1');
  if (!cpuHasAvx2()) return keepPortable('not a Linux x86-64 CPU with AVX2 and FMA');
  const gyp = nodeGyp();
  if (!gyp) return keepPortable('node-gyp not found');
  if (!existsSync(installed)) return say(`hnswlib-node kept as it is (${installed} missing)`);
  // Built inside the package so that binding.gyp's require('node-addon-api') resolves as it did.
  const work = join(pkg, 'build-simd');
  rmSync(work, { recursive: true, force: true });
  try {
    for (const f of ['binding.gyp', 'package.json', 'src']) cpSync(join(pkg, f), join(work, f), { recursive: true });
    const built = spawnSync(process.execPath, [gyp, 'rebuild', ...nodeDir()], { cwd: work, env: { ...process.env, CXXFLAGS: FLAGS }, encoding: 'utf8' });
    if (built.status !== 0) return keepPortable(`the AVX2 build failed: ${firstError(built.stderr) ?? built.error?.message ?? `exit ${built.status}`}`);
    const addon = join(work, 'build', 'Release', 'addon.node');
    // A second run starts from the portable build kept by the first, not from its own output.
    if (!existsSync(portable)) replace(installed, portable);
    const checked = spawnSync(process.execPath, ['-e', CHECK, portable, addon], { encoding: 'utf8' });
    if (checked.status !== 0) return keepPortable(`the AVX2 build failed its check: ${firstError(checked.stderr) ?? `signal ${checked.signal}`}`);
    replace(addon, installed);
    say(`hnswlib-node rebuilt with ${FLAGS} (NEWSDEDUP_PORTABLE_HNSW=1 keeps the portable build)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  say(`hnswlib-node left as it is (${err.message})`);
}
