-- Whether the model that built an article's vectors can read it (models/embedder.ts: not a script
-- outside its vocabulary, nor a language it does not know). Vectors of articles it cannot read all
-- look alike, so such an article is matched by its words alone (exact and near-verbatim copies).
-- Articles stored before were all taken as readable.
ALTER TABLE articles ADD COLUMN readable INTEGER NOT NULL DEFAULT 1;
