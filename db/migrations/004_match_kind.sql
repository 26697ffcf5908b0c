-- What kind of duplicate each match is (exact, near-verbatim, translation, rewrite) and how much
-- of the articles' passages cover each other.
ALTER TABLE matches ADD COLUMN kind TEXT NOT NULL DEFAULT 'rewrite';
ALTER TABLE matches ADD COLUMN coverage REAL;
