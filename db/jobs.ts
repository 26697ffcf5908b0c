// The job table: the worker's durable intake queue (migration 002). Every SQL statement about jobs
// and inbox files lives here, prepared once, on the same connection as the Store so that callers
// can group writes in one transaction.
import type Database from 'better-sqlite3';

/** The article as accepted, in its JSON input form (validated again by articleFromJson when processed). */
export interface JobArticle {
  id: string;
  title?: string;
  text?: string;
  html?: string;
  lang?: string;
  url?: string;
  source?: string;
  published_at?: string;
}

export type JobStatus = 'pending' | 'done' | 'failed' | 'superseded';

export interface NewJob {
  article: JobArticle;
  origin: string;
  originLine?: number;
}

export interface PendingJob {
  id: number;
  articleId: string;
  article: JobArticle;
  origin: string;
  originLine: number | null;
  inboxFile: number | null;
  attempts: number;
}

export interface JobOutcome {
  status: string;
  cluster?: number;
  matchedId?: string;
  score?: number;
  method?: string;
}

export interface JobInfo {
  job: number;
  articleId: string;
  status: JobStatus;
  origin: string;
  attempts: number;
  outcome: JobOutcome | null;
  error: string | null;
  acceptedAt: string;
  finishedAt: string | null;
}

export interface FinishedJob {
  id: number;
  status: Exclude<JobStatus, 'pending'>;
  outcome?: JobOutcome;
  error?: string;
}

export interface InboxFileError {
  line?: number;
  id?: string;
  message: string;
}

export interface InboxFileRow {
  id: number;
  name: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  accepted: number;
  errors: InboxFileError[];
  status: 'queued' | 'done' | 'failed';
}

export interface InboxFileProgress {
  pending: number;
  done: number;
  failed: number;
  /** Errors of the jobs that failed, with the line each came from. */
  jobErrors: InboxFileError[];
}

interface PendingRow {
  id: number;
  article_id: string;
  payload: string;
  origin: string;
  origin_line: number | null;
  inbox_file: number | null;
  attempts: number;
}

interface InboxRow {
  id: number;
  name: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  accepted: number;
  errors: string;
  status: 'queued' | 'done' | 'failed';
}

const toInbox = (r: InboxRow): InboxFileRow => ({
  id: r.id,
  name: r.name,
  size: r.size,
  mtimeMs: r.mtime_ms,
  sha256: r.sha256,
  accepted: r.accepted,
  errors: JSON.parse(r.errors) as InboxFileError[],
  status: r.status,
});

export class JobStore {
  private readonly s;

  constructor(readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO jobs (article_id, payload, origin, origin_line, inbox_file, accepted_at)
                 VALUES (@articleId, @payload, @origin, @originLine, @inboxFile, @acceptedAt)`),
      pending: p(`SELECT id, article_id, payload, origin, origin_line, inbox_file, attempts
                  FROM jobs WHERE status = 'pending' ORDER BY id LIMIT ?`),
      pendingCount: p(`SELECT count(*) FROM jobs WHERE status = 'pending'`).pluck(),
      finish: p(`UPDATE jobs SET status = @status, outcome = @outcome, error = @error, finished_at = @now,
                   payload = CASE WHEN @status = 'failed' THEN payload ELSE NULL END
                 WHERE id = @id AND status = 'pending'`),
      attempt: p(`UPDATE jobs SET attempts = attempts + 1, error = ? WHERE id = ? AND status = 'pending' RETURNING attempts`).pluck(),
      latestForArticle: p(`SELECT id, article_id, status, origin, attempts, outcome, error, accepted_at, finished_at
                           FROM jobs WHERE article_id = ? ORDER BY id DESC LIMIT 1`),
      countByStatus: p(`SELECT status, count(*) AS n FROM jobs GROUP BY status`),
      prune: p(`DELETE FROM jobs WHERE status <> 'pending' AND finished_at < ?`),
      pruneFiles: p(`DELETE FROM inbox_files WHERE status <> 'queued' AND finished_at < ?
                     AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.inbox_file = inbox_files.id)`),
      insertFile: p(`INSERT INTO inbox_files (name, size, mtime_ms, sha256, accepted, errors, queued_at)
                     VALUES (@name, @size, @mtimeMs, @sha256, @accepted, @errors, @now)`),
      fileByStat: p(`SELECT * FROM inbox_files WHERE name = ? AND size = ? AND mtime_ms = ? AND status = 'queued' ORDER BY id DESC LIMIT 1`),
      fileBySha: p(`SELECT * FROM inbox_files WHERE name = ? AND sha256 = ? AND status = 'queued' ORDER BY id DESC LIMIT 1`),
      openFiles: p(`SELECT * FROM inbox_files WHERE status = 'queued' ORDER BY id`),
      fileProgress: p(`SELECT
                         count(*) FILTER (WHERE status = 'pending') AS pending,
                         count(*) FILTER (WHERE status IN ('done', 'superseded')) AS done,
                         count(*) FILTER (WHERE status = 'failed') AS failed
                       FROM jobs WHERE inbox_file = ?`),
      fileJobErrors: p(`SELECT origin_line AS line, article_id AS id, error AS message FROM jobs
                        WHERE inbox_file = ? AND status = 'failed' ORDER BY id`),
      finishFile: p(`UPDATE inbox_files SET status = ?, finished_at = ? WHERE id = ?`),
    };
  }

  /** Commits the jobs in one transaction and returns their ids: from then on they are accepted. */
  enqueue(jobs: readonly NewJob[], inboxFile?: number): number[] {
    const acceptedAt = new Date().toISOString();
    return this.db.transaction(() =>
      jobs.map((j) =>
        Number(
          this.s.insert.run({
            articleId: j.article.id,
            payload: JSON.stringify(j.article),
            origin: j.origin,
            originLine: j.originLine ?? null,
            inboxFile: inboxFile ?? null,
            acceptedAt,
          }).lastInsertRowid,
        ),
      ),
    )();
  }

  /** The oldest pending jobs, in the order they were accepted. */
  pending(limit: number): PendingJob[] {
    return (this.s.pending.all(limit) as PendingRow[]).map((r) => ({
      id: r.id,
      articleId: r.article_id,
      article: JSON.parse(r.payload) as JobArticle,
      origin: r.origin,
      originLine: r.origin_line,
      inboxFile: r.inbox_file,
      attempts: r.attempts,
    }));
  }

  pendingCount(): number {
    return this.s.pendingCount.get() as number;
  }

  /** Marks jobs finished, in one transaction. Only pending jobs change, so finishing twice is harmless. */
  finish(results: readonly FinishedJob[]): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const r of results) {
        this.s.finish.run({ id: r.id, status: r.status, outcome: r.outcome ? JSON.stringify(r.outcome) : null, error: r.error ?? null, now });
      }
    })();
  }

  /** Counts a failed attempt; returns the attempts so far of each job. */
  recordAttempt(ids: readonly number[], error: string): Map<number, number> {
    const out = new Map<number, number>();
    this.db.transaction(() => {
      for (const id of ids) out.set(id, (this.s.attempt.get(error, id) as number | undefined) ?? 0);
    })();
    return out;
  }

  /** The newest job of an article id, if any is still recorded. */
  latestForArticle(articleId: string): JobInfo | undefined {
    const r = this.s.latestForArticle.get(articleId) as
      | { id: number; article_id: string; status: JobStatus; origin: string; attempts: number; outcome: string | null; error: string | null; accepted_at: string; finished_at: string | null }
      | undefined;
    if (!r) return undefined;
    return {
      job: r.id,
      articleId: r.article_id,
      status: r.status,
      origin: r.origin,
      attempts: r.attempts,
      outcome: r.outcome ? (JSON.parse(r.outcome) as JobOutcome) : null,
      error: r.error,
      acceptedAt: r.accepted_at,
      finishedAt: r.finished_at,
    };
  }

  countByStatus(): Record<JobStatus, number> {
    const out: Record<JobStatus, number> = { pending: 0, done: 0, failed: 0, superseded: 0 };
    for (const r of this.s.countByStatus.all() as { status: JobStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  /** Forgets finished jobs (and their finished inbox files) older than `before` (ISO time). */
  prune(before: string): number {
    return this.db.transaction(() => {
      const n = this.s.prune.run(before).changes;
      this.s.pruneFiles.run(before);
      return n;
    })();
  }

  // --- inbox files ---

  /** Records an inbox file and queues its articles, in one transaction. */
  enqueueFile(file: { name: string; size: number; mtimeMs: number; sha256: string; errors: InboxFileError[] }, jobs: readonly NewJob[]): { fileId: number; jobIds: number[] } {
    return this.db.transaction(() => {
      const fileId = Number(
        this.s.insertFile.run({ ...file, accepted: jobs.length, errors: JSON.stringify(file.errors), now: new Date().toISOString() }).lastInsertRowid,
      );
      return { fileId, jobIds: this.enqueue(jobs, fileId) };
    })();
  }

  /** A queued file with this name, size and modification time (already taken, not yet moved). */
  queuedFileByStat(name: string, size: number, mtimeMs: number): InboxFileRow | undefined {
    const r = this.s.fileByStat.get(name, size, mtimeMs) as InboxRow | undefined;
    return r && toInbox(r);
  }

  queuedFileBySha(name: string, sha256: string): InboxFileRow | undefined {
    const r = this.s.fileBySha.get(name, sha256) as InboxRow | undefined;
    return r && toInbox(r);
  }

  openFiles(): InboxFileRow[] {
    return (this.s.openFiles.all() as InboxRow[]).map(toInbox);
  }

  fileProgress(fileId: number): InboxFileProgress {
    const counts = this.s.fileProgress.get(fileId) as { pending: number; done: number; failed: number };
    const jobErrors = counts.failed
      ? (this.s.fileJobErrors.all(fileId) as { line: number | null; id: string; message: string | null }[]).map((e) => ({
          ...(e.line !== null && { line: e.line }),
          id: e.id,
          message: e.message ?? 'failed',
        }))
      : [];
    return { ...counts, jobErrors };
  }

  finishFile(fileId: number, status: 'done' | 'failed'): void {
    this.s.finishFile.run(status, new Date().toISOString(), fileId);
  }
}
