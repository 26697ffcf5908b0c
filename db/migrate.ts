// Applies the numbered `.sql` files of db/migrations/ that a database has not seen yet, each in
// its own transaction, and records them in schema_migrations.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .map((file) => /^(\d+)_(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, m[0]), 'utf8') }))
    .sort((a, b) => a.version - b.version)
    .map((m, i, all) => {
      if (i > 0 && all[i - 1]!.version === m.version) throw new Error(`two migrations share number ${m.version}: ${all[i - 1]!.name} and ${m.name} (${dir})`);
      return m;
    });
}

/**
 * The migrations a database has not seen, read without writing to it (a reader's check): empty
 * when it is current; undefined when it is not a newsdedup database at all (no schema_migrations
 * table: an empty file, or another application's SQLite database).
 */
export function pendingMigrations(db: Database.Database, migrations = loadMigrations()): Migration[] | undefined {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()) return undefined;
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  return migrations.filter((m) => !done.has(m.version));
}

/** Returns the versions applied by this call. */
export function migrate(db: Database.Database, migrations = loadMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}
