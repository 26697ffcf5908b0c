-- The worker's durable intake. An article is accepted (HTTP 202, or its inbox file taken) only
-- once its job row is committed here; the worker processes pending jobs in id order and marks them
-- finished after their batch is committed to `articles`. Ingestion is idempotent (same id, same
-- content = unchanged), so a job processed again after a crash writes nothing twice.

-- One row per file taken from the inbox folder; its jobs point to it. The file is moved to done/
-- or failed/ once every job of it is finished.
CREATE TABLE inbox_files (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT NOT NULL,                   -- path relative to the inbox folder
  size         INTEGER NOT NULL,
  mtime_ms     REAL NOT NULL,
  sha256       TEXT NOT NULL,
  accepted     INTEGER NOT NULL,                -- articles queued as jobs
  errors       TEXT NOT NULL DEFAULT '[]',      -- JSON [{line?, id?, message}] found while reading
  status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
  queued_at    TEXT NOT NULL,
  finished_at  TEXT
);
CREATE INDEX inbox_files_open ON inbox_files(status) WHERE status = 'queued';
CREATE INDEX inbox_files_name ON inbox_files(name, sha256);

CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT, -- processing order
  article_id   TEXT NOT NULL,
  payload      TEXT,                              -- the article as accepted (JSON); cleared once stored
  origin       TEXT NOT NULL,                     -- where it came from: "POST /articles", "inbox/<file>"
  origin_line  INTEGER,
  inbox_file   INTEGER REFERENCES inbox_files(id),
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'superseded')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  outcome      TEXT,                              -- JSON {status, cluster, matchedId?, score?, method?}
  error        TEXT,
  accepted_at  TEXT NOT NULL,
  finished_at  TEXT
);
CREATE INDEX jobs_pending ON jobs(id) WHERE status = 'pending';
CREATE INDEX jobs_article ON jobs(article_id, id);
CREATE INDEX jobs_inbox_file ON jobs(inbox_file) WHERE inbox_file IS NOT NULL;
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE status <> 'pending';

-- GET /clusters lists the most recently updated clusters first.
CREATE INDEX IF NOT EXISTS clusters_updated ON clusters(updated_at);
