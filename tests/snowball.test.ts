// The snowball guard with the bundled model, on real text: a chain of articles each reworking the
// one before (A, then B = half of A and two thirds of another story, then C = that other story) must
// not put A and C, which share nothing, into one cluster through B. (With half of the other story,
// C's link to B no longer clears the join bar once mutual alignment is weighted by similarity: the
// link this test guards against must be one the verifier would otherwise follow.)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, DEV_FILE, devStories, jsonl, SHIPPED_MODEL, tempDir } from './helpers.ts';

const SHIPPED = JSON.parse(readFileSync(join(SHIPPED_MODEL, 'newsdedup.json'), 'utf8')).thresholds as { sameLanguage: number };

/** English originals with at least `n` paragraphs, one per gold cluster, in file order. */
const stories = (n: number) => devStories((a) => a.lang === 'en' && a.text.split('\n').length >= n);

describe.runIf(existsSync(DEV_FILE))('snowball guard (bundled model, real stories)', () => {
  it('keeps A and C apart when B reworks A and C reworks B', async () => {
    const [a, x] = stories(6);
    const pa = a!.text.split('\n');
    const px = x!.text.split('\n');
    const share = (p: string[], f: number) => Math.ceil(p.length * f);
    const rows = [
      { id: 'A', lang: 'en', title: a!.title, text: pa.join('\n') },
      // B: A's first half, then the first two thirds of another story.
      { id: 'B', lang: 'en', title: a!.title, text: [...pa.slice(0, share(pa, 1 / 2)), ...px.slice(0, share(px, 2 / 3))].join('\n') },
      // C: the other story, whole: it shares the rest of B and nothing with A.
      { id: 'C', lang: 'en', title: x!.title, text: px.join('\n') },
    ];
    const dir = tempDir();
    writeFileSync(join(dir, 'ab.jsonl'), jsonl(rows.slice(0, 2)));
    const ab = await cli(['ingest', join(dir, 'ab.jsonl'), '--json'], { cwd: dir });
    expect(ab.code).toBe(0);
    const [, b] = ab.json().articles;
    // B carries half of A word for word: it joins A's story.
    expect(b.status).toBe('joined');

    // C's evidence against B, the member it shares two thirds of its text with, clears the join bar…
    const draft = await cli(['check', '-', '--json'], { cwd: dir, stdin: JSON.stringify({ ...rows[2], id: 'draft' }) });
    const viaB = draft.json().matches.find((m: { id: string }) => m.id === 'B');
    expect(viaB.score).toBeGreaterThanOrEqual(SHIPPED.sameLanguage);
    // …but has no evidence against the cluster's original, A: it is a story of its own, and
    // check says B does not qualify it, as the decision judges.
    expect(viaB.qualifies).toBe(false);
    expect(draft.json().verdict).toBe('original');

    writeFileSync(join(dir, 'c.jsonl'), jsonl(rows.slice(2)));
    const c = await cli(['ingest', join(dir, 'c.jsonl'), '--json'], { cwd: dir });
    expect(c.json().articles[0].status).toBe('created');
    expect(c.json().articles[0].cluster).not.toBe(b.cluster);
  });
});
