// The watched inbox folder. A file is taken once it has stopped changing (same size and
// modification time on two scans in a row, and unmodified for `settleMs`; files whose names start
// with "." or end in .tmp or .part are left alone, so writers can write under such a name and
// rename when done). Taking a file = reading and validating every article in it and committing
// them as jobs, with a record of the file, in one transaction. When all its jobs are finished the
// file is moved to done/, or to failed/ with `<name>.error.txt` beside it when any article of it
// was rejected (the others are ingested); unless the file at that name is no longer the one taken
// (written to since, or another renamed over it): that one is left to be taken in its turn. A
// crash at any point is resumed on restart: a file already recorded is not queued twice, and
// files whose jobs are all finished are moved then.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { InboxFileError, InboxFileRow, JobStore, NewJob } from '../../db/jobs.ts';
import { UsageError } from '../errors.ts';
import { isSupportedFile, readInputs, unsupportedFile } from '../input.ts';
import type { Logger } from '../log.ts';
import { jobArticle, type JobRunner } from './runner.ts';

const IGNORED = /^\.|\.(tmp|part|partial|swp)$|\.error\.txt$/i;

/** A setting that can never be a folder (a file, or a path below a file) is a usage error. */
function checkInboxFolder(dir: string): void {
  for (let path = dir; ; path = dirname(path)) {
    let st;
    try {
      st = statSync(path);
    } catch {
      if (dirname(path) === path) return;
      continue; // not there yet: created on start
    }
    if (st.isDirectory()) return;
    throw new UsageError(path === dir ? `inbox ${dir} is not a folder` : `inbox ${dir} cannot be a folder: ${path} is a file`);
  }
}

/** Where taken files go once their articles are done. */
const outcomeFolders = (dir: string) => ({ done: join(dir, 'done'), failed: join(dir, 'failed') });

/**
 * Makes the inbox and its done/ and failed/ folders, before the worker opens the database (a
 * folder it cannot write was a raw EACCES once the database was created), and says when it created
 * the inbox itself (a misspelt path would otherwise be watched silently).
 */
export function prepareInbox(dir: string, log: Logger): void {
  checkInboxFolder(dir);
  const created = !existsSync(dir);
  for (const d of [dir, ...Object.values(outcomeFolders(dir))]) {
    try {
      mkdirSync(d, { recursive: true });
      accessSync(d, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new UsageError(`inbox ${dir}: cannot ${existsSync(d) ? 'read and write' : 'create'} folder ${d} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the worker moves taken files into done/ and failed/`);
    }
  }
  if (created) log.info({ inbox: dir }, 'inbox folder created');
}

/**
 * One problem of an inbox file, located by line and id once: the messages themselves begin with
 * the file, line and id ("inbox/a.jsonl:2 (id): …"), which the .error.txt and the log said twice.
 */
function problemLine(name: string, e: InboxFileError, wholeFile: string): string {
  const origin = `inbox/${name}`;
  const reason = e.message.startsWith(origin) ? e.message.slice(origin.length).replace(/^(:\d+)?( \([^)]*\))?: /, '') : e.message;
  const where = e.line !== undefined ? `line ${e.line}` : wholeFile;
  return `${where ? `${where}${e.id ? ` (${e.id})` : ''}: ` : ''}${reason}`;
}

export interface InboxOptions {
  pollMs?: number;
  /** How long a file must have gone unmodified before it is taken (a slow copy pauses between writes). */
  settleMs: number;
  queueLimit: number;
}

export class InboxWatcher {
  readonly doneDir: string;
  readonly failedDir: string;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;
  private lastSeen = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly jobs: JobStore,
    private readonly runner: JobRunner,
    private readonly log: Logger,
    private readonly opts: InboxOptions,
  ) {
    ({ done: this.doneDir, failed: this.failedDir } = outcomeFolders(dir));
  }

  /** Starts watching the folders prepareInbox() made. */
  start(): void {
    // Files taken by an earlier run whose jobs finished before it stopped.
    this.settle(this.jobs.openFiles().map((f) => f.id));
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.scanning;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.scanning = this.scan()
        .catch((err: Error) => this.log.error({ err: err.message, inbox: this.dir }, 'inbox scan failed'))
        .finally(() => this.schedule(this.opts.pollMs ?? 1000));
    }, ms);
  }

  /** One pass over the folder: takes every file that has stopped changing. */
  async scan(): Promise<void> {
    const seen = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(this.dir).sort();
    } catch (err) {
      this.log.error({ err: (err as Error).message, inbox: this.dir }, 'cannot read the inbox folder');
      return;
    }
    for (const name of names) {
      if (this.stopped) return;
      if (IGNORED.test(name)) continue;
      const path = join(this.dir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue; // moved away meanwhile
      }
      if (!st.isFile()) continue;
      const key = `${st.size}:${st.mtimeMs}`;
      seen.set(name, key);
      if (this.lastSeen.get(name) !== key) continue; // new or still being written: next scan
      if (Date.now() - st.mtimeMs < this.opts.settleMs) continue; // written to moments ago: maybe still being copied
      if (this.jobs.queuedFileByStat(name, st.size, st.mtimeMs)) continue; // taken, waiting for its jobs
      // Back-pressure: leave files where they are while the queue is full.
      if (this.runner.queueDepth >= this.opts.queueLimit) break;
      await this.take(name, path, st.size, st.mtimeMs);
    }
    this.lastSeen = seen;
  }

  private async take(name: string, path: string, size: number, mtimeMs: number): Promise<void> {
    if (!isSupportedFile(name)) {
      this.failOutright(name, [{ message: unsupportedFile(name) }]);
      return;
    }
    const content = readFileSync(path);
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (this.jobs.queuedFileBySha(name, sha256)) return;
    const jobs: NewJob[] = [];
    const errors: InboxFileError[] = [];
    const origin = `inbox/${name}`;
    for await (const item of readInputs([path])) {
      if (item.ok) {
        jobs.push({ article: jobArticle(item.article), origin, originLine: item.article.origin.line });
      } else {
        const e = item.error;
        errors.push({ ...(e.line !== undefined && { line: e.line }), ...(e.articleId && { id: e.articleId }), message: e.message.replace(`${path}`, origin) });
      }
    }
    if (jobs.length === 0) {
      this.failOutright(name, errors.length ? errors : [{ message: 'no article in this file' }]);
      return;
    }
    const { fileId } = this.jobs.enqueueFile({ name, size, mtimeMs, sha256, errors }, jobs);
    this.log.info({ file: name, articles: jobs.length, rejected: errors.length }, 'inbox file queued');
    this.runner.accepted(jobs.length, 'inbox');
  }

  /** A file of which no article was taken (empty, unreadable, unsupported): to failed/ at once, with a warning in the log. */
  private failOutright(name: string, errors: InboxFileError[]): void {
    const to = this.moveFailed(name, errors, 0);
    if (!to) return;
    const shown = errors.slice(0, 3).map((e) => problemLine(name, e, ''));
    const more = errors.length > shown.length ? `; and ${errors.length - shown.length} more in ${basename(to)}.error.txt` : '';
    this.log.warn({ file: name, reason: `${shown.join('; ')}${more}`, problems: errors.length, movedTo: `failed/${basename(to)}` }, 'inbox file moved to failed/: no article taken');
  }

  /** Moves the files whose jobs are all finished. */
  settle(fileIds: readonly number[]): void {
    const open = new Map(this.jobs.openFiles().map((f) => [f.id, f]));
    for (const id of fileIds) {
      const file = open.get(id);
      if (!file) continue;
      const progress = this.jobs.fileProgress(id);
      if (progress.pending > 0) continue;
      try {
        this.finish(file, [...file.errors, ...progress.jobErrors], progress.done);
      } catch (err) {
        this.log.error({ err: (err as Error).message, file: file.name }, 'cannot move inbox file');
      }
    }
  }

  private finish(file: InboxFileRow, errors: InboxFileError[], ingested: number): void {
    const changed = this.changedSinceTaken(file);
    if (changed) {
      // Moving it would carry away text never read (the rest of a slow copy, or a new file renamed
      // over the one taken): it stays, and is taken as a new file once it settles. What was read
      // stays ingested; articles read twice are found unchanged.
      this.jobs.finishFile(file.id, errors.length ? 'failed' : 'done');
      this.log.warn({ file: file.name, ingested, rejected: errors.length, reason: changed }, 'inbox file changed after it was taken: left in the inbox to be taken again');
      return;
    }
    if (errors.length) this.moveFailed(file.name, errors, ingested);
    else this.move(file.name, this.doneDir);
    this.jobs.finishFile(file.id, errors.length ? 'failed' : 'done');
    // Rejected articles are a warning: they are not ingested until someone sends them again.
    const level = errors.length ? 'warn' : 'info';
    this.log[level]({ file: file.name, ingested, rejected: errors.length }, errors.length ? 'inbox file moved to failed/' : 'inbox file moved to done/');
  }

  /** Why the file now at the taken file's name is not the one taken; undefined when it is (or is gone). */
  private changedSinceTaken(file: InboxFileRow): string | undefined {
    let st;
    try {
      st = statSync(join(this.dir, file.name));
    } catch {
      return undefined;
    }
    if (st.size !== file.size || st.mtimeMs !== file.mtimeMs) {
      return `taken at ${file.size} bytes, now ${st.size} bytes, modified ${new Date(st.mtimeMs).toISOString()}`;
    }
    return undefined;
  }

  /** A free name in `dir` for `name`: the name itself, else with a counter before the extension. */
  private target(dir: string, name: string): string {
    const ext = extname(name);
    const base = basename(name, ext);
    let candidate = join(dir, name);
    for (let i = 1; existsSync(candidate) || existsSync(`${candidate}.error.txt`); i++) candidate = join(dir, `${base}.${i}${ext}`);
    return candidate;
  }

  private move(name: string, dir: string): string | undefined {
    const from = join(this.dir, name);
    if (!existsSync(from)) return undefined; // moved before a crash
    const to = this.target(dir, name);
    renameSync(from, to);
    return to;
  }

  /** Moves a file to failed/ with its .error.txt; answers where it went (nothing when it was already gone). */
  private moveFailed(name: string, errors: InboxFileError[], ingested: number): string | undefined {
    const from = join(this.dir, name);
    if (!existsSync(from)) return undefined;
    const to = this.target(this.failedDir, name);
    const lines = [`${name}: ${errors.length} problem(s); ${ingested} article(s) of this file were ingested.`, ...errors.map((e) => problemLine(name, e, 'file')), ''];
    // The explanation is written before the move, so a crash cannot leave a failed file without one.
    writeFileSync(`${to}.error.txt`, lines.join('\n'));
    renameSync(from, to);
    return to;
  }
}
