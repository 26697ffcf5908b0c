// Requests per second of the worker's HTTP API on loopback. Starts `newsdedup worker` as a child
// process on a fresh database in a temp folder (port 0), then runs each scenario for a bounded
// time with a few concurrent clients, and prints requests/s and latency percentiles; finally the
// end-to-end ingestion rate (accepted articles until the queue is empty).
//
//   tsx scripts/bench-http.ts [--seconds 3] [--clients 8] [--model-dir DIR] [--json]
//
// Without --model-dir it uses the bundled model when it is there, else a generated tiny model
// (plumbing speed, not model speed).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTinyModel } from './make-tiny-model.ts';
import { scriptArgs } from './args.ts';

const ROOT = join(import.meta.dirname, '..');
const { values } = scriptArgs(
  `Requests per second of the worker's HTTP API on loopback, then the end-to-end ingestion rate.

  tsx scripts/bench-http.ts [--seconds 3] [--clients 8] [--model-dir DIR] [--json]`,
  {
    seconds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '8' },
    'model-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
);
const SECONDS = Math.min(30, Math.max(0.5, Number(values.seconds)));
const CLIENTS = Math.min(64, Math.max(1, Number(values.clients)));

const seeds = readdirSync(join(ROOT, 'seeds')).map((f) => readFileSync(join(ROOT, 'seeds', f), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'newsdedup-bench-http-'));
const shipped = join(ROOT, 'models', 'newsdedup-static-v1');
const modelDir = values['model-dir'] ?? (existsSync(join(shipped, 'config.json')) ? shipped : makeTinyModel({ outDir: join(work, 'tiny'), texts: seeds }));

function startWorker(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'newsdedup.js'), 'worker', '--port', '0', '--json', '--model-dir', modelDir], {
    cwd: work,
    env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'warn', NEWSDEDUP_QUEUE_LIMIT: '1000000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; url: string };
      if (msg.event === 'listening') resolve({ proc, url: msg.url });
    });
    proc.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

interface Result {
  scenario: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Runs `request` from CLIENTS concurrent loops for SECONDS; counts non-2xx answers as errors. */
async function scenario(name: string, request: (n: number) => Promise<Response>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const res = await request(n++);
        await res.arrayBuffer();
        latencies.push(performance.now() - s);
        if (res.status >= 300) errors++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { scenario: name, requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50ms: percentile(latencies, 0.5), p99ms: percentile(latencies, 0.99) };
}

// Articles of ~150 words drawn from the seeds' vocabulary (seeded, so runs compare); every fifth
// one is a lightly edited copy of the one before, so clusters form as in a real feed.
const vocabulary = [...new Set(seeds.join(' ').match(/[\p{L}\p{N}]+/gu) ?? [])];
function words(seed: number, n: number): string {
  let a = seed >>> 0;
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    a = (Math.imul(a ^ (a >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    out.push(vocabulary[a % vocabulary.length]!);
    if (k % 25 === 24) out.push('.\n');
  }
  return out.join(' ');
}
const article = (i: number, prefix: string) => {
  const base = i % 5 === 4 ? i - 1 : i;
  return { id: `${prefix}-${i}`, title: `Report ${base}`, text: `${words(base * 7919 + prefix.length, 150)}${base !== i ? '\nUpdated.' : ''}` };
};

async function main(): Promise<void> {
  const { proc, url } = await startWorker();
  const json = { 'content-type': 'application/json' };
  const results: Result[] = [];
  try {
    results.push(await scenario('GET /healthz', () => fetch(`${url}/healthz`)));
    results.push(await scenario('POST /articles (1 article)', (i) => fetch(`${url}/articles`, { method: 'POST', headers: json, body: JSON.stringify(article(i, 'one')) })));
    results.push(
      await scenario('POST /articles (50 articles)', (i) =>
        fetch(`${url}/articles`, { method: 'POST', headers: json, body: JSON.stringify(Array.from({ length: 50 }, (_, k) => article(i * 50 + k, 'fifty'))) }),
      ),
    );
    // End to end: how fast the accepted articles are ingested.
    const drainStart = performance.now();
    const first = (await (await fetch(`${url}/healthz`)).json()) as { queueDepth: number; articles: number };
    let h = first;
    while (h.queueDepth > 0 && performance.now() - drainStart < 120_000) {
      await new Promise((r) => setTimeout(r, 100));
      h = (await (await fetch(`${url}/healthz`)).json()) as { queueDepth: number; articles: number };
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const ingestRate = (h.articles - first.articles) / drainSeconds;
    const draft = { title: 'Draft', text: seeds[1]! };
    results.push(await scenario('POST /check', () => fetch(`${url}/check`, { method: 'POST', headers: json, body: JSON.stringify(draft) })));
    results.push(await scenario('GET /clusters', () => fetch(`${url}/clusters?limit=20`)));
    const summary = { model: modelDir, seconds: SECONDS, clients: CLIENTS, results, drain: { articles: h.articles, left: h.queueDepth, ingestPerSecond: ingestRate, seconds: drainSeconds } };
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(`model ${modelDir}, ${CLIENTS} clients, ${SECONDS} s per scenario`);
      for (const r of results) {
        console.log(
          `${r.scenario.padEnd(30)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50ms.toFixed(1).padStart(6)} ms   p99 ${r.p99ms.toFixed(1).padStart(6)} ms   ${r.requests} requests${r.errors ? `, ${r.errors} errors` : ''}`,
        );
      }
      console.log(`ingestion after intake: ${h.articles} articles stored, queue drained at ${ingestRate.toFixed(0)} articles/s (${drainSeconds.toFixed(1)} s)${h.queueDepth ? `, ${h.queueDepth} left` : ''}`);
    }
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
