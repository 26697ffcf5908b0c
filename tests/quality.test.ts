// Quality with the bundled model on real data (issue 3 and 4 targets, measured, not assumed).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floresDocs } from '../scripts/model/flores-docs.ts';
import { cli, DEV_FILE, FLORES_DIR, jsonl, LOCAL_STORIES, plainDivPage, readDev, SEEDS, SITES, sitePage, tempDir, UNKNOWN_LANGUAGES, UNREAD_SCRIPTS } from './helpers.ts';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const [EN_ORIGINAL, EN_REWRITE, FR_TRANSLATION] = ['000_dfad1a769eb878c2', '001_1731066e91127400', '002_24598282812c099b'];

async function seedClusters(dir: string) {
  const r = await cli(['ingest', SEEDS, '--json'], { cwd: dir });
  expect(r.code).toBe(0);
  const clusterOf = new Map<string, number>(r.json().articles.map((a: { id: string; cluster: number }) => [a.id, a.cluster]));
  return clusterOf;
}

describe('bundled model on real articles', () => {
  it('puts the French translation in the English original’s cluster, through the seeds’ boilerplate', async () => {
    const clusterOf = await seedClusters(tempDir());
    expect(clusterOf.get(FR_TRANSLATION)).toBe(clusterOf.get(EN_ORIGINAL));
  });

  // Issue 3's target: all three seeds in one cluster. Not met yet. The English rewrite ("spun" by
  // another outlet) arrives before the French version and scores 0.08 against the original (the
  // same-language bar is 0.56): content cosine 0.70, a third of its passages covered, which is what
  // different articles on the same event score in dev.jsonl (its NATO and birth-tourism pairs:
  // cosine 0.69-0.70, coverage 0.32-0.34; TF-IDF cosine and shared word n-grams do not set it apart
  // either). Against the French version it scores 0.45, over the cross-language bar (0.42), but
  // joining that cluster also takes evidence against its original, the English article (0.078, bar
  // 0.08). This test turns red the day the target is met, so that it gets flipped into a plain test.
  it.fails('clusters the whole seed trio, the English rewrite included (target not met yet)', async () => {
    const clusterOf = await seedClusters(tempDir());
    expect(new Set(clusterOf.values()).size).toBe(1);
  });

  it('points an editor checking the rewrite at the passages it shares with the original', async () => {
    const dir = tempDir();
    await seedClusters(dir);
    // Checked against the other two (its own stored version is left out of its neighbours).
    const r = await cli(['check', join(SEEDS, `${EN_REWRITE}.txt`)], { cwd: dir });
    expect(r.code).toBe(0);
    if (/^verdict: original/m.test(r.stdout)) expect(r.stdout).toMatch(new RegExp(`but \\d+ of its passages resemble passages of ${EN_ORIGINAL}`));
    else expect(r.stdout).toMatch(new RegExp(`^verdict: duplicate of (${EN_ORIGINAL}|${FR_TRANSLATION})`, 'm'));
    // Five pairs are printed under a match; the rest are counted (the rewrite has six).
    expect(r.stdout).toMatch(/^ {4}… and \d+ more passage pairs? \(all of them in --json\)$/m);
  });

  it('gives the same verdict whatever number of neighbours is listed', async () => {
    const dir = tempDir();
    await seedClusters(dir);
    // The original's nearest neighbour is the rewrite, which does not qualify; the translation does.
    const verdicts = [];
    for (const limit of ['1', '10']) {
      const r = await cli(['check', join(SEEDS, `${EN_ORIGINAL}.txt`), '--limit', limit, '--json'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.json().matches).toHaveLength(Number(limit) === 1 ? 1 : 2);
      verdicts.push([r.json().verdict, r.json().decision.clusterId]);
    }
    expect(verdicts[0]).toEqual(verdicts[1]);
    expect(verdicts[0]![0]).toBe('duplicate');
    // As POST /check does, the JSON names the original of the cluster the draft would join.
    const translation = await cli(['check', join(SEEDS, `${FR_TRANSLATION}.txt`), '--json'], { cwd: dir });
    expect(translation.json().original).toMatchObject({ id: EN_ORIGINAL, lang: 'en' });
  });

  it.runIf(existsSync(DEV_FILE))('keeps every dev.jsonl article out of the seed cluster', async () => {
    const dir = tempDir();
    await seedClusters(dir);
    const r = await cli(['ingest', DEV_FILE, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json().ingested).toBe(435);
    const clusters = (await cli(['clusters', '--json', '--min-size', '1'], { cwd: dir })).json().clusters;
    for (const seed of [EN_ORIGINAL, EN_REWRITE, FR_TRANSLATION]) {
      const c = clusters.find((k: { members: { id: string }[] }) => k.members.some((m) => m.id === seed));
      expect(c.members.every((m: { id: string }) => m.id.startsWith('00')), `cluster of ${seed}`).toBe(true);
    }
  });

  it.runIf(existsSync(DEV_FILE))('keeps dev.jsonl quality at or above the figures measured when the defaults were calibrated', async () => {
    const r = await cli(['eval', DEV_FILE, '--json'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    const m = r.json().metrics;
    // Measured at calibration (fitted on this file): pairwise P 0.995, R 0.998, F1 0.996. Held out
    // (calibrate --holdout 5), F1 is 0.982: the floors leave room for that, not for a return to the
    // old figures (F1 0.923).
    expect(m.pairwise.precision).toBeGreaterThanOrEqual(0.99);
    expect(m.pairwise.f1).toBeGreaterThanOrEqual(0.98);
    expect(m.bcubed.f1).toBeGreaterThanOrEqual(0.985);
    expect(m.crossLanguage.recall).toBeGreaterThanOrEqual(0.97);
    expect(m.sameLanguage.recall).toBeGreaterThanOrEqual(0.95);
    // The lexical baseline of the same run finds no translation at all.
    expect(r.json().lexicalBaseline.crossLanguage.found).toBe(0);
  });

  // Translations of one text in 20 languages, 11 of them missing from dev.jsonl. When the story's
  // original (its first article, here the Arabic one) was the only evidence that counted besides the
  // matched member, Hausa, Polish, Chinese and Japanese translations stayed alone (recall 0.986).
  it.runIf(existsSync(FLORES_DIR))('clusters the FLORES documents of 20 languages', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flores.jsonl'), jsonl(floresDocs(FLORES_DIR)));
    const r = await cli(['eval', join(dir, 'flores.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const m = r.json().metrics;
    expect(m.articles).toBe(1680);
    expect(m.pairwise.precision).toBeGreaterThanOrEqual(0.99);
    expect(m.crossLanguage.recall).toBeGreaterThanOrEqual(0.99);
  });

  // A headline alone says too little for its vector: before short sides were compared by their
  // words alone, these drafts were called a translation of the Czech article (0.57) and a rewrite
  // of the English one (0.77), the stories of Hamburg's Olympic bid and of central banks.
  it.runIf(existsSync(DEV_FILE))('calls a one-line draft original unless its words are stored', async () => {
    const dir = tempDir();
    const stories = new Set(readDev().filter((a) => a.id === 'dev-00001' || a.id === 'dev-00254').map((a) => a.cluster));
    const stored = readDev().filter((a) => stories.has(a.cluster));
    writeFileSync(join(dir, 'stories.jsonl'), jsonl(stored.map(({ id, title, text, lang }) => ({ id, title, text, lang }))));
    expect((await cli(['ingest', join(dir, 'stories.jsonl')], { cwd: dir })).code).toBe(0);
    // The German headline (13 tokens) was read as title and text too, and passed the floor at 26.
    for (const headline of ['Hamburg city council debates new bicycle lanes', "Japan's central bank keeps interest rates unchanged", 'Von Beust erntet Lob für neue Olympia-Bewerbung']) {
      const r = await cli(['check', '-', '--json'], { cwd: dir, stdin: `${headline}\n` });
      expect(r.code).toBe(0);
      expect(r.json().verdict, headline).toBe('original');
    }
    // Its words still count: once stored, the same line (in other case and punctuation) is found.
    writeFileSync(join(dir, 'brief.jsonl'), jsonl([{ id: 'brief', text: 'Hamburg city council debates new bicycle lanes', lang: 'en' }]));
    expect((await cli(['ingest', join(dir, 'brief.jsonl')], { cwd: dir })).code).toBe(0);
    const r = await cli(['check', '-', '--json'], { cwd: dir, stdin: 'HAMBURG city council debates new bicycle lanes!\n' });
    expect(r.json().verdict).toBe('duplicate');
    expect(r.json().matches[0].id).toBe('brief');
  });

  // Vectors of text the model cannot read all look alike: before the model said which it can read,
  // these twelve unrelated articles fell into three clusters (scores 0.97-1.00).
  it('keeps apart unrelated articles the model cannot read, and still joins their copies', async () => {
    const dir = tempDir();
    const pairs = [...UNREAD_SCRIPTS, ...UNKNOWN_LANGUAGES];
    const articles = pairs.flatMap((p, i) => p.map((a, k) => ({ id: `${a.lang}-${i}-${k}`, ...a })));
    const copies = articles.filter((a) => a.id.endsWith('-0')).flatMap((a) => [
      { ...a, id: `${a.id}-copy` },
      { ...a, id: `${a.id}-with-footer`, text: `${a.text}\n\nCopyright 2026 Example News Agency. All rights reserved. Read more at example.com.` },
    ]);
    writeFileSync(join(dir, 'unread.jsonl'), jsonl([...articles, ...copies]));
    const r = await cli(['ingest', join(dir, 'unread.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const clusterOf = new Map<string, number>(r.json().articles.map((a: { id: string; cluster: number }) => [a.id, a.cluster]));
    expect(new Set(articles.map((a) => clusterOf.get(a.id))).size).toBe(articles.length);
    // A pipeline reading the JSON output can tell which articles were matched by their words alone.
    expect(new Set(r.json().articles.map((a: { reading?: string }) => a.reading))).toEqual(new Set(['none']));
    for (const c of copies) expect(clusterOf.get(c.id), c.id).toBe(clusterOf.get(c.id.replace(/-(copy|with-footer)$/, '')));
  });

  // Written for the purpose: a daily report in one template. Before numbers were compared they joined at 0.98.
  it('keeps two days of a number-filled report apart, and a copy of one with it', async () => {
    const dir = tempDir();
    const rates = (day: string, euro: string, pound: string, yen: string, gold: string) =>
      `The euro traded at ${euro} dollars on ${day}. The pound was at ${pound} dollars and the yen at ${yen} per dollar. Gold ended the day at ${gold} dollars an ounce.`;
    const monday = { id: 'rates-monday', lang: 'en', title: 'Currency rates', text: rates('Monday', '1.0845', '1.2710', '149.20', '1,985') };
    const tuesday = { id: 'rates-tuesday', lang: 'en', title: 'Currency rates', text: rates('Tuesday', '1.0902', '1.2655', '150.05', '1,972') };
    const copy = { ...monday, id: 'rates-monday-syndicated', text: `${monday.text}\n\nSource: Example News Agency.` };
    writeFileSync(join(dir, 'rates.jsonl'), jsonl([monday, tuesday, copy]));
    const r = await cli(['ingest', join(dir, 'rates.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const clusterOf = new Map<string, number>(r.json().articles.map((a: { id: string; cluster: number }) => [a.id, a.cluster]));
    expect(clusterOf.get('rates-tuesday')).not.toBe(clusterOf.get('rates-monday'));
    expect(clusterOf.get('rates-monday-syndicated')).toBe(clusterOf.get('rates-monday'));
  });

  // Before pages were read from their <article>, the site around these two stories joined them at 0.97.
  it('keeps two unrelated stories of one site apart when they come as whole pages', async () => {
    const dir = tempDir();
    const pages = LOCAL_STORIES.map((s, i) => ({ id: `page-${i}`, lang: 'en', html: sitePage(s.title, s.body) }));
    writeFileSync(join(dir, 'pages.jsonl'), jsonl(pages));
    const r = await cli(['ingest', join(dir, 'pages.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(new Set(r.json().articles.map((a: { cluster: number }) => a.cluster)).size).toBe(2);
  });

  // Read by element names, these six pages made one cluster but for one <article> page: the sites'
  // menus, notices and "most read" headlines outweighed the two short stories (scores 0.93-0.98).
  it('finds the stories of pages built of plain <div>s: one site\'s two stories apart, one story on three sites together', async () => {
    const dir = tempDir();
    const pages = LOCAL_STORIES.flatMap((s, i) => [
      { id: `courier-${i}`, lang: 'en', title: s.title, html: plainDivPage(SITES[0]!, s.title, s.body) },
      { id: `ledger-${i}`, lang: 'en', title: s.title, html: plainDivPage(SITES[1]!, s.title, s.body) },
      { id: `example-${i}`, lang: 'en', title: s.title, html: sitePage(s.title, s.body) },
    ]);
    writeFileSync(join(dir, 'pages.jsonl'), jsonl(pages));
    const r = await cli(['ingest', join(dir, 'pages.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const clusterOf = new Map<string, number>(r.json().articles.map((a: { id: string; cluster: number }) => [a.id, a.cluster]));
    expect(clusterOf.get('courier-1')).not.toBe(clusterOf.get('courier-0'));
    for (const i of [0, 1]) for (const site of ['ledger', 'example']) expect(clusterOf.get(`${site}-${i}`), `${site}-${i}`).toBe(clusterOf.get(`courier-${i}`));
  });

  // Whole dev stories, each article on one of two plain-<div> sites (by language) or in an <article>
  // page, so that most stories span templates. Read by element names: pairwise precision 0.06 and recall
  // 0.86 (90 articles); found by Readability 1.00 and 1.00.
  it.runIf(existsSync(DEV_FILE))('clusters dev stories given as whole pages of three templates as it clusters their text', async () => {
    const dir = tempDir();
    const dev = readDev();
    const clusters = [...new Set(dev.map((a) => a.cluster))].slice(0, 30);
    const pages = dev
      .filter((a) => clusters.includes(a.cluster))
      .map((a, i) => {
        const body = a.text.split('\n').map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
        const title = escapeHtml(a.title ?? '');
        const html = i % 3 === 2 ? sitePage(title, body) : plainDivPage(SITES[['en', 'fr', 'es', 'it'].includes(a.lang) ? 0 : 1]!, title, body);
        return { id: a.id, lang: a.lang, title: a.title, html, cluster: a.cluster };
      });
    writeFileSync(join(dir, 'pages.jsonl'), jsonl(pages));
    const r = await cli(['eval', join(dir, 'pages.jsonl'), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const { pairwise } = r.json().metrics;
    expect(pairwise.precision).toBeGreaterThanOrEqual(0.95);
    expect(pairwise.recall).toBeGreaterThanOrEqual(0.95);
  });
});
