-- Window vectors are about 60% of a database (some 15 per article, 1 KB each as float32). New
-- ones are stored as int8 with one float32 scale in front (260 bytes for 256 dimensions): cosines
-- move by about 1e-3, far below what separates a match from a miss. Rows written before keep
-- their float32 vectors; `encoding` says which is which.
ALTER TABLE windows ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0; -- 0 float32, 1 int8 + scale
