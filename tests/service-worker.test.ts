// The worker's guarantees in-process, with real SQLite and the tiny real model: the single-writer
// lock (a second worker or a cron `ingest` is refused with the database and the holder named),
// the inbox folder (done/ and failed/ with .error.txt), re-processing of jobs whose batch was
// committed but not marked (exactly once), graceful stop, and the configuration keys.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobStore } from '../db/jobs.ts';
import { type Config, loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { articleFromJson } from '../worker/input.ts';
import { createLogger } from '../worker/log.ts';
import { Pipeline } from '../worker/pipeline.ts';
import { WriterLock } from '../worker/service/lock.ts';
import { startWorker } from '../worker/service/worker.ts';
import { cli, FIXTURE_TEXTS, jsonl, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const silent = createLogger('silent');
let model: string;

beforeAll(() => {
  model = tinyModel();
});

function setup(flags: Record<string, unknown> = {}): { dir: string; config: Config } {
  const dir = tempDir('newsdedup-worker-');
  writeTinyConfig(dir);
  return { dir, config: loadConfig({ cwd: dir, env: {}, flags: { modelDir: model, http: { port: 0 }, ...flags } }) };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('single writer', () => {
  it('refuses a second worker and a cron ingest while a worker runs, naming the database and the holder', async () => {
    const { dir, config } = setup({ lockWait: 0 });
    const worker = await startWorker(config, silent);
    try {
      const t0 = performance.now();
      await expect(startWorker(config, silent)).rejects.toThrow(
        new RegExp(`database ${config.db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is being written by pid ${process.pid} on .* \\(newsdedup worker, since `),
      );
      expect(performance.now() - t0).toBeLessThan(2000);

      const input = join(dir, 'cron.jsonl');
      writeFileSync(input, jsonl([{ id: 'cron-1', text: FIXTURE_TEXTS.quake }]));
      const t1 = performance.now();
      const cron = await cli(['ingest', input, '--model-dir', model], { cwd: dir, env: { NEWSDEDUP_LOCK_WAIT: '1' } });
      expect(performance.now() - t1).toBeGreaterThanOrEqual(900); // it waited for the lock
      expect(cron.code).toBe(1);
      expect(cron.stderr).toMatch(/newsdedup: database .*newsdedup\.db is being written by pid \d+ .*newsdedup worker.*waited 1 s/);
      expect(cron.stderr).toMatch(/POST \/articles/);

      // Readers need no lock.
      expect((await cli(['stats', '--json'], { cwd: dir })).code).toBe(0);
      expect(WriterLock.holder(config.db)).toMatchObject({ pid: process.pid, command: 'newsdedup worker' });
    } finally {
      expect(await worker.stop()).toBe(true);
    }
    // Released on stop: the cron run now goes through, and the lock is free again afterwards.
    const input = join(dir, 'cron.jsonl');
    const after = await cli(['ingest', input, '--model-dir', model, '--json'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(after.json().ingested).toBe(1);
    expect(WriterLock.holder(config.db)).toBeUndefined();
  });

  it('lets a waiting writer in as soon as the holder lets go', async () => {
    const { config } = setup();
    const first = WriterLock.tryAcquire(config.db, 'first');
    expect(first.lock).toBeDefined();
    expect(WriterLock.tryAcquire(config.db, 'second')).toMatchObject({ holder: { command: 'first', pid: process.pid } });
    setTimeout(() => first.lock!.release(), 300);
    const second = await WriterLock.acquire(config.db, { command: 'second', waitMs: 5000, pollMs: 50 });
    expect(WriterLock.holder(config.db)).toMatchObject({ command: 'second' });
    second.release();
  });
});

/** A worker watching `inbox/` (scanned every 40 ms), with the warnings it logs. */
async function inboxWorker(inboxSettleSeconds: number) {
  const { dir, config } = setup({ inbox: 'inbox', inboxSettleSeconds });
  const warnings: Record<string, unknown>[] = [];
  const log = { ...silent, warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ ...fields, msg }) } as typeof silent;
  return { inbox: join(dir, 'inbox'), warnings, worker: await startWorker(config, log, { inboxPollMs: 40 }) };
}

describe('inbox folder', () => {
  it('ingests dropped files and moves them to done/ or failed/ with an .error.txt', async () => {
    const { dir, config } = setup({ inbox: 'inbox', inboxSettleSeconds: 0 });
    const inbox = join(dir, 'inbox');
    const worker = await startWorker(config, silent, { inboxPollMs: 40 });
    try {
      writeFileSync(join(inbox, 'good.jsonl'), jsonl([{ id: 'g1', text: FIXTURE_TEXTS.quake }, { id: 'g2', text: FIXTURE_TEXTS.budget }]));
      writeFileSync(
        join(inbox, 'mixed.jsonl'),
        `${JSON.stringify({ id: 'm1', text: FIXTURE_TEXTS.match })}\nnot json\n${JSON.stringify({ id: 'm2', html: '<p> </p>' })}\n`,
      );
      writeFileSync(join(inbox, 'story.txt'), `A story\n${FIXTURE_TEXTS.budgetFr}\n`);
      writeFileSync(join(inbox, 'notes.pdf'), 'binary-ish');
      writeFileSync(join(inbox, '.partial.jsonl'), 'still being written');
      await until(() => readdirSync(inbox).filter((f) => !f.startsWith('.') && f !== 'done' && f !== 'failed').length === 0, 'the inbox to empty');
      await worker.runner.whenDrained();

      expect(readdirSync(join(inbox, 'done')).sort()).toEqual(['good.jsonl', 'story.txt']);
      expect(readdirSync(join(inbox, 'failed')).sort()).toEqual(['mixed.jsonl', 'mixed.jsonl.error.txt', 'notes.pdf', 'notes.pdf.error.txt']);
      const mixed = readFileSync(join(inbox, 'failed', 'mixed.jsonl.error.txt'), 'utf8');
      expect(mixed).toMatch(/1 article\(s\) of this file were ingested/);
      // Each problem located once (it read "line 3 (m2): inbox/mixed.jsonl:3 (m2): ...").
      expect(mixed).toMatch(/^line 2: malformed JSON/m);
      expect(mixed).toMatch(/^line 3 \(m2\): article has no text after cleaning/m);
      expect(readFileSync(join(inbox, 'failed', 'notes.pdf.error.txt'), 'utf8')).toMatch(/unsupported file type ".pdf"/);
      expect(existsSync(join(inbox, '.partial.jsonl'))).toBe(true);
      for (const id of ['g1', 'g2', 'm1', 'story']) expect(worker.ctx.store.articleById(id), id).toBeDefined();
      expect(worker.ctx.store.articleById('m2')).toBeUndefined();

      // The same name again later is a new file: it gets a name of its own in done/.
      writeFileSync(join(inbox, 'good.jsonl'), jsonl([{ id: 'g3', text: FIXTURE_TEXTS.match }]));
      await until(() => existsSync(join(inbox, 'done', 'good.1.jsonl')), 'the second good.jsonl');
      await worker.runner.whenDrained();
      expect(worker.ctx.store.articleById('g3')).toBeDefined();
    } finally {
      expect(await worker.stop()).toBe(true);
    }
  });

  it('leaves a file changed after it was taken, to be taken in its turn, instead of moving it away unread', async () => {
    // The file at the name when the taken one's jobs finished was moved to done/ whatever it was:
    // a new file renamed over it, or the rest of a slow copy, went there unread.
    const { inbox, warnings, worker } = await inboxWorker(1);
    try {
      worker.runner.pause(); // the taken file's jobs finish only once the new file is in place
      const feed = join(inbox, 'feed.jsonl');
      writeFileSync(feed, jsonl([{ id: 'first-1', text: FIXTURE_TEXTS.quake }]));
      const longAgo = new Date(Date.now() - 60_000);
      utimesSync(feed, longAgo, longAgo); // settled: taken at the next scans
      await until(() => worker.jobs.countByStatus().pending + worker.jobs.countByStatus().done === 1, 'the first feed.jsonl taken');
      // Written under another name and renamed over it, as the docs advise: new, so not settled yet.
      writeFileSync(`${feed}.tmp`, jsonl([{ id: 'second-1', text: FIXTURE_TEXTS.budget }, { id: 'second-2', text: FIXTURE_TEXTS.match }]));
      renameSync(`${feed}.tmp`, feed);
      worker.runner.resume();
      await until(() => worker.ctx.store.articleById('first-1') !== undefined, 'the first file ingested');
      await until(() => existsSync(join(inbox, 'done', 'feed.jsonl')), 'feed.jsonl in done/');
      await worker.runner.whenDrained();
      for (const id of ['first-1', 'second-1', 'second-2']) expect(worker.ctx.store.articleById(id), id).toBeDefined();
      expect(readdirSync(join(inbox, 'done'))).toEqual(['feed.jsonl']);
      expect(readFileSync(join(inbox, 'done', 'feed.jsonl'), 'utf8')).toMatch(/second-2/);
      expect(warnings).toMatchObject([{ file: 'feed.jsonl', msg: 'inbox file changed after it was taken: left in the inbox to be taken again' }]);
    } finally {
      expect(await worker.stop()).toBe(true);
    }
  });

  it('logs a warning naming the file and the reason when a file goes to failed/ without any article taken', async () => {
    const { inbox, warnings, worker } = await inboxWorker(0);
    try {
      writeFileSync(join(inbox, 'empty.jsonl'), '');
      writeFileSync(join(inbox, 'bin.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));
      writeFileSync(join(inbox, 'weird.bin'), 'whatever');
      writeFileSync(join(inbox, 'bad.jsonl'), `${JSON.stringify({ id: 'x1' })}\nnope\n{"id":"x3","text":42}\n{"id":"x4"}\n`);
      await until(() => readdirSync(join(inbox, 'failed')).length === 8, 'four files in failed/');
      expect(warnings.map((w) => w.file).sort()).toEqual(['bad.jsonl', 'bin.txt', 'empty.jsonl', 'weird.bin']);
      const of = (file: string) => warnings.find((w) => w.file === file)!;
      expect(of('empty.jsonl')).toMatchObject({ msg: expect.stringMatching(/failed\//), reason: 'no article in this file', movedTo: 'failed/empty.jsonl' });
      expect(of('bin.txt').reason).toMatch(/binary file/);
      expect(of('weird.bin').reason).toMatch(/unsupported file type "\.bin"/);
      expect(of('bad.jsonl')).toMatchObject({ problems: 4, reason: expect.stringMatching(/^line 1 \(x1\): article has no "text" or "html".*; line 2: malformed JSON.*; line 3 \(x3\): .*; and 1 more in bad\.jsonl\.error\.txt$/) });
    } finally {
      expect(await worker.stop()).toBe(true);
    }
  });
});

describe('an address it cannot listen on', () => {
  it('is a setup error naming the address and the setting, and leaves the database free for the next start', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const { config } = setup({ http: { port } });
    try {
      // It printed the bare "listen EADDRINUSE: address already in use 127.0.0.1:<port>" (exit 1).
      await expect(startWorker(config, silent)).rejects.toMatchObject({ name: 'UsageError', message: `cannot listen on 127.0.0.1 port ${port}: the port is in use (another worker or program): choose another with --port or http.port (EADDRINUSE)` });
    } finally {
      taken.close();
    }
    const worker = await startWorker({ ...config, http: { ...config.http, port: 0 } }, silent);
    expect(await worker.stop()).toBe(true);
  });
});

describe('a full disk', () => {
  it('keeps the jobs of a batch it cannot commit pending, without counting attempts, and stores them once there is room', async () => {
    // It recorded an attempt (a write, which failed too, and ended the worker); had that write
    // passed, three tries would have failed the articles for good over a transient condition.
    const { config } = setup();
    // Waits of 250 ms, then 500 ms: the check that new jobs do not bring a try forward runs inside
    // the second (with 50 ms a busy machine let the next try fall into it).
    const worker = await startWorker(config, silent, { diskFullRetryMs: 250 });
    const transaction = worker.ctx.store.transaction.bind(worker.ctx.store);
    let full = true;
    let refused = 0;
    // Fault injection at the edge SQLite owns: commits fail as on a full disk until `full` is cleared.
    worker.ctx.store.transaction = ((fn: () => unknown) => {
      if (full) {
        refused++;
        throw Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
      }
      return transaction(fn as never);
    }) as typeof worker.ctx.store.transaction;
    try {
      worker.jobs.enqueue([{ article: { id: 'full-1', text: FIXTURE_TEXTS.quake }, origin: 'POST /articles' }, { article: { id: 'full-2', text: FIXTURE_TEXTS.budget }, origin: 'POST /articles' }]);
      worker.runner.accepted(2, 'http');
      await until(() => refused >= 2, 'two refused tries');
      // New jobs do not bring the next try forward (each try redoes the batch): only the wait does.
      const tries = refused;
      worker.runner.accepted(0, 'http');
      await new Promise((r) => setTimeout(r, 30));
      expect(refused).toBe(tries);
      // Alive, and saying why nothing is stored (it said "ok").
      const health = (await (await fetch(`${worker.url}/healthz`)).json()) as { status: string; problem?: string };
      expect(health).toMatchObject({ status: 'degraded', problem: expect.stringMatching(/^disk full since \d{4}-/) });
      // Intake while the disk is full: 503 with Retry-After, as when stopping (it answered 500).
      const enqueue = worker.jobs.enqueue.bind(worker.jobs);
      worker.jobs.enqueue = () => {
        throw Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
      };
      const res = await fetch(`${worker.url}/articles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'full-3', text: FIXTURE_TEXTS.match }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(((await res.json()) as { message: string }).message).toMatch(/^disk full: .*retry later$/);
      worker.jobs.enqueue = enqueue;
      expect(worker.jobs.countByStatus()).toMatchObject({ pending: 2 });
      expect(worker.ctx.store.db.prepare('SELECT max(attempts) FROM jobs').pluck().get()).toBe(0);
      full = false;
      await worker.runner.whenDrained();
      expect(worker.jobs.countByStatus()).toMatchObject({ pending: 0, done: 2 });
      for (const id of ['full-1', 'full-2']) expect(worker.ctx.store.articleById(id), id).toBeDefined();
      expect(((await (await fetch(`${worker.url}/healthz`)).json()) as { status: string }).status).toBe('ok');
    } finally {
      expect(await worker.stop()).toBe(true);
    }
  });
});

describe('exactly once', () => {
  it('re-processes jobs whose batch was committed but not marked done, writing nothing twice', async () => {
    const { config } = setup({ batchSize: 4 });
    const articles = [
      { id: 'a', title: 'Quake', text: FIXTURE_TEXTS.quake },
      { id: 'b', title: 'Quake', text: FIXTURE_TEXTS.quake.replace('Monday', 'Tuesday') },
      { id: 'c', title: 'Budget', text: FIXTURE_TEXTS.budget },
    ];
    // A worker that died between the two transactions: jobs committed, the batch committed, the jobs still pending.
    const ctx = await openContext(config, silent, { writer: 'test' });
    const jobs = new JobStore(ctx.store.db);
    jobs.enqueue(articles.map((a) => ({ article: a, origin: 'POST /articles' })));
    const first = await new Pipeline(ctx).ingest(
      (async function* () {
        for (const a of articles) yield articleFromJson(a, 'POST /articles');
      })(),
    );
    expect(first.ingested).toBe(3);
    ctx.close();
    const before = countRows(config.db);

    const worker = await startWorker(config, silent);
    try {
      await worker.runner.whenDrained();
      expect(worker.jobs.countByStatus()).toMatchObject({ pending: 0, done: 3 });
      for (const a of articles) expect(worker.jobs.latestForArticle(a.id)?.outcome?.status).toBe('unchanged');
    } finally {
      await worker.stop();
    }
    expect(countRows(config.db)).toEqual(before);
  });

  it('processes only the newest version when one id is queued twice in a batch', async () => {
    const { config } = setup();
    const worker = await startWorker(config, silent);
    try {
      worker.runner.pause();
      worker.jobs.enqueue([
        { article: { id: 'v', text: FIXTURE_TEXTS.quake }, origin: 'test' },
        { article: { id: 'w', text: FIXTURE_TEXTS.budget }, origin: 'test' },
        { article: { id: 'v', text: FIXTURE_TEXTS.match }, origin: 'test' },
      ]);
      worker.runner.accepted(3, 'test');
      worker.runner.resume();
      await worker.runner.whenDrained();
      expect(worker.jobs.countByStatus()).toMatchObject({ pending: 0, done: 2, superseded: 1 });
      expect(worker.ctx.store.articleById('v')!.text).toBe(FIXTURE_TEXTS.match);
    } finally {
      await worker.stop();
    }
  });
});

describe('a backlog', () => {
  it('is drained a batch at a time with the event loop served in between: requests are answered and a stop waits for one batch only', async () => {
    const { config } = setup({ batchSize: 2, threads: 0 });
    const worker = await startWorker(config, silent);
    let stopped = false;
    try {
      const n = 400;
      worker.runner.pause();
      worker.jobs.enqueue(Array.from({ length: n }, (_, i) => ({ article: { id: `b${i}`, text: `${FIXTURE_TEXTS.quake} Report ${i}.` }, origin: 'test' })));
      worker.runner.accepted(n, 'test');
      worker.runner.resume();
      // Before the fix, the drain ran batch after batch without the event loop's turn: this
      // request was answered after the whole backlog.
      const health = (await (await fetch(`${worker.url}/healthz`)).json()) as { queueDepth: number };
      expect(health.queueDepth).toBeGreaterThan(n / 2);
      const batchesAtStop = worker.runner.batches;
      expect(await worker.stop()).toBe(true);
      stopped = true;
      // The batch in flight is finished; the rest stays pending for the next start.
      expect(worker.runner.batches - batchesAtStop).toBeLessThanOrEqual(1);
      const conn = new Database(config.db, { readonly: true });
      try {
        expect(conn.prepare("SELECT count(*) FROM jobs WHERE status = 'pending'").pluck().get()).toBeGreaterThan(n / 2);
      } finally {
        conn.close();
      }
    } finally {
      if (!stopped) await worker.stop();
    }
  });
});

describe('stopping', () => {
  /** A request written in two parts on its own connection: the head now, the final blank line when `finish` is called. */
  function slowRequest(port: number, head: string): { finish: () => void; answer: Promise<string> } {
    const socket = connect(port, '127.0.0.1');
    socket.write(head);
    let text = '';
    socket.on('data', (d) => (text += d));
    const answer = new Promise<string>((resolve) => {
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    return { finish: () => socket.write('\r\n'), answer };
  }

  it('answers 503 from the signal on (healthz: "stopping"; others: Retry-After) to requests it still reads, and refuses new connections once closed', async () => {
    const { config } = setup();
    const worker = await startWorker(config, silent);
    const health = slowRequest(worker.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const clusters = slowRequest(worker.port, 'GET /clusters HTTP/1.1\r\nHost: x\r\n');
    const post = slowRequest(worker.port, 'POST /articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const stopped = worker.stop();
    await new Promise((r) => setTimeout(r, 100)); // the server is closing: these connections were open before
    const refused = await fetch(`${worker.url}/healthz`).then(
      (r) => `answered ${r.status}`,
      (err: Error & { cause?: { code?: string } }) => err.cause?.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    for (const r of [health, clusters, post]) r.finish();
    const [h, c, p] = await Promise.all([health.answer, clusters.answer, post.answer]);
    expect(h).toMatch(/^HTTP\/1\.1 503 /);
    expect(h).toMatch(/\r\nretry-after: 5\r\n/i);
    expect(JSON.parse(h.slice(h.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'stopping', queueDepth: 0 });
    for (const answer of [c, p]) {
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nretry-after: 5\r\n/i);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'Service Unavailable', message: 'the worker is shutting down; retry shortly' });
    }
    expect(await stopped).toBe(true);
  });

  it('closes the connection of a request read before the signal and answered after it, and stops at once', async () => {
    const { config } = setup();
    const worker = await startWorker(config, silent, { shutdownTimeoutMs: 5000 });
    const body = JSON.stringify({ id: 'slow', text: FIXTURE_TEXTS.quake });
    const socket = connect(worker.port, '127.0.0.1');
    socket.write(`POST /articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    let text = '';
    socket.on('data', (d) => (text += d));
    const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const stopped = worker.stop();
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.slice(10));
    // Accepted (it was read before the signal), and told the connection ends: it had been kept
    // alive, and the worker waited for it until its shutdown timeout, then exited 1.
    const a = await answer;
    expect(a).toMatch(/^HTTP\/1\.1 202 /);
    expect(a).toMatch(/\r\nconnection: close\r\n/i);
    expect(await stopped).toBe(true);
    expect(performance.now() - t0).toBeLessThan(4000);
  });
});

/** Every table a double write would grow, and the write generation, read with a plain connection. */
function countRows(db: string): Record<string, number> {
  const conn = new Database(db, { readonly: true });
  try {
    const n = (sql: string) => conn.prepare(sql).pluck().get() as number;
    return {
      articles: n('SELECT count(*) FROM articles'),
      windows: n('SELECT count(*) FROM windows'),
      matches: n('SELECT count(*) FROM matches'),
      clusters: n('SELECT count(*) FROM clusters'),
      generation: Number(n("SELECT value FROM meta WHERE key = 'generation'")),
    };
  } finally {
    conn.close();
  }
}

describe('configuration', () => {
  it('reads the worker keys from the config file, the environment and flags, and names bad values', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ http: { port: 9000, token: 'file-token' }, inbox: 'drop', queueLimit: 50 }));
    const c = loadConfig({ cwd: dir, env: { NEWSDEDUP_HTTP_PORT: '9100', NEWSDEDUP_LOCK_WAIT: '0' }, flags: {} });
    expect(c.http).toEqual({ host: '127.0.0.1', port: 9100, token: 'file-token', bodyLimit: 10 * 1024 * 1024 });
    expect(c).toMatchObject({ inbox: join(dir, 'drop'), queueLimit: 50, lockWait: 0, indexSaveSeconds: 60 });
    expect(loadConfig({ cwd: dir, env: {}, flags: { http: { host: '0.0.0.0' } } }).http).toMatchObject({ host: '0.0.0.0', port: 9000 });
    // An environment error names the variable that was set.
    expect(() => loadConfig({ cwd: dir, env: { NEWSDEDUP_HTTP_PORT: '70000' } })).toThrow(/^NEWSDEDUP_HTTP_PORT must be an integer from 0 to 65535/);
    expect(() => loadConfig({ cwd: dir, env: { NEWSDEDUP_THREADS: 'abc' } })).toThrow(/^NEWSDEDUP_THREADS must be an integer/);
    expect(() => loadConfig({ cwd: dir, env: { NEWSDEDUP_ALLOW_REMOTE_MODELS: 'maybe' } })).toThrow(/^NEWSDEDUP_ALLOW_REMOTE_MODELS must be true or false/);
    writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ http: { prot: 1 } }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/unknown setting "http.prot"/);
    writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ queueLimit: 0 }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/queueLimit must be a positive integer/);
  });

  it('worker --inbox naming a file is a usage error (exit 2, one line), not a system error after the start', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'afile'), 'not a folder');
    const r = await cli(['worker', '--inbox', 'afile', '--port', '0', '--model-dir', model], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`newsdedup: inbox ${join(dir, 'afile')} is not a folder\n`);
    const below = await cli(['worker', '--inbox', 'afile/inbox', '--port', '0', '--model-dir', model], { cwd: dir });
    expect(below.code).toBe(2);
    expect(below.stderr).toBe(`newsdedup: inbox ${join(dir, 'afile', 'inbox')} cannot be a folder: ${join(dir, 'afile')} is a file\n`);
    expect(existsSync(join(dir, 'newsdedup.db'))).toBe(false); // refused before the database was opened
    // An inbox whose done/ cannot be made: a raw system error once the database had been created.
    mkdirSync(join(dir, 'drop'));
    writeFileSync(join(dir, 'drop', 'done'), 'a file where the folder goes');
    const blocked = await cli(['worker', '--inbox', 'drop', '--port', '0', '--model-dir', model], { cwd: dir });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(new RegExp(`^newsdedup: inbox ${join(dir, 'drop')}: cannot read and write folder ${join(dir, 'drop', 'done')} \\(E[A-Z]+\\): the worker moves taken files into done/ and failed/\n$`));
    expect(existsSync(join(dir, 'newsdedup.db'))).toBe(false);
  });

  it('worker --help lists its options', async () => {
    const r = await cli(['worker', '--help'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--port <port>/);
    expect(r.stdout).toMatch(/--inbox <dir>/);
  });
});
