import { type ChildProcess, execFileSync, execSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FIXTURE_TEXTS, jsonl, ROOT, SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const bin = join(ROOT, 'bin', 'newsdedup.js');

/** A folder with the tiny model's config and `many.jsonl`: n short articles. */
function manyArticles(n: number): string {
  const dir = tempDir();
  writeTinyConfig(dir);
  const texts = Object.values(FIXTURE_TEXTS);
  writeFileSync(join(dir, 'many.jsonl'), jsonl(Array.from({ length: n }, (_, i) => ({ id: `a-${i}`, title: `story ${i}`, text: `${texts[i % texts.length]} ${i}` }))));
  return dir;
}

describe('the newsdedup executable', () => {
  it('runs from bin/ and exits with the documented codes', () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    const out = execFileSync(bin, ['ingest', SEEDS, '--model-dir', tinyModel(), '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'warn' } });
    expect(JSON.parse(out)).toMatchObject({ ingested: 3, rejected: 0 });
    const usage = spawnSync(bin, ['ingest'], { cwd: dir, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument/);
    const rejected = spawnSync(bin, ['ingest', join(dir, 'missing.jsonl'), '--model-dir', tinyModel()], { cwd: dir, encoding: 'utf8' });
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toMatch(/missing\.jsonl: cannot read: ENOENT/);
  });

  it('logs a warning when an id comes twice in one input (the later version wins) and when an input holds no article', () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    const article = (id: string, text: string) => ({ id, title: `${id} title`, text });
    writeFileSync(join(dir, 'twice.jsonl'), jsonl([article('t', FIXTURE_TEXTS.quake), article('u', FIXTURE_TEXTS.budget), article('t', FIXTURE_TEXTS.match)]));
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    const ingest = (file: string) => spawnSync(bin, ['ingest', file, '--model-dir', tinyModel(), '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'warn' } });
    const twice = ingest('twice.jsonl');
    expect(twice.status).toBe(0);
    const warnings = twice.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(warnings).toEqual([expect.objectContaining({ level: 40, id: 't', file: 'twice.jsonl', line: 3, msg: expect.stringMatching(/id read twice in this input/) })]);
    expect(JSON.parse(twice.stdout).articles.map((a: { id: string }) => a.id)).toEqual(['t', 'u', 't']);
    const empty = ingest('empty.jsonl');
    expect(empty.status).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ ingested: 0, rejected: 0 });
    expect(empty.stderr).toMatch(/no article found in empty\.jsonl/);
    // Files of a folder in types it does not read are named (saved .html pages were skipped silently; now read).
    mkdirSync(join(dir, 'feed'));
    writeFileSync(join(dir, 'feed', 'a.jsonl'), jsonl([article('f', FIXTURE_TEXTS.quake)]));
    writeFileSync(join(dir, 'feed', 'page.pdf'), '%PDF-1.7');
    const feed = ingest('feed');
    expect(feed.status).toBe(0);
    expect(feed.stderr.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 40, folder: 'feed', skipped: 1, files: ['page.pdf'], msg: expect.stringMatching(/^files of types not read skipped in feed \(files read: \.jsonl/) }),
    ]);
  });

  it('stops quietly when the reader closes the pipe early', () => {
    const dir = manyArticles(3000);
    const r = spawnSync('/bin/bash', ['-c', `"${bin}" ingest many.jsonl --model-dir "${tinyModel()}" --log-level silent > /dev/null && "${bin}" export | head -1; echo "status \${PIPESTATUS[0]}"`], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^\{"id":"a-\d+"[^\n]*\nstatus 0\n$/);
    expect(r.stderr).not.toMatch(/EPIPE/);
  });

  it('writes a large --json answer whole into a slow pipe', () => {
    const dir = manyArticles(1500);
    // The reader sleeps before reading, so the pipe buffer fills while newsdedup is finishing.
    execSync(`"${bin}" ingest many.jsonl --model-dir "${tinyModel()}" --json --log-level silent | (sleep 1; cat > out.json)`, { cwd: dir, shell: '/bin/bash' });
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(out.articles).toHaveLength(1500);
  });
});

// A database in a folder this user cannot write. Root may write anything, so as root the commands
// run as nobody through runuser (skipped where there is none); otherwise the folder is made read-only.
const asRoot = process.getuid?.() === 0;
const otherUser = asRoot && spawnSync('runuser', ['--version']).status === 0;

describe.skipIf(asRoot && !otherUser)('a database in a folder this user cannot write', () => {
  const asReader = (args: string[], cwd: string) =>
    asRoot
      ? spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, bin, ...args], { cwd, encoding: 'utf8' })
      : spawnSync(bin, args, { cwd, encoding: 'utf8' });

  /** A folder with the seeds ingested (the bundled model), and a way to set the modes of it and its files. */
  function seeded(): { dir: string; db: string; lockDown: (file: number, folder: number) => void } {
    const dir = tempDir();
    execFileSync(bin, ['ingest', SEEDS, '--log-level', 'silent'], { cwd: dir, encoding: 'utf8' });
    const files = readdirSync(dir);
    const lockDown = (file: number, folder: number) => {
      for (const f of files) chmodSync(join(dir, f), file);
      chmodSync(dir, folder);
    };
    return { dir, db: join(dir, 'newsdedup.db'), lockDown };
  }

  it('is read by stats, clusters, export and check without writing, or refused in one line when SQLite cannot read it', () => {
    const { dir, db, lockDown } = seeded();
    lockDown(0o444, 0o555);
    const bytes = readFileSync(db);
    const readers = [['stats'], ['clusters'], ['export'], ['check', join(SEEDS, '001_1731066e91127400.txt')]];
    try {
      // A WAL database is read through its -shm file, which nobody has created yet and this user cannot.
      for (const args of readers) {
        const r = asReader(args, dir);
        expect(r.status, args[0]).toBe(2);
        expect(r.stderr, args[0]).toMatch(new RegExp(`^newsdedup: cannot read database ${db}: SQLite reads a WAL database through newsdedup\\.db-shm beside it, which this user cannot create in ${dir} .*Run as a user who can write ${dir}, or read a copy\\n$`));
      }
      // While a writer has it open (the worker), the -shm file is there and readers read.
      const writer = new Database(db, { fileMustExist: true });
      try {
        writer.prepare('SELECT count(*) FROM articles').get();
        const outputs = readers.map((args) => {
          const r = asReader([...args, '--json'], dir);
          expect(r.stderr, args[0]).toBe('');
          expect(r.status, args[0]).toBe(0);
          return r.stdout;
        });
        expect(JSON.parse(outputs[0]!)).toMatchObject({ articles: 3 });
        expect(JSON.parse(outputs[3]!)).toMatchObject({ article: { id: '001_1731066e91127400' } });
      } finally {
        writer.close();
      }
      expect(readFileSync(db)).toEqual(bytes);
    } finally {
      lockDown(0o644, 0o755);
    }
  });

  it('is refused to a writer in one line, naming the file: a lock file or a database it may not write', () => {
    const { dir, db, lockDown } = seeded();
    const seed = join(SEEDS, '000_dfad1a769eb878c2.txt');
    try {
      lockDown(0o444, 0o555);
      const locked = asReader(['ingest', seed], dir);
      expect(locked.status).toBe(2);
      expect(locked.stderr).toBe(`newsdedup: cannot take the writer's lock ${db}.lock: the file is read-only for this user (attempt to write a readonly database)\n`);
      lockDown(0o444, 0o777);
      chmodSync(`${db}.lock`, 0o666);
      const readOnlyDb = asReader(['ingest', seed], dir);
      expect(readOnlyDb.status).toBe(2);
      expect(readOnlyDb.stderr).toBe(`newsdedup: cannot write database ${db}: the file is read-only for this user (attempt to write a readonly database)\n`);
    } finally {
      lockDown(0o644, 0o755);
    }
    expect(JSON.parse(execFileSync(bin, ['stats', '--json'], { cwd: dir, encoding: 'utf8' })).articles).toBe(3);
  });
});

describe('ingest stopped by a signal', () => {
  /** `n` short articles as JSON lines. */
  const articles = (n: number) => jsonl(Array.from({ length: n }, (_, i) => ({ id: `s-${i}`, title: `story ${i}`, text: `${Object.values(FIXTURE_TEXTS)[i % 4]} ${i}` })));
  const BATCH = 64;

  /** Resolves once the database holds `n` articles (the first batch is committed), polling it. */
  async function committed(db: string, n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const conn = new Database(db, { readonly: true, fileMustExist: true });
        try {
          if ((conn.prepare('SELECT count(*) FROM articles').pluck().get() as number) >= n) return;
        } finally {
          conn.close();
        }
      } catch {
        // not created yet
      }
      if (Date.now() > deadline) throw new Error(`${db} never held ${n} articles`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The status a shell reports: the exit code, or 128 + the number of the signal that ended the process. */
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : null))));

  it('says how many articles were committed, exits 143 on SIGTERM, and a second run resumes', async () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    const db = join(dir, 'newsdedup.db');
    // On stdin, kept open: after the first batch is committed, ingest waits for more input.
    const child = spawn(process.execPath, [bin, 'ingest', '-', '--model-dir', tinyModel(), '--log-level', 'silent'], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.write(articles(BATCH + 10));
    await committed(db, BATCH);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(143);
    expect(stderr).toBe(
      `newsdedup: stopped by SIGTERM: ${BATCH} articles committed to ${db} (stored, or found unchanged), the rest not stored; ` +
        'run the same command again to resume: what was committed is found unchanged\n',
    );
    writeFileSync(join(dir, 'all.jsonl'), articles(BATCH + 10));
    const again = JSON.parse(execFileSync(bin, ['ingest', 'all.jsonl', '--model-dir', tinyModel(), '--json', '--log-level', 'silent'], { cwd: dir, encoding: 'utf8' }));
    expect(again).toMatchObject({ ingested: 10, skipped: BATCH, rejected: 0 });
  });

  it('finishes in order, index saved, when the signal comes after the last commit', async () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    writeFileSync(join(dir, 'all.jsonl'), articles(10));
    // The CLI with a stdout that sends the process SIGTERM as the summary is written, after every
    // article is committed and before the index is saved.
    const entry = join(dir, 'stop-at-summary.mts');
    writeFileSync(
      entry,
      `import { runCli } from ${JSON.stringify(join(ROOT, 'worker', 'cli.ts'))};
let sent = false;
const stdout = { write(s: string) { if (!sent) { sent = true; process.kill(process.pid, 'SIGTERM'); } return process.stdout.write(s); } };
const code = await runCli(process.argv.slice(2), { stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });
process.stdout.write('', () => process.exit(code));
`,
    );
    const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', tsx, entry, 'ingest', 'all.jsonl', '--model-dir', tinyModel(), '--log-level', 'silent'], { cwd: dir });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // The signal's default action ended it inside the summary (143), and the index was never saved.
    expect(await exited(child)).toBe(0);
    expect(stdout).toMatch(/^ingested 10, unchanged 0, rejected 0/);
    expect(readdirSync(dir)).toContain('newsdedup.db.hnsw');
    const stats = JSON.parse(execFileSync(bin, ['stats', '--json', '--model-dir', tinyModel()], { cwd: dir, encoding: 'utf8' }));
    expect(stats.index).toMatchObject({ vectors: 10 });
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;

  it.skipIf(!hasScript)('on a terminal, Ctrl-C stops the progress bar (cursor and line wrap back on), says what was committed and exits 130', async () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    const db = join(dir, 'newsdedup.db');
    // stderr (the bar) on a terminal (script's pty); the articles come through a FIFO kept open.
    const fifo = join(dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const input = openSync(fifo, 'r+');
    const command = `"${process.execPath}" "${bin}" ingest - --model-dir "${tinyModel()}" --log-level silent < "${fifo}"`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: dir });
    let terminal = '';
    child.stdout.on('data', (d) => (terminal += d));
    try {
      writeSync(input, articles(BATCH + 10));
      await committed(db, BATCH);
      child.stdin.write('\x03'); // Ctrl-C, which the terminal turns into SIGINT
      expect(await exited(child)).toBe(130);
    } finally {
      closeSync(input);
    }
    const hidden = terminal.lastIndexOf('\x1b[?25l');
    expect(hidden).toBeGreaterThanOrEqual(0);
    const after = terminal.slice(hidden);
    expect(after).toContain('\x1b[?25h');
    expect(after).toContain('\x1b[?7h');
    expect(after).toMatch(new RegExp(`newsdedup: stopped by SIGINT: ${BATCH} articles committed to ${db.replace(/[.]/g, '\\.')} \\(stored, or found unchanged\\)`));
  });
});
