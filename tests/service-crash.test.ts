// The crash test: a real `newsdedup worker` process (bin/newsdedup.js) takes articles over HTTP
// and is killed with SIGKILL twice, mid-stream and while draining its pending jobs; the client
// re-sends what was not acknowledged, as a real client would. After the last restart and a
// SIGTERM (exit 0), every accepted article is stored exactly once and the index matches SQLite.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, FIXTURE_TEXTS, ROOT, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const BIN = join(ROOT, 'bin', 'newsdedup.js');
let model: string;

beforeAll(() => {
  model = tinyModel();
});

interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startChild(dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [BIN, 'worker', '--port', '0', '--json', '--model-dir', model], {
    cwd: dir,
    env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'info', NEWSDEDUP_BATCH_SIZE: '8', NEWSDEDUP_LOCK_WAIT: '20' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 60 s:\n${err}`)), 60_000);
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; url?: string };
      if (msg.event === 'listening') {
        clearTimeout(timer);
        resolve(msg.url!);
      }
    });
    void exited.then(({ code }) => reject(new Error(`worker exited (${code}) before listening:\n${err}`)));
  });
  return { proc, url, stderr: () => err, exited };
}

const BASES = [FIXTURE_TEXTS.quake, FIXTURE_TEXTS.budget, FIXTURE_TEXTS.match];
/** Articles in groups of near-duplicates (a base story with a distinct closing sentence), so clusters form as they go. */
const makeArticle = (i: number) => ({
  id: `art-${String(i).padStart(3, '0')}`,
  title: `Story ${i % 3}`,
  text: `${BASES[i % 3]!}\nUpdate ${i}: officials said more details would follow ${i % 2 ? 'on Monday' : 'next week'}.`,
  lang: 'en',
});

async function post(url: string, articles: object[]): Promise<'accepted' | 'refused' | 'lost'> {
  try {
    const res = await fetch(`${url}/articles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(articles) });
    await res.text();
    return res.status === 202 ? 'accepted' : 'refused';
  } catch {
    return 'lost'; // the connection died with the worker: not acknowledged
  }
}

async function health(url: string): Promise<{ queueDepth: number }> {
  return (await (await fetch(`${url}/healthz`)).json()) as { queueDepth: number };
}

describe('crash safety', () => {
  it('kill -9 mid-stream and mid-drain, restart: every accepted article stored exactly once, index current', async () => {
    const dir = tempDir('newsdedup-crash-');
    writeTinyConfig(dir);
    const N = 120;
    const requests = Array.from({ length: N / 5 }, (_, r) => Array.from({ length: 5 }, (_, k) => makeArticle(r * 5 + k)));
    const accepted = new Set<string>();
    const unacknowledged: ReturnType<typeof makeArticle>[][] = [];

    // Run 1: post; SIGKILL right after the 8th acknowledgement, while its batch is being processed
    // and the next requests are in flight.
    let child = await startChild(dir);
    let acks = 0;
    const inFlight: Promise<void>[] = [];
    for (const [r, batch] of requests.entries()) {
      if (r >= 14) {
        unacknowledged.push(batch);
        continue;
      }
      const p = post(child.url, batch).then((outcome) => {
        if (outcome === 'accepted') {
          for (const a of batch) accepted.add(a.id);
          if (++acks === 8) child.proc.kill('SIGKILL');
        } else unacknowledged.push(batch);
      });
      inFlight.push(p);
      if (inFlight.length % 2 === 0) await Promise.all(inFlight.slice(-2)); // two requests at a time
    }
    await Promise.all(inFlight);
    expect((await child.exited).signal).toBe('SIGKILL');
    expect(accepted.size).toBeGreaterThanOrEqual(40);

    // Run 2: restart; the client re-sends everything not acknowledged in one request, and the
    // worker is killed shortly after it answers 202, while those jobs are being processed.
    const acceptedRun1 = accepted.size;
    child = await startChild(dir);
    const resend = unacknowledged.splice(0).flat();
    const res = await fetch(`${child.url}/articles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(resend) });
    const body = (await res.json()) as { queueDepth: number };
    await new Promise((r) => setTimeout(r, 30));
    child.proc.kill('SIGKILL');
    expect(res.status).toBe(202);
    for (const a of resend) accepted.add(a.id);
    await child.exited;

    // Run 3: restart, re-send anything left, drain, then a graceful stop.
    child = await startChild(dir);
    const until = performance.now() + 60_000;
    while ((await health(child.url)).queueDepth > 0) {
      if (performance.now() > until) throw new Error('queue did not drain');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(0);
    expect(child.stderr()).toMatch(/worker stopped: index saved, lock released/);
    // Off a terminal every stderr line is a JSON log event (`journalctl -o cat | jq`): Fastify's
    // deprecation warning for the top-level maxParamLength option was a plain-text line.
    for (const line of child.stderr().trimEnd().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
    expect(accepted.size).toBe(N);

    const db = new Database(join(dir, 'newsdedup.db'), { readonly: true });
    try {
      const ids = db.prepare('SELECT id FROM articles ORDER BY id').pluck().all() as string[];
      expect(ids).toEqual([...accepted].sort());
      expect(db.prepare("SELECT count(*) FROM jobs WHERE status = 'pending'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT count(*) FROM jobs WHERE status = 'failed'").pluck().get()).toBe(0);
      // No evidence recorded twice, no window stored twice, cluster sizes add up.
      expect(db.prepare('SELECT count(*) FROM (SELECT 1 FROM matches GROUP BY article_id, matched_id HAVING count(*) > 1)').pluck().get()).toBe(0);
      expect(db.prepare('SELECT count(*) FROM (SELECT 1 FROM windows GROUP BY article_rowid, idx HAVING count(*) > 1)').pluck().get()).toBe(0);
      expect(db.prepare('SELECT sum(size) FROM clusters WHERE merged_into IS NULL').pluck().get()).toBe(N);
      // The tiny model puts each base story's variants together.
      expect(db.prepare('SELECT count(*) FROM clusters WHERE merged_into IS NULL AND size > 1').pluck().get()).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
    const stats = (await cli(['stats', '--json'], { cwd: dir })).json();
    expect(stats).toMatchObject({ articles: N, index: { exists: true, current: true, vectors: N } });
    const leftPending = Number(/"pending":(\d+),"msg":"processing jobs left pending/.exec(child.stderr())?.[1] ?? 0);
    // For the record (the test log): how much was in flight at each kill.
    console.info(`crash test: ${acceptedRun1} acknowledged before the first kill, ${resend.length} re-sent, queue ${body.queueDepth} at the second kill, ${leftPending} jobs left pending for the third run`);
  });
});
