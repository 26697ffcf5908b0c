-- How the model that built an article's vectors reads it (models/embedder.ts): 'native' (one of
-- its languages), 'near' (a language it does not know, through the nearest one it knows) or 'none'
-- (a script outside its vocabulary, or a language it cannot place). Vectors of articles it cannot
-- read all look alike, so such articles are matched by their words alone (exact and near-verbatim
-- copies). Articles stored before were all taken as read natively; `newsdedup reembed` works it out.
ALTER TABLE articles ADD COLUMN reading TEXT NOT NULL DEFAULT 'native' CHECK (reading IN ('native', 'near', 'none'));
