// Repeated crash test of the worker: each round starts `newsdedup worker` on the same database,
// posts articles from a few concurrent clients, and kills the worker with SIGKILL after a random
// delay; requests that got no answer are re-sent in the next round, as a client would. After the
// last round the worker drains and stops with SIGTERM, and the database is checked: every
// acknowledged article stored exactly once with the content sent, nothing else stored, no job
// pending or failed, no evidence or window stored twice, and the index current (`stats`).
//
//   tsx scripts/crash-test.ts [--rounds 10] [--clients 3] [--max-delay-ms 1500] [--model-dir DIR] [--keep]
//
// Without --model-dir it uses a generated tiny model (the guarantee does not depend on the model).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { makeTinyModel } from './make-tiny-model.ts';
import { scriptArgs } from './args.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'newsdedup.js');
const { values } = scriptArgs(
  `Repeated kill -9 test of the worker: every acknowledged article must be stored exactly once.

  tsx scripts/crash-test.ts [--rounds 10] [--clients 3] [--max-delay-ms 1500] [--model-dir DIR] [--keep]`,
  {
    rounds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '3' },
    'max-delay-ms': { type: 'string', default: '1500' },
    'model-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
);
const ROUNDS = Math.min(100, Math.max(1, Number(values.rounds)));
const CLIENTS = Math.min(16, Math.max(1, Number(values.clients)));
const MAX_DELAY = Math.min(10_000, Math.max(50, Number(values['max-delay-ms'])));

const seeds = readdirSync(join(ROOT, 'seeds')).map((f) => readFileSync(join(ROOT, 'seeds', f), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'newsdedup-crash-'));
const modelDir = values['model-dir'] ?? makeTinyModel({ outDir: join(work, 'tiny'), texts: seeds });
if (!values['model-dir']) writeFileSync(join(work, 'newsdedup.config.json'), JSON.stringify({ thresholds: { sameLanguage: 0.8, crossLanguage: 0.8, merge: 0.95 } }));

let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
  return seed / 2 ** 32;
};
const vocabulary = [...new Set(seeds.join(' ').match(/[\p{L}\p{N}]+/gu) ?? [])];
const text = (n: number) => Array.from({ length: n }, (_, k) => `${vocabulary[Math.floor(rand() * vocabulary.length)]}${k % 20 === 19 ? '.\n' : ''}`).join(' ');

interface Article {
  id: string;
  title: string;
  text: string;
}
let next = 0;
const sent = new Map<string, Article>();
function newArticle(): Article {
  const i = next++;
  // Every fourth article is an edited copy of an earlier one, so clusters form.
  const copyOf = i > 4 && i % 4 === 0 ? sent.get(`a-${Math.floor(rand() * (i - 1))}`) : undefined;
  const a = { id: `a-${i}`, title: copyOf ? copyOf.title : `Story ${i}`, text: copyOf ? `${copyOf.text}\nUpdated at ${i}.` : text(80 + Math.floor(rand() * 120)) };
  sent.set(a.id, a);
  return a;
}

function start(): Promise<{ proc: ChildProcess; url: string; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const proc = spawn(process.execPath, [BIN, 'worker', '--port', '0', '--json', '--model-dir', modelDir], {
    cwd: work,
    env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'info', NEWSDEDUP_BATCH_SIZE: '16', NEWSDEDUP_LOCK_WAIT: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; url: string };
      if (msg.event === 'listening') resolve({ proc, url: msg.url, stderr: () => err, exited });
    });
    void exited.then(({ code }) => reject(new Error(`worker exited (${code}) before listening:\n${err}`)));
  });
}

const acknowledged = new Set<string>();
let unanswered: Article[][] = [];
let lostRequests = 0;
const rounds: { round: number; delayMs: number; acked: number; lost: number; pendingAfterKill: number; rebuilt: boolean; leftPending: number }[] = [];

async function send(url: string, batch: Article[]): Promise<boolean> {
  try {
    const res = await fetch(`${url}/articles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    await res.text();
    if (res.status === 202) {
      for (const a of batch) acknowledged.add(a.id);
      return true;
    }
    if (res.status !== 429 && res.status !== 503) throw new Error(`unexpected ${res.status}`);
  } catch (err) {
    if ((err as Error).message.startsWith('unexpected')) throw err;
  }
  lostRequests++;
  unanswered.push(batch);
  return false;
}

function pendingJobs(): number {
  const db = new Database(join(work, 'newsdedup.db'), { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM jobs WHERE status = 'pending'").pluck().get() as number;
  } finally {
    db.close();
  }
}

const t0 = performance.now();
for (let round = 1; round <= ROUNDS; round++) {
  const w = await start();
  const leftPending = Number(/"pending":(\d+),"msg":"processing jobs left pending/.exec(w.stderr())?.[1] ?? 0);
  const rebuilt = /rebuilding vector index/.test(w.stderr());
  const ackedBefore = acknowledged.size;
  const lostBefore = lostRequests;
  const resend = unanswered;
  unanswered = [];
  let alive = true;
  const delayMs = Math.floor(50 + rand() * (MAX_DELAY - 50));
  const killer = new Promise<void>((resolve) =>
    setTimeout(() => {
      alive = false;
      w.proc.kill('SIGKILL');
      resolve();
    }, delayMs),
  );
  await Promise.all([
    killer,
    ...Array.from({ length: CLIENTS }, async (_, c) => {
      // The first client re-sends what the last round left unanswered.
      if (c === 0) for (const batch of resend) if (alive) await send(w.url, batch);
      else unanswered.push(batch);
      while (alive) await send(w.url, Array.from({ length: 1 + Math.floor(rand() * 20) }, newArticle));
    }),
  ]);
  await w.exited;
  rounds.push({ round, delayMs, acked: acknowledged.size - ackedBefore, lost: lostRequests - lostBefore, pendingAfterKill: pendingJobs(), rebuilt, leftPending });
}

// The last start: re-send what is left, drain, stop gracefully.
const w = await start();
for (const batch of unanswered.splice(0)) if (!(await send(w.url, batch))) throw new Error('a request failed on the final run');
for (;;) {
  const h = (await (await fetch(`${w.url}/healthz`)).json()) as { queueDepth: number };
  if (h.queueDepth === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
w.proc.kill('SIGTERM');
const exit = await w.exited;

const db = new Database(join(work, 'newsdedup.db'), { readonly: true });
const problems: string[] = [];
const stored = db.prepare('SELECT id, title, text FROM articles').all() as { id: string; title: string; text: string }[];
const storedIds = new Set(stored.map((r) => r.id));
for (const id of acknowledged) if (!storedIds.has(id)) problems.push(`acknowledged ${id} not stored`);
for (const id of storedIds) if (!sent.has(id)) problems.push(`stored ${id} was never sent`);
const q = (sql: string) => db.prepare(sql).pluck().get() as number;
if (q("SELECT count(*) FROM jobs WHERE status = 'pending'")) problems.push('jobs left pending');
if (q("SELECT count(*) FROM jobs WHERE status = 'failed'")) problems.push('jobs failed');
if (q('SELECT count(*) FROM (SELECT 1 FROM matches GROUP BY article_id, matched_id HAVING count(*) > 1)')) problems.push('evidence stored twice');
if (q('SELECT count(*) FROM (SELECT 1 FROM windows GROUP BY article_rowid, idx HAVING count(*) > 1)')) problems.push('windows stored twice');
if (q('SELECT sum(size) FROM clusters WHERE merged_into IS NULL') !== stored.length) problems.push('cluster sizes do not add up');
const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const firstTitles = new Map(stored.map((r) => [r.id, r.title]));
for (const [id, a] of sent) if (storedIds.has(id) && firstTitles.get(id) !== a.title) problems.push(`${id} stored with another title`);
// Jobs re-processed after a crash between the batch commit and marking the jobs done: their
// article was sent once, yet the job's outcome says unchanged (the first processing stored it).
const replayed = q(`SELECT count(*) FROM jobs j WHERE json_extract(j.outcome, '$.status') = 'unchanged'
                    AND (SELECT count(*) FROM jobs k WHERE k.article_id = j.article_id) = 1`);
const duplicateJobs = q('SELECT count(*) FROM (SELECT article_id FROM jobs GROUP BY article_id HAVING count(*) > 1)');
db.close();
const stats = JSON.parse(execFileSync(process.execPath, [BIN, 'stats', '--json'], { cwd: work, env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'silent' } }).toString()) as {
  articles: number;
  index: { current: boolean; vectors: number };
};
if (!stats.index.current || stats.index.vectors !== stats.articles) problems.push(`index not current: ${JSON.stringify(stats.index)}`);
if (exit.code !== 0) problems.push(`graceful stop exited ${exit.code}`);
void hash;

for (const r of rounds) {
  console.log(
    `round ${String(r.round).padStart(3)}: killed after ${String(r.delayMs).padStart(5)} ms, ${String(r.acked).padStart(4)} acknowledged, ${r.lost} request(s) unanswered, ` +
      `${r.pendingAfterKill} job(s) pending after the kill; at start: ${r.leftPending} pending, index ${r.rebuilt ? 'rebuilt' : 'loaded'}`,
  );
}
console.log(
  `${ROUNDS} kill -9 rounds in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${acknowledged.size} articles acknowledged, ${stored.length} stored, ` +
    `${duplicateJobs} article(s) sent twice (unanswered, re-sent), ${replayed} job(s) re-processed after a commit whose jobs were not yet marked; ` +
    `index ${stats.index.vectors} vectors, ${stats.index.current ? 'current' : 'STALE'}; graceful stop exit ${exit.code}`,
);
if (problems.length) {
  console.log(`FAILED:\n  ${problems.slice(0, 20).join('\n  ')}`);
  console.log(`database kept in ${work}`);
  process.exit(1);
}
console.log('OK: every acknowledged article stored exactly once, nothing else stored, index matches the database');
if (values.keep) console.log(`database kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
