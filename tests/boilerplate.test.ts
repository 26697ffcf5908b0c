// The boilerplate trap with the bundled model, on real text: real news stories (dev.jsonl) under
// real site footers (the tails of the seed articles). Two different stories of one site never end
// up together, neither before the footer is known boilerplate (the first articles of a new site)
// nor after; the same story with and without the footer always does.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOILERPLATE_ARTICLES } from '../worker/candidates.ts';
import { cli, DEV_FILE, type DevArticle, devStories, jsonl, readDev, SEEDS, tempDir } from './helpers.ts';

const seed = (name: string) => readFileSync(join(SEEDS, name), 'utf8');
/** Bitcoin.com's tail: author bio, image credits, disclaimer and an "Articles You May Like" list. */
const BITCOIN_COM = (() => {
  const text = seed('000_dfad1a769eb878c2.txt');
  return text.slice(text.indexOf('Lubomir Tassev\n'));
})();
/** Another site's tail: a "Learn more" list of links. */
const LEARN_MORE = (() => {
  const text = seed('001_1731066e91127400.txt');
  return text.slice(text.indexOf('____'));
})();

/** Real stories in one language, long enough to carry a footer. */
const stories = (lang: string) => devStories((a) => a.lang === lang && a.text.length > 800);

/** The article as a site publishes it; the gold cluster stays out of what is ingested. */
const published = (a: DevArticle, id: string, footer?: string) => ({ id, lang: a.lang, title: a.title, text: footer ? `${a.text}\n\n${footer}` : a.text });

async function ingest(dir: string, name: string, rows: object[]): Promise<Map<string, number>> {
  const file = join(dir, name);
  writeFileSync(file, jsonl(rows));
  const r = await cli(['ingest', file, '--json'], { cwd: dir });
  expect(r.code).toBe(0);
  return new Map(r.json().articles.map((a: { id: string; cluster: number }) => [a.id, a.cluster]));
}

async function check(dir: string, draft: object) {
  const r = await cli(['check', '-', '--json'], { cwd: dir, stdin: JSON.stringify(draft) });
  expect(r.code).toBe(0);
  return r.json();
}

describe.runIf(existsSync(DEV_FILE))('boilerplate trap (bundled model, real stories, real site footers)', () => {
  it('keeps different stories of one site apart from its first articles on, and joins each story with and without the footer', async () => {
    const en = stories('en');
    const dir = tempDir();

    // A new site: its footer has been seen once when the second story arrives.
    const first = await ingest(dir, 'first.jsonl', [published(en[0]!, 'site-0', BITCOIN_COM)]);
    const early = await check(dir, published(en[1]!, 'draft', BITCOIN_COM));
    const against = early.matches.find((m: { id: string }) => m.id === 'site-0');
    // The footer is shared word for word, set aside, and no longer carries the match.
    expect(against.evidence.shared.a).toBeGreaterThan(0.2);
    expect(against.evidence.sharedSetAside).toBe(true);
    expect(against.qualifies).toBe(false);
    expect(early.verdict).toBe('original');

    const clusterOf = new Map(first);
    const site = en.slice(1, BOILERPLATE_ARTICLES + 3).map((a, i) => published(a, `site-${i + 1}`, BITCOIN_COM));
    for (const [id, c] of await ingest(dir, 'site.jsonl', [...site, published(en[0]!, 'site-0-bare'), published(en[1]!, 'site-1-bare')])) clusterOf.set(id, c);
    // Every story of the site in a cluster of its own…
    const siteClusters = ['site-0', ...site.map((a) => a.id)].map((id) => clusterOf.get(id));
    expect(new Set(siteClusters).size).toBe(siteClusters.length);
    // …and the same story without the footer in its story's cluster.
    expect(clusterOf.get('site-0-bare')).toBe(clusterOf.get('site-0'));
    expect(clusterOf.get('site-1-bare')).toBe(clusterOf.get('site-1'));

    // By now the footer recurs in more than BOILERPLATE_ARTICLES stored articles: known boilerplate,
    // left out before anything is compared.
    const later = await check(dir, published(en[20]!, 'draft', BITCOIN_COM));
    expect(later.verdict).toBe('original');
    for (const m of later.matches.filter((x: { evidence?: unknown }) => x.evidence)) expect(m.evidence.shared.a).toBe(0);
    const late = await ingest(dir, 'late.jsonl', [published(en[21]!, 'late-21', BITCOIN_COM), published(en[21]!, 'late-21-bare')]);
    expect(late.get('late-21-bare')).toBe(late.get('late-21'));
    expect([...clusterOf.values()]).not.toContain(late.get('late-21'));
  });

  it('counts text that recurs within one story (a wire story copied by many sites) as that story’s, not as boilerplate', async () => {
    const en = stories('en');
    const [x, y] = [en[2]!, en[3]!];
    const dir = tempDir();
    // Each story copied more often than BOILERPLATE_ARTICLES: every paragraph recurs that often,
    // but within one story.
    const copies = (a: DevArticle, name: string) => Array.from({ length: BOILERPLATE_ARTICLES + 2 }, (_, i) => published(a, `${name}-${i}`));
    const clusterOf = await ingest(dir, 'copies.jsonl', [...copies(x, 'x'), ...copies(y, 'y')]);
    expect(new Set([...clusterOf].filter(([id]) => id.startsWith('x-')).map(([, c]) => c)).size).toBe(1);
    // A cut of X with a line of its own: its paragraphs are compared as X's text, not set aside
    // (were they boilerplate, only the new line would be left to compare).
    const paras = x.text.split('\n');
    const cut = { id: 'draft', lang: 'en', title: x.title, text: [...paras.slice(0, Math.ceil(paras.length / 2)), 'Updated with comments from the agency.'].join('\n') };
    const r = await check(dir, cut);
    expect(r.verdict).toBe('duplicate');
    expect(r.decision.clusterId).toBe(clusterOf.get('x-0'));
    const viaX = r.matches.find((m: { id: string; evidence?: unknown }) => m.id.startsWith('x-') && m.evidence);
    expect(viaX.evidence.shared.a).toBeGreaterThan(0.5);
    for (const m of r.matches.filter((k: { id: string }) => k.id.startsWith('y-'))) expect(m.qualifies).toBe(false);
  });

  it('joins a story copied by another site under that site’s own footer, and its translation under the first site’s footer', async () => {
    const en = stories('en');
    const fr = stories('fr');
    const dev = readDev();
    // An English story that has a French translation in dev.
    const story = en.find((a) => dev.some((b) => b.cluster === a.cluster && b.lang === 'fr' && !b.synthetic))!;
    const translation = dev.find((b) => b.cluster === story.cluster && b.lang === 'fr' && !b.synthetic)!;
    const dir = tempDir();
    const clusterOf = await ingest(dir, 'all.jsonl', [
      published(story, 'original', BITCOIN_COM),
      published(en.find((a) => a.cluster !== story.cluster)!, 'other-story', BITCOIN_COM),
      published(story, 'copy', LEARN_MORE),
      published(translation, 'translation', BITCOIN_COM),
      published(fr.find((a) => a.cluster !== story.cluster)!, 'other-french-story', BITCOIN_COM),
    ]);
    expect(clusterOf.get('copy')).toBe(clusterOf.get('original'));
    expect(clusterOf.get('translation')).toBe(clusterOf.get('original'));
    expect(clusterOf.get('other-story')).not.toBe(clusterOf.get('original'));
    expect(clusterOf.get('other-french-story')).not.toBe(clusterOf.get('original'));
    expect(clusterOf.get('other-french-story')).not.toBe(clusterOf.get('other-story'));
  });
});
