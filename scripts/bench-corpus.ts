// The benchmark corpus: N articles built from real text (dev.jsonl and the seeds) by the edits a
// newsroom feed really shows: verbatim copies under other ids, truncations, paragraphs reordered,
// site footers appended. Every article says how it was made (`variant`), and keeps the gold
// cluster of the article it was made from, so speed can be checked against quality.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './model/train.ts';

export interface BenchArticle {
  id: string;
  title?: string;
  text: string;
  lang?: string;
  /** The gold cluster of the source article (dev.jsonl's `cluster`, or the seed trio's). */
  cluster: string;
  variant: VariantKind;
}

export type VariantKind = 'original' | 'copy' | 'truncated' | 'reordered' | 'footer' | 'truncated+footer' | 'reordered+footer';
const EDITS: VariantKind[] = ['copy', 'truncated', 'reordered', 'footer', 'truncated+footer', 'reordered+footer'];

const paragraphs = (text: string) => text.split(/\n\s*\n|\n/).map((p) => p.trim()).filter(Boolean);

function readSources(devFile: string, seedsDir: string): { sources: BenchArticle[]; footers: string[] } {
  const sources: BenchArticle[] = readFileSync(devFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const o = JSON.parse(l) as { id: string; title?: string; text: string; lang?: string; cluster: string | number };
      return { id: o.id, title: o.title, text: o.text, lang: o.lang, cluster: String(o.cluster), variant: 'original' as const };
    });
  const footers: string[] = [];
  for (const name of readdirSync(seedsDir).filter((f) => f.endsWith('.txt')).sort()) {
    const text = readFileSync(join(seedsDir, name), 'utf8');
    sources.push({ id: `seed-${name.replace(/\.txt$/, '')}`, text, cluster: 'seeds', variant: 'original' });
    // The seeds end in their sites' footers ("Read disclaimer", "Learn more:", "Rate this post" …).
    footers.push(paragraphs(text).slice(-6).join('\n\n'));
  }
  return { sources, footers };
}

function edit(source: BenchArticle, kind: VariantKind, footers: string[], rnd: () => number): string {
  let paras = paragraphs(source.text);
  if (kind.startsWith('truncated')) paras = paras.slice(0, Math.max(1, Math.ceil(paras.length * (0.5 + 0.4 * rnd()))));
  if (kind.startsWith('reordered') && paras.length > 2) {
    // The lead paragraph stays first, as rewriting desks keep it; the rest are shuffled.
    const rest = paras.slice(1);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    }
    paras = [paras[0]!, ...rest];
  }
  if (kind.endsWith('footer')) paras = [...paras, footers[Math.floor(rnd() * footers.length)]!];
  return paras.join('\n\n');
}

/**
 * `n` articles: every source once, then variants of randomly chosen sources, the whole
 * shuffled (a copy may arrive before its original, as on a real feed).
 */
export function buildCorpus(opts: { devFile: string; seedsDir: string; n: number; seed?: number }): BenchArticle[] {
  const rnd = prng(opts.seed ?? 42);
  const { sources, footers } = readSources(opts.devFile, opts.seedsDir);
  const out = sources.slice(0, opts.n);
  for (let i = 0; out.length < opts.n; i++) {
    const source = sources[Math.floor(rnd() * sources.length)]!;
    const kind = EDITS[Math.floor(rnd() * EDITS.length)]!;
    out.push({ ...source, id: `${source.id}~${i}-${kind}`, text: edit(source, kind, footers, rnd), variant: kind });
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function variantCounts(corpus: readonly BenchArticle[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of corpus) counts[a.variant] = (counts[a.variant] ?? 0) + 1;
  return counts;
}
