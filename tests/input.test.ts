import { describe, expect, it } from 'vitest';
import { prepareArticle } from '../worker/article.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { articleFromJson, MAX_TITLE_CHARS, plainTextDraft, readInputs } from '../worker/input.ts';
import { countArticles } from '../worker/service/progress-bar.ts';
import { cli, FIXTURE_TEXTS, LOCAL_STORIES, plainDivPage, SITES, sitePage, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';
import { loadLanguageDetector, normaliseLanguageTag } from '../worker/language.ts';
import { normaliseText, pageText, withoutMarkup } from '../worker/text.ts';

const fromJson = (o: object) => articleFromJson({ id: 'a1', text: 'Some text.', ...o }, 'feed.jsonl', 7);

describe('language tags', () => {
  it('reads a tag as the code detection gives, whatever its form', () => {
    const read = (tags: string[]) => tags.map((t) => normaliseLanguageTag(t));
    expect(read(['en', 'EN', 'en-US', 'en_GB', 'eng'])).toEqual(['en', 'en', 'en', 'en', 'en']);
    expect(read(['fre', 'fra', 'ger', 'deu', 'ukr', 'hun'])).toEqual(['fr', 'fr', 'de', 'de', 'uk', 'hu']);
    // Deprecated codes become today's; a two-letter code that detection also gives stays as it is.
    expect(read(['iw', 'in', 'tl'])).toEqual(['he', 'id', 'tl']);
    expect(read(['fil', 'yue'])).toEqual(['fil', 'yue']);
  });

  it('refuses a tag that names no language, naming the article, and detects for "und"', () => {
    for (const lang of ['xx', 'zz', 'english', 'e1']) {
      const item = fromJson({ lang });
      expect(item.ok, lang).toBe(false);
      if (!item.ok) expect(item.error).toMatchObject({ file: 'feed.jsonl', line: 7, articleId: 'a1', message: expect.stringMatching(/is not a language code/) });
    }
    const und = fromJson({ lang: 'und' });
    expect(und.ok && und.article.lang).toBeUndefined();
    const eng = fromJson({ lang: 'ENG' });
    expect(eng.ok && eng.article.lang).toBe('en');
  });
});

describe('markup in the text field', () => {
  it('turns a text with HTML elements into plain paragraphs, entities decoded and scripts dropped', () => {
    const html = '<p>The council met on <b>Monday</b> &amp; voted.</p><p>It passed <a href="/x">the budget</a>.</p><script>track()</script>';
    expect(normaliseText(withoutMarkup(html))).toBe('The council met on Monday & voted.\nIt passed the budget.');
    // Inline markup inside a plain text keeps the text's own line breaks as paragraphs.
    expect(normaliseText(withoutMarkup('First <em>paragraph</em>.\nSecond one.'))).toBe('First paragraph.\nSecond one.');
  });

  it('leaves a plain text with angle brackets and ampersands alone', () => {
    const text = 'Inflation fell to < 2% while wages rose > 3%.\nA <b or c> is not an element, nor is Q&A.';
    expect(withoutMarkup(text)).toBe(text);
  });

  it('decodes character references in a text or title escaped twice by a feed', async () => {
    await loadLanguageDetector([{}]);
    const a = prepareArticle({ id: 'e', title: 'AT&amp;T &quot;Time&quot; deal', text: 'Tom &amp; Jerry &#8211; a classic.\nSecond line.', origin: { file: 'f' } });
    expect(a.title).toBe('AT&T "Time" deal');
    expect(a.text).toBe('Tom & Jerry – a classic.\nSecond line.');
  });

  it('stores and fingerprints the cleaned text, so a tagged copy is an exact copy of the plain one', async () => {
    await loadLanguageDetector([{}]);
    const plain = prepareArticle({ id: 'p', title: 'Budget', text: 'The council met on Monday.\nIt passed the budget.', origin: { file: 'f' } });
    const tagged = prepareArticle({ id: 't', title: 'Budget', text: '<p>The council met on Monday.</p>\n<p>It passed the budget.</p>', origin: { file: 'f' } });
    expect(tagged.text).toBe(plain.text);
    expect(tagged.contentHash).toBe(plain.contentHash);
  });
});

describe('whole pages in the html field', () => {
  const [story] = LOCAL_STORIES;
  const paragraphs =
    'The city council voted on Tuesday to build twelve kilometres of protected cycle lanes across the centre, a plan that had divided residents for two years.\n' +
    'Supporters said the lanes would cut traffic and pollution, while shop owners warned that fewer parking spaces would hurt trade.';

  it('reads the story of a page, not the site around it: the headline (the page title) and the byline go too', () => {
    expect(normaliseText(pageText(sitePage(story!.title, story!.body)).text)).toBe(paragraphs);
  });

  it('gives the headline Readability took out of the story as the title of a page sent without one', () => {
    const page = (title?: string) => prepareArticle({ id: 'p', html: plainDivPage(SITES[0]!, story!.title, story!.body), ...(title && { title }), origin: { file: 'x' } });
    // Without it, the article had neither title nor headline: the text began at the first paragraph.
    for (const [given, title] of [[undefined, story!.title], ['Cycle lanes approved', 'Cycle lanes approved']] as const) {
      const a = page(given);
      expect(a.title).toBe(title);
      expect(a.text.startsWith(paragraphs)).toBe(true);
    }
  });

  it('finds the story of a page built of plain <div>s: no menu, cookie notice, byline or "most read" headlines', () => {
    for (const site of SITES) {
      const text = normaliseText(pageText(plainDivPage(site, story!.title, story!.body)).text);
      expect(text.startsWith(paragraphs), site.name).toBe(true);
      for (const chrome of [site.cookie, site.menu[1]!, 'By Staff Reporter', ...site.mostRead]) expect(text, site.name).not.toContain(chrome);
    }
  });

  it('reads markup that is not a whole page (a CMS body, a text field) by its elements, as before', () => {
    const body = `<h1>${story!.title}</h1><div class="byline">By Staff Reporter</div>${story!.body}`;
    expect(normaliseText(pageText(body).text)).toBe(`${story!.title}\nBy Staff Reporter\n${paragraphs}`);
    // A page in the text field is taken for a fragment of markup: the site around the story stays.
    const inText = normaliseText(withoutMarkup(plainDivPage(SITES[0]!, story!.title, story!.body)));
    expect(inText).toContain(paragraphs);
    expect(inText).toContain(SITES[0]!.mostRead[0]);
  });

  it('reads saved .html/.htm pages (also gzip-compressed) as one article each, named like text files, the headline their title', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '2026-03-12'));
    writeFileSync(join(dir, '2026-03-12', 'cycle-lanes.html'), plainDivPage(SITES[0]!, story!.title, story!.body));
    writeFileSync(join(dir, 'bakery.htm.gz'), gzipSync(plainDivPage(SITES[1]!, LOCAL_STORIES[1]!.title, LOCAL_STORIES[1]!.body)));
    writeFileSync(join(dir, 'blank.html'), '  \n');
    const items = [];
    for await (const item of readInputs([dir])) items.push(item);
    expect(items.map((i) => (i.ok ? i.article.id : i.error.message))).toEqual(['2026-03-12/cycle-lanes', 'bakery', expect.stringMatching(/blank\.html.*file is empty/)]);
    const [lanes, bakery] = items.map((i) => (i.ok ? prepareArticle(i.article) : undefined));
    expect(lanes).toMatchObject({ title: story!.title });
    expect(lanes!.text.startsWith(paragraphs)).toBe(true);
    expect(bakery).toMatchObject({ title: LOCAL_STORIES[1]!.title });
    expect(bakery!.text).not.toContain(SITES[1]!.cookie);
  });

  it('reads a page whose story Readability cannot find as before (an index of links keeps its text)', () => {
    const index = '<html><head><title>Sections</title></head><body><ul><li><a href="/w">World news from every continent</a></li><li><a href="/s">Sport results and fixtures</a></li><li><a href="/c">Culture, books and the arts</a></li></ul></body></html>';
    expect(normaliseText(pageText(index).text)).toBe('* World news from every continent\n* Sport results and fixtures\n* Culture, books and the arts');
  });

  it('takes the first <article> (teasers follow the story), and without <article> or <main> drops the page header and footer', () => {
    const teasers = '<article><p>Teaser: another story entirely.</p></article>';
    expect(normaliseText(pageText(`<body><article><p>The story.</p></article>${teasers}</body>`).text)).toBe('The story.');
    const bare = '<body><header>Daily Example | Home | Sport</header><div><p>The story.</p><aside>Most read: other news</aside></div><footer>Copyright 2026</footer></body>';
    expect(normaliseText(pageText(bare).text)).toBe('The story.');
  });
});

describe('JSON lines on stdin', () => {
  const read = async (text: string) => {
    const out: string[] = [];
    for await (const item of readInputs(['-'], Readable.from([Buffer.from(text)]))) out.push(item.ok ? `ok ${item.article.id}` : `error ${item.error.message}`);
    return out;
  };

  it('names a JSON document given instead of JSON lines once, rather than each of its lines', async () => {
    const hint = /^error <stdin>:1: a JSON document \(an array, or an object over several lines\), not JSON lines/;
    const array = await read('[\n  {"id": "a", "text": "One."},\n  {"id": "b", "text": "Two."}\n]\n');
    expect(array).toHaveLength(1);
    expect(array[0]).toMatch(hint);
    // On one line too (it said "expected a JSON object").
    expect(await read('[{"id": "a", "text": "One."}, {"id": "b", "text": "Two."}]\n')).toEqual([expect.stringMatching(hint)]);
    const pretty = await read('{\n  "id": "a",\n  "text": "One."\n}\n');
    expect(pretty).toHaveLength(1);
    expect(pretty[0]).toMatch(hint);
    // A bad line further down is that line's problem alone.
    expect(await read('{"id": "a", "text": "One."}\n[oops\n{"id": "b", "text": "Two."}\n')).toEqual(['ok a', expect.stringMatching(/^error <stdin>:2: malformed JSON/), 'ok b']);
  });
});

describe('plain-text drafts (check on stdin, POST /check)', () => {
  it('takes the first non-empty line as the title and the rest as the text', () => {
    expect(plainTextDraft('\n\n# Storm hits coast\r\nWinds of 120 km/h.\nPower cut.')).toEqual({ title: 'Storm hits coast', text: 'Winds of 120 km/h.\nPower cut.' });
  });

  it('checks a one-line draft, or one whose body is blank, on its line; a blank draft is none', () => {
    // Its text alone: as title and text both, it was read twice.
    expect(plainTextDraft('Storm hits coast')).toEqual({ title: '', text: 'Storm hits coast' });
    expect(plainTextDraft('Storm hits coast\n   \n\t')).toEqual({ title: '', text: 'Storm hits coast' });
    expect(plainTextDraft(' \n\t\n')).toBeUndefined();
  });
});

describe('gzip-compressed input', () => {
  it('reads .jsonl.gz, .json.gz and .txt.gz as their uncompressed forms, in a folder too', async () => {
    const dir = tempDir();
    const line = (id: string) => JSON.stringify({ id, title: `Title ${id}`, text: `Text of ${id}.` });
    writeFileSync(join(dir, 'a.jsonl.gz'), gzipSync(`${line('a1')}\n\n${line('a2')}\n`));
    writeFileSync(join(dir, 'b.json.gz'), gzipSync(`[${line('b1')}]`));
    writeFileSync(join(dir, 'c.txt.gz'), gzipSync('Headline of c\nBody of c.\n'));
    writeFileSync(join(dir, 'notes.gz'), gzipSync('not an article'));
    const items = [];
    for await (const item of readInputs([dir])) items.push(item);
    expect(items.map((i) => (i.ok ? [i.article.id, i.article.origin.line ?? null] : i.error.message))).toEqual([
      ['a1', 1],
      ['a2', 3],
      ['b1', null],
      ['c', null],
    ]);
    // The progress bar cannot count a compressed file's articles without decompressing it: no total.
    expect(countArticles([dir])).toBeUndefined();
  });

  it('reports a corrupt or cut-short compressed file by name, after the articles read before the damage', async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: `n${i}`, text: `Article number ${i} about ${i * 7919} things.` })).join('\n');
    const gz = gzipSync(lines);
    writeFileSync(join(dir, 'cut.jsonl.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeFileSync(join(dir, 'garbage.json.gz'), 'plain text, not gzip');
    const items = [];
    for await (const item of readInputs([join(dir, 'cut.jsonl.gz'), join(dir, 'garbage.json.gz')])) items.push(item);
    const errors = items.filter((i) => !i.ok).map((i) => (i.ok ? '' : i.error.message));
    expect(items.filter((i) => i.ok).length).toBeGreaterThan(100);
    expect(errors).toEqual([expect.stringMatching(/cut\.jsonl\.gz:\d+: not a valid gzip file, or one cut short$/), expect.stringMatching(/garbage\.json\.gz: not a valid gzip file$/)]);
  });
});

describe('text files in folders', () => {
  it('takes the path below the folder given as the id, so same-named files in dated subfolders stay apart', async () => {
    const dd = tempDir();
    for (const day of ['2024-01-01', '2024-01-02']) mkdirSync(join(dd, day, 'late'), { recursive: true });
    writeFileSync(join(dd, '2024-01-01', 'story.txt'), 'Storm hits coast\nWinds of 120 km/h.\n');
    writeFileSync(join(dd, '2024-01-02', 'story.md.gz'), gzipSync('# Storm passes\nThe wind dropped overnight.\n'));
    writeFileSync(join(dd, '2024-01-02', 'late', 'story.txt'), 'Clean-up begins\nVolunteers cleared the beach.\n');
    writeFileSync(join(dd, 'top.v2.txt'), 'Top story\nSomething happened.\n');
    const ids = async (paths: string[]) => {
      const out = [];
      for await (const item of readInputs(paths)) out.push(item.ok ? item.article.id : item.error.message);
      return out;
    };
    expect(await ids([dd])).toEqual(['2024-01-01/story', '2024-01-02/late/story', '2024-01-02/story', 'top.v2']);
    // The same folder named with a trailing slash, or one of its subfolders: paths below what was named.
    expect(await ids([`${dd}/`])).toEqual(['2024-01-01/story', '2024-01-02/late/story', '2024-01-02/story', 'top.v2']);
    expect(await ids([join(dd, '2024-01-02')])).toEqual(['late/story', 'story']);
    // A file named directly keeps its base name.
    expect(await ids([join(dd, '2024-01-01', 'story.txt'), join(dd, '2024-01-02', 'story.md.gz')])).toEqual(['story', 'story']);
  });

  it('ingests dated folders of same-named stories as separate articles, and a re-run leaves them unchanged', async () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    mkdirSync(join(dir, 'dd', '2024-01-01'), { recursive: true });
    mkdirSync(join(dir, 'dd', '2024-01-02'));
    writeFileSync(join(dir, 'dd', '2024-01-01', 'story.txt'), `Quake\n${FIXTURE_TEXTS.quake}\n`);
    writeFileSync(join(dir, 'dd', '2024-01-02', 'story.txt'), `Budget\n${FIXTURE_TEXTS.budget}\n`);
    const ingest = async () => (await cli(['ingest', join(dir, 'dd'), '--json', '--model-dir', tinyModel()], { cwd: dir })).json();
    const first = await ingest();
    expect(first).toMatchObject({ ingested: 2, rejected: 0 });
    expect(first.articles.map((a: { id: string }) => a.id)).toEqual(['2024-01-01/story', '2024-01-02/story']);
    const again = await ingest();
    expect(again).toMatchObject({ ingested: 0, skipped: 2, rejected: 0 });
    expect(again.articles.map((a: { cluster: number }) => a.cluster)).toEqual(first.articles.map((a: { cluster: number }) => a.cluster));
  });
});

describe('article ids', () => {
  const idOf = (id: unknown) => {
    const item = articleFromJson({ id, text: 'Some text.' }, 'feed.jsonl', 7);
    return item.ok ? item.article.id : item.error.message;
  };

  it('takes a string (trimmed) or a safe whole number', () => {
    expect([' a1 ', 'x/y', 42, -7, 0, Number.MAX_SAFE_INTEGER].map(idOf)).toEqual(['a1', 'x/y', '42', '-7', '0', '9007199254740991']);
    expect(idOf(undefined)).toBe('feed.jsonl:7: missing "id"');
    expect(idOf(null)).toBe('feed.jsonl:7: missing "id"');
  });

  it('refuses a number JSON cannot carry exactly, saying to send it as a string', () => {
    // JSON.parse reads both as 1234567890123456800: one article would silently replace the other.
    const lines = ['{"id": 1234567890123456789, "text": "One."}', '{"id": 1234567890123456788, "text": "Two."}'];
    const items = lines.map((l, i) => articleFromJson(JSON.parse(l), 'feed.jsonl', i + 1));
    for (const [i, item] of items.entries()) {
      expect(item.ok).toBe(false);
      if (!item.ok) {
        expect(item.error).toMatchObject({ file: 'feed.jsonl', line: i + 1, articleId: undefined });
        expect(item.error.message).toMatch(new RegExp(`^feed\\.jsonl:${i + 1}: "id" is a whole number too large .*send large ids as strings`));
      }
    }
    expect(idOf(Number.MAX_SAFE_INTEGER + 1)).toMatch(/too large/);
    expect(idOf(-(2 ** 60))).toMatch(/too large/);
  });

  it('says what is wrong with an id of another type, an empty one or a fraction, rather than calling it missing', () => {
    expect(idOf({ x: 1 })).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not an object');
    expect(idOf([1])).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not an array');
    expect(idOf(true)).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not true');
    expect(idOf('')).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not an empty string');
    expect(idOf('  ')).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not an empty string');
    expect(idOf(8.5)).toBe('feed.jsonl:7: "id" must be a non-empty string or a whole number, not 8.5');
  });

  it('refuses an id with a control character (it would break the text output), in JSON and in a file name', async () => {
    for (const id of ['a\nb', 'a\rb', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085', 'ls\u2028x']) {
      expect(idOf(id), JSON.stringify(id)).toMatch(/^feed\.jsonl:7: "id" contains a control character \(U\+[0-9A-F]{4}\)/);
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'two\nlines.txt'), 'Title\nText.\n');
    const items = [];
    for await (const item of readInputs([dir])) items.push(item);
    expect(items).toHaveLength(1);
    expect(items[0]!.ok).toBe(false);
    if (!items[0]!.ok) expect(items[0]!.error.reason).toMatch(/^file name gives the id "two\\nlines", which contains a control character \(U\+000A\)/);
    // The message names the file on one line (its path was printed with the line break in it).
    if (!items[0]!.ok) expect(items[0]!.error.message).toBe(`${join(dir, 'two\\nlines.txt')}: ${items[0]!.error.reason}`);
  });
});

describe('titles', () => {
  const prepare = (title: string) => prepareArticle({ id: 't', title, text: 'The text.', lang: 'en', origin: { file: 'feed.jsonl', line: 3 } });

  it('refuses a title over the limit, naming the limit, and takes one at the limit', () => {
    expect(MAX_TITLE_CHARS).toBe(2_000);
    expect(prepare('x'.repeat(MAX_TITLE_CHARS)).title).toHaveLength(MAX_TITLE_CHARS);
    expect(() => prepare('word '.repeat(500))).toThrow(/^feed\.jsonl:3 \(t\): article title is 2,499 characters after cleaning, over the limit of 2,000 \(a title is one line/);
    // Counted after cleaning: markup and runs of spaces do not count.
    expect(prepare(`<b>${'x'.repeat(MAX_TITLE_CHARS)}</b>${' '.repeat(50)}`).title).toHaveLength(MAX_TITLE_CHARS);
  });

  it('refuses a text file whose first line is too long for a title', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'one-paragraph.txt'), `${'A long first paragraph. '.repeat(100)}\nMore text.\n`);
    const items = [];
    for await (const item of readInputs([dir])) items.push(item);
    const [item] = items;
    expect(item?.ok).toBe(true);
    if (item?.ok) expect(() => prepareArticle(item.article)).toThrow(/one-paragraph\.txt \(one-paragraph\): article title is 2,399 characters/);
  });

  it('checks a one-line draft too long for a title on its text alone', () => {
    const line = 'A whole paragraph pasted as one line. '.repeat(60).trim();
    expect(plainTextDraft(line)).toEqual({ title: '', text: line });
    const draft = articleFromJson({ id: 'draft', ...plainTextDraft(line) }, '<stdin>');
    expect(draft.ok && prepareArticle(draft.article)).toMatchObject({ title: null, text: line });
  });
});
