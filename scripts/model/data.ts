// Reading the parallel training data (../shared/data/parallel layout) and the evaluation sets.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SourceRange {
  source: string;
  from: number; // 1-based inclusive
  to: number;
}

export interface ParallelFile {
  lang: string;
  pairs: [string, string][]; // [xx, en]
  sources: string[]; // source id per pair
}

/** Parses "Line ranges per source" from the data README so sources can be weighted or dropped. */
export function parseSourceRanges(readme: string): Map<string, SourceRange[]> {
  const out = new Map<string, SourceRange[]>();
  for (const line of readme.split('\n')) {
    const m = /^\* `([a-z]{2})-en\.tsv`: (.*)$/.exec(line.trim());
    if (!m) continue;
    const ranges: SourceRange[] = [];
    for (const part of m[2]!.split(';')) {
      const r = /^\s*(\S+) (\d+)[–-](\d+)\s*$/.exec(part);
      if (r) ranges.push({ source: r[1]!, from: Number(r[2]), to: Number(r[3]) });
    }
    if (ranges.length) out.set(m[1]!, ranges);
  }
  return out;
}

export function readTsv(path: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    out.push([line.slice(0, tab), line.slice(tab + 1)]);
  }
  return out;
}

export function loadParallel(dataDir: string, langs?: string[]): ParallelFile[] {
  const readmePath = join(dataDir, 'README.md');
  const ranges = existsSync(readmePath) ? parseSourceRanges(readFileSync(readmePath, 'utf8')) : new Map();
  const files = readdirSync(dataDir)
    .filter((f) => /^[a-z]{2}-en\.tsv$/.test(f))
    .sort();
  const out: ParallelFile[] = [];
  for (const f of files) {
    const lang = f.slice(0, 2);
    if (langs && !langs.includes(lang)) continue;
    const pairs = readTsv(join(dataDir, f));
    const sources = new Array<string>(pairs.length).fill('unknown');
    for (const r of ranges.get(lang) ?? []) for (let i = r.from - 1; i < r.to && i < pairs.length; i++) sources[i] = r.source;
    out.push({ lang, pairs, sources });
  }
  return out;
}

/**
 * Dictionary sources per language from the data README's table ("muse-en-xx 12,000, wechsel-wiktionary
 * 6,000, muse-xx-en 4,000"), in the listed order, which is the order of the lines in dict/<xx>-en.tsv
 * (MUSE en→xx lines are ordered by English word frequency, then the Wiktionary block, then MUSE xx→en).
 */
export function parseDictSources(readme: string): Map<string, { source: string; count: number }[]> {
  const out = new Map<string, { source: string; count: number }[]>();
  const section = readme.split('## Dictionaries')[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^\| ([a-z]{2}) \| [\d,]+ \| (.*) \|$/.exec(line.trim());
    if (!m) continue;
    const parts = m[2]!.split(',').reduce<string[]>((acc, p) => {
      // re-join thousands separators ("12,000") split above
      if (/^\d{3}$/.test(p.trim()) && acc.length) acc[acc.length - 1] += p.trim();
      else acc.push(p.trim());
      return acc;
    }, []);
    const list = parts.map((p) => /^(\S+) (\d+)$/.exec(p)).filter((x): x is RegExpExecArray => !!x).map((x) => ({ source: x[1]!, count: Number(x[2]) }));
    if (list.length) out.set(m[1]!, list);
  }
  return out;
}

export function loadDicts(dataDir: string, langs?: string[]): ParallelFile[] {
  const dir = join(dataDir, 'dict');
  if (!existsSync(dir)) return [];
  const readmePath = join(dataDir, 'README.md');
  const bySource = existsSync(readmePath) ? parseDictSources(readFileSync(readmePath, 'utf8')) : new Map();
  const out: ParallelFile[] = [];
  for (const f of readdirSync(dir).filter((x) => /^[a-z]{2}-en\.tsv$/.test(x)).sort()) {
    const lang = f.slice(0, 2);
    if (langs && !langs.includes(lang)) continue;
    const pairs = readTsv(join(dir, f));
    const sources = new Array<string>(pairs.length).fill('dict');
    let i = 0;
    for (const { source, count } of bySource.get(lang) ?? []) for (let k = 0; k < count && i < pairs.length; k++) sources[i++] = `dict:${source}`;
    out.push({ lang, pairs, sources });
  }
  return out;
}

export interface DevArticle {
  id: string;
  lang: string;
  title: string;
  text: string;
  cluster: string;
  /** Only on variants derived from a real article of the cluster (truncated, lead only, ...). */
  synthetic?: string;
  /** Only on machine translations submitted to WMT. */
  mt_system?: string;
}

export function loadDev(path: string): DevArticle[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DevArticle);
}

/** Benchmark sets: {lang: [xx, en][]} from a folder of <xx>-en.tsv files. */
export function loadBenchmark(dir: string): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => /^[a-z]{2}-en\.tsv$/.test(x)).sort()) out.set(f.slice(0, 2), readTsv(join(dir, f)));
  return out;
}

/** Sources whose domain is news (WMT, NTREX, MAFAND, UD-PUD), as the data README defines "news pairs". */
export function isNewsSource(source: string): boolean {
  return /^(wmt-|ntrex|mafand|ud-pud)/.test(source);
}

/** Sources with a non-commercial licence (data README). */
export const NON_COMMERCIAL_SOURCES = ['multi30k', 'bsd', 'mafand-mt', 'encs-wordalign', 'dict:muse-en-xx', 'dict:muse-xx-en'];
