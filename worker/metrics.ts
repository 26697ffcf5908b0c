// Clustering quality against gold labels: B-cubed and pairwise precision/recall/F1, and pair
// recall split by cross-language and same-language pairs. Pure functions.

export interface LabelledItem {
  id: string;
  lang: string;
  gold: string;
  predicted: string;
}

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClusteringMetrics {
  articles: number;
  bcubed: PRF;
  pairwise: PRF & { goldPairs: number; predictedPairs: number; correctPairs: number };
  crossLanguage: { goldPairs: number; found: number; recall: number };
  sameLanguage: { goldPairs: number; found: number; recall: number };
}

const f1 = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);
const pairs = (n: number) => (n * (n - 1)) / 2;

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

export function clusteringMetrics(items: readonly LabelledItem[]): ClusteringMetrics {
  const gold = groupBy(items, (i) => i.gold);
  const pred = groupBy(items, (i) => i.predicted);
  const cell = groupBy(items, (i) => `${i.gold}\u0000${i.predicted}`);

  let bp = 0;
  let br = 0;
  for (const it of items) {
    const both = cell.get(`${it.gold}\u0000${it.predicted}`)!.length;
    bp += both / pred.get(it.predicted)!.length;
    br += both / gold.get(it.gold)!.length;
  }
  const n = items.length;
  const bcubedP = n ? bp / n : 1;
  const bcubedR = n ? br / n : 1;

  let goldPairs = 0;
  let predictedPairs = 0;
  let correctPairs = 0;
  for (const g of gold.values()) goldPairs += pairs(g.length);
  for (const p of pred.values()) predictedPairs += pairs(p.length);
  for (const c of cell.values()) correctPairs += pairs(c.length);
  // With no predicted pairs there is no false positive: precision is 1 by convention.
  const pp = predictedPairs ? correctPairs / predictedPairs : 1;
  const pr = goldPairs ? correctPairs / goldPairs : 1;

  const cross = { goldPairs: 0, found: 0, recall: 1 };
  const same = { goldPairs: 0, found: 0, recall: 1 };
  for (const members of gold.values()) {
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        const bucket = members[i]!.lang === members[j]!.lang ? same : cross;
        bucket.goldPairs++;
        if (members[i]!.predicted === members[j]!.predicted) bucket.found++;
      }
    }
  }
  for (const b of [cross, same]) b.recall = b.goldPairs ? b.found / b.goldPairs : 1;

  return {
    articles: n,
    bcubed: { precision: bcubedP, recall: bcubedR, f1: f1(bcubedP, bcubedR) },
    pairwise: { precision: pp, recall: pr, f1: f1(pp, pr), goldPairs, predictedPairs, correctPairs },
    crossLanguage: cross,
    sameLanguage: same,
  };
}
