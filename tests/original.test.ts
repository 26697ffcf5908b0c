// Each cluster names its likely original and each member's relation to it (bundled model, the
// seed articles): the earliest published when dates are known, else the article that covers the
// others best, which a full version does for the lead-only cut of it that came first.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, jsonl, SEEDS, tempDir } from './helpers.ts';

const seed = (name: string) => {
  const [title, ...rest] = readFileSync(join(SEEDS, name), 'utf8').split('\n');
  return { title: title!.trim(), text: rest.join('\n').trim() };
};
const EN = seed('000_dfad1a769eb878c2.txt');
const FR = seed('002_24598282812c099b.txt');

async function explain(dir: string, rows: object[]) {
  writeFileSync(join(dir, 'in.jsonl'), jsonl(rows));
  expect((await cli(['ingest', join(dir, 'in.jsonl')], { cwd: dir })).code).toBe(0);
  const r = await cli(['clusters', '--explain', '--json'], { cwd: dir });
  expect(r.code).toBe(0);
  return r.json().clusters;
}

describe('the original of a cluster (bundled model, seed articles)', () => {
  it('is the earliest published article, whatever came first, and each member says how it relates to it', async () => {
    const dir = tempDir();
    const [cluster, ...rest] = await explain(dir, [
      { id: 'fr', lang: 'fr', published_at: '2023-07-22T09:00:00Z', ...FR },
      { id: 'en', lang: 'en', published_at: '2023-07-21T18:00:00Z', ...EN },
    ]);
    expect(rest).toEqual([]);
    expect(cluster.canonical.id).toBe('en');
    expect(cluster.relations).toEqual([
      { id: 'en', relation: 'original' },
      { id: 'fr', relation: 'translation', coverage: { member: expect.any(Number), original: expect.any(Number) }, earlier: 'original' },
    ]);
    const text = (await cli(['clusters', '--explain'], { cwd: dir })).stdout;
    expect(text).toContain('original en');
    expect(text).toMatch(/translation of the original: [\d.]+% of its passages found in the original.*\(published after it\)/);
  });

  it('without dates, is the full version rather than the lead-only cut of it that came first', async () => {
    const paragraphs = EN.text.split('\n').filter((p) => p.trim());
    const lead = { id: 'lead', lang: 'en', title: EN.title, text: paragraphs.slice(0, 4).join('\n\n') };
    const full = { id: 'full', lang: 'en', ...EN };
    const [cluster, ...rest] = await explain(tempDir(), [lead, full]);
    expect(rest).toEqual([]);
    expect(cluster.canonical.id).toBe('full');
    const relation = cluster.relations.find((r: { id: string }) => r.id === 'lead');
    expect(relation.relation).toBe('near-verbatim');
    // All of the cut is in the full version; a small part of the full version is in the cut.
    expect(relation.coverage.member).toBeGreaterThan(0.95);
    expect(relation.coverage.original).toBeLessThan(0.6);
  });
});
