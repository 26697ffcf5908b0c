// The single-writer lock: one process at a time writes a database (the worker, `ingest`,
// `reembed`). The lock is SQLite's own file lock on a small side database `<db>.lock`: the holder
// keeps a write transaction open (BEGIN IMMEDIATE) for as long as it writes. The operating system
// drops the lock when the process ends, however it ends (kill -9 included), so there is no stale
// lock to detect and no pid-reuse problem. The holder's pid, host, command and start time are
// committed in the same file first, so that a waiting process can say who holds it.
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { NewsdedupError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export class WriterLockedError extends NewsdedupError {
  constructor(
    readonly dbPath: string,
    readonly holder: LockHolder | undefined,
    readonly waitedMs: number,
  ) {
    const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.since})` : 'another process';
    super(
      `database ${dbPath} is being written by ${who}; waited ${Math.round(waitedMs / 1000)} s for its lock (${dbPath}.lock). ` +
        'Only one writer at a time: while a worker runs, send articles to it (POST /articles, or its inbox folder) instead of running ingest; ' +
        'otherwise try again later, or raise lockWait (NEWSDEDUP_LOCK_WAIT).',
    );
  }
}

export const lockPath = (dbPath: string) => `${dbPath}.lock`;

const isBusy = (err: unknown) => (err as { code?: string }).code?.startsWith('SQLITE_BUSY') || (err as { code?: string }).code === 'SQLITE_LOCKED';

function readHolder(db: Database.Database): LockHolder | undefined {
  try {
    return db.prepare('SELECT pid, host, command, since FROM holder LIMIT 1').get() as LockHolder | undefined;
  } catch {
    return undefined; // no holder recorded yet, or the file is being written this instant
  }
}

export class WriterLock {
  private constructor(
    private readonly db: Database.Database,
    readonly dbPath: string,
  ) {}

  /** Takes the lock if it is free now; otherwise returns who holds it. */
  static tryAcquire(dbPath: string, command: string, opts: { probe?: boolean } = {}): { lock: WriterLock } | { lock?: undefined; holder: LockHolder | undefined } {
    const db = new Database(lockPath(dbPath), { timeout: 0 });
    try {
      /** Opens the write transaction that is the lock; if another process holds it, says who. */
      const begin = (): { holder: LockHolder | undefined } | undefined => {
        db.pragma('busy_timeout = 0');
        try {
          db.exec('BEGIN IMMEDIATE');
          return undefined;
        } catch (err) {
          if (!isBusy(err)) throw err;
          const holder = readHolder(db);
          db.close();
          return { holder };
        }
      };
      const taken = begin();
      if (taken) return taken;
      if (opts.probe) return { lock: new WriterLock(db, dbPath) };
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, command TEXT NOT NULL, since TEXT NOT NULL)');
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid, host, command, since) VALUES (?, ?, ?, ?)').run(process.pid, hostname(), command, new Date().toISOString());
      // Publishing the holder needs readers out of the way for a moment.
      db.pragma('busy_timeout = 2000');
      db.exec('COMMIT');
      // Another process may take it in the instant between COMMIT and BEGIN: then it is theirs.
      const lost = begin();
      if (lost) return lost;
      return { lock: new WriterLock(db, dbPath) };
    } catch (err) {
      if (db.open) db.close();
      throw err;
    }
  }

  /** Waits up to `waitMs` for the lock, then throws WriterLockedError naming the database and the holder. */
  static async acquire(dbPath: string, opts: { command: string; waitMs: number; log?: Logger; pollMs?: number }): Promise<WriterLock> {
    const started = performance.now();
    let logged = false;
    for (;;) {
      const got = WriterLock.tryAcquire(dbPath, opts.command);
      if (got.lock) return got.lock;
      const waited = performance.now() - started;
      if (waited >= opts.waitMs) throw new WriterLockedError(dbPath, got.holder, waited);
      if (!logged) {
        opts.log?.warn({ db: dbPath, holder: got.holder, waitSeconds: opts.waitMs / 1000 }, 'waiting for another writer to release the database');
        logged = true;
      }
      await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 200, Math.max(1, opts.waitMs - waited))));
    }
  }

  /** Who holds the lock of a database now, if anyone. */
  static holder(dbPath: string): LockHolder | undefined {
    const got = WriterLock.tryAcquire(dbPath, 'probe', { probe: true });
    if (got.lock) {
      got.lock.release();
      return undefined;
    }
    return got.holder ?? { pid: 0, host: '?', command: 'unknown', since: '?' };
  }

  get held(): boolean {
    return this.db.open;
  }

  release(): void {
    if (!this.db.open) return;
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}
