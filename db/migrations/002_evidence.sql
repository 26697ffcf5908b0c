-- Evidence beyond one cosine: a fingerprint per window (exact paragraph reuse, boilerplate
-- detection), a MinHash signature of word shingles per article (near-verbatim copies) and the
-- language-independent anchors (numbers, names, quotes) of each article.

ALTER TABLE windows ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX windows_hash ON windows(hash);

ALTER TABLE articles ADD COLUMN minhash BLOB;
ALTER TABLE articles ADD COLUMN anchors TEXT NOT NULL DEFAULT '[]';

-- How many distinct articles carry each window fingerprint: a window that recurs across many
-- different articles is boilerplate (footers, disclaimers, bios) and is not evidence.
CREATE TABLE window_df (
  hash     TEXT PRIMARY KEY,
  articles INTEGER NOT NULL
) WITHOUT ROWID;
