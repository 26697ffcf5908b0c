-- Articles, story clusters, match evidence and the identity of the model that built the vectors.
-- SQLite is the source of truth: the HNSW file next to the database is rebuilt from `articles.vector`.

CREATE TABLE model (
  singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
  model_id    TEXT NOT NULL,
  dim         INTEGER NOT NULL,
  recorded_at TEXT NOT NULL
);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE clusters (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so ids stay stable
  canonical    INTEGER,                            -- articles.rowid of the canonical article
  size         INTEGER NOT NULL DEFAULT 0,
  merged_into  INTEGER REFERENCES clusters(id),    -- set when merged; the id then points to the survivor
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);

CREATE TABLE articles (
  rowid        INTEGER PRIMARY KEY,                -- also the label of the article's vector in the HNSW index
  id           TEXT NOT NULL UNIQUE,
  source       TEXT,
  url          TEXT,
  title        TEXT,
  lang         TEXT NOT NULL,
  published_at TEXT,
  ingested_at  TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  text         TEXT NOT NULL,
  cluster_id   INTEGER NOT NULL REFERENCES clusters(id),
  vector       BLOB NOT NULL                       -- float32 little-endian, L2-normalised
);
CREATE INDEX articles_cluster ON articles(cluster_id);
CREATE INDEX articles_hash ON articles(content_hash);

-- Window (passage) vectors, for passage-level evidence. Offsets refer to title + "\n\n" + text.
CREATE TABLE windows (
  article_rowid INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
  idx           INTEGER NOT NULL,
  start         INTEGER NOT NULL,
  end           INTEGER NOT NULL,
  tokens        INTEGER NOT NULL,
  vector        BLOB NOT NULL,
  PRIMARY KEY (article_rowid, idx)
) WITHOUT ROWID;

-- Evidence for every positive cluster decision.
CREATE TABLE matches (
  id          INTEGER PRIMARY KEY,
  article_id  TEXT NOT NULL,
  matched_id  TEXT NOT NULL,
  cluster_id  INTEGER NOT NULL,
  score       REAL NOT NULL,
  method      TEXT NOT NULL,     -- exact | embedding
  decision    TEXT NOT NULL,     -- join | merge
  created_at  TEXT NOT NULL
);
CREATE INDEX matches_article ON matches(article_id);
CREATE INDEX matches_cluster ON matches(cluster_id);
