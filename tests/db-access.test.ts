// A database (or its writer's lock file) the user may not write. Tests often run as root, for whom
// chmod restricts nothing, so better-sqlite3 is made to open the files in `readOnly` read-only,
// which is what SQLite does with a file it may read but not write: it says nothing at open and
// refuses at the first write (SQLITE_READONLY).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { databaseError } from '../worker/context.ts';
import { UsageError } from '../worker/errors.ts';
import { cli, FIXTURE_TEXTS, jsonl, SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';
import { writeFileSync } from 'node:fs';

const readOnly = new Set<string>();

vi.mock('better-sqlite3', async (importOriginal) => {
  const { default: Original } = await importOriginal<{ default: typeof Database }>();
  class ReadOnlyWhereDenied extends (Original as unknown as new (path: string, opts?: Database.Options) => Database.Database) {
    constructor(path: string, opts: Database.Options = {}) {
      super(path, readOnly.has(path) ? { ...opts, readonly: true } : opts);
    }
  }
  return { default: Object.assign(ReadOnlyWhereDenied, { SqliteError: Original.SqliteError }) };
});

let model: string;
let dir: string;
const run = (args: string[]) => cli([...args, '--model-dir', model], { cwd: dir });

beforeAll(() => {
  model = tinyModel();
});
beforeEach(() => {
  dir = tempDir();
  writeTinyConfig(dir);
  readOnly.clear();
});

/** One line that names the file and the cause: no stack trace. */
const oneLine = (stderr: string, message: string) => expect(stderr).toBe(`newsdedup: ${message}\n`);

describe('a writer given a file it may not write', () => {
  it('ingest on a read-only database says so in one line before reading any input, and what was stored stays', async () => {
    expect((await run(['ingest', SEEDS])).code).toBe(0);
    const db = join(dir, 'newsdedup.db');
    writeFileSync(join(dir, 'more.jsonl'), jsonl([{ id: 'new', title: 'quake', text: FIXTURE_TEXTS.quake }]));
    readOnly.add(db);
    const r = await run(['ingest', 'more.jsonl']);
    expect(r.code).toBe(2);
    oneLine(r.stderr, `cannot write database ${db}: the file is read-only for this user (attempt to write a readonly database)`);
    expect(r.stdout).toBe('');
    readOnly.clear();
    expect((await run(['stats', '--json'])).json()).toMatchObject({ articles: 3 });
  });

  it('the worker on a read-only database says so in one line', async () => {
    expect((await run(['ingest', SEEDS])).code).toBe(0);
    const db = join(dir, 'newsdedup.db');
    readOnly.add(db);
    const r = await run(['worker', '--port', '0']);
    expect(r.code).toBe(2);
    oneLine(r.stderr, `cannot write database ${db}: the file is read-only for this user (attempt to write a readonly database)`);
  });

  it("ingest and the worker with a read-only lock file say so in one line, naming the lock file", async () => {
    expect((await run(['ingest', SEEDS])).code).toBe(0);
    const lock = join(dir, 'newsdedup.db.lock');
    readOnly.add(lock);
    for (const args of [['ingest', SEEDS], ['worker', '--port', '0']]) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(2);
      oneLine(r.stderr, `cannot take the writer's lock ${lock}: the file is read-only for this user (attempt to write a readonly database)`);
    }
    readOnly.clear();
    expect((await run(['ingest', SEEDS, '--json'])).json()).toMatchObject({ skipped: 3 });
  });
});

describe('databaseError', () => {
  const sqlite = (message: string, code: string) => new Database.SqliteError(message, code);

  it('names the folder when SQLite cannot create its files beside the database', () => {
    const err = databaseError(sqlite('attempt to write a readonly database', 'SQLITE_READONLY_DIRECTORY'), '/srv/news/n.db', 'write');
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      "cannot write database /srv/news/n.db: folder /srv/news is not writable by this user, and a writer creates files there (n.db-wal and -shm, the lock's journal, the index)",
    );
    expect((databaseError(sqlite('attempt to write a readonly database', 'SQLITE_READONLY_DIRECTORY'), '/srv/news/n.db', 'read') as Error).message).toMatch(
      /^cannot read database \/srv\/news\/n\.db: SQLite reads a WAL database through n\.db-shm beside it, which this user cannot create in \/srv\/news /,
    );
  });

  it('says a lock file that cannot be opened or created is the lock', () => {
    expect((databaseError(sqlite('unable to open database file', 'SQLITE_CANTOPEN'), '/srv/news/n.db', 'lock') as Error).message).toBe(
      "cannot take the writer's lock /srv/news/n.db.lock: unable to open database file (no permission to it, or to create it in folder /srv/news)",
    );
  });

  it('leaves other errors as they are', () => {
    const err = new Error('boom');
    expect(databaseError(err, '/srv/news/n.db', 'write')).toBe(err);
  });
});
