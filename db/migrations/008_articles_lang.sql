-- Articles per language (`newsdedup stats`) and the clusters of one language (`clusters --lang`):
-- without an index the count reads every article row, text and vectors included (22 s of a 40 s
-- `stats` at a million articles, database not in the page cache).
CREATE INDEX articles_lang ON articles(lang);
