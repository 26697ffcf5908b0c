// The store keeps articles' clusters and fingerprint counts in memory for its write transactions.
// They must stay what SQLite says: through merges, rewrites and rollbacks of its own, and when
// another connection wrote since its last transaction.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../db/store.ts';
import { tempDir } from './helpers.ts';

const article = (id: string) => ({ id, lang: 'en', contentHash: `h-${id}`, text: `text of ${id}`, title: id });
const window = (hash: string) => ({ start: 0, end: 1, tokens: 1, hash, vector: Float32Array.from([1, 0]) });

describe('store caches', () => {
  it('give what SQLite gives, whoever wrote', () => {
    const path = join(tempDir(), 'c.db');
    const a = new Store(path);
    const b = new Store(path);
    const seen = (s: Store, rowid: number, hash: string) => s.transaction(() => ({ cluster: s.neighbour(rowid)?.clusterId, df: s.windowFrequency(hash), stories: s.storiesWith(hash, 5) }));

    const [c1, c2] = a.transaction(() => [a.createCluster(), a.createCluster()]);
    const r1 = a.transaction(() => a.writeArticle(article('x'), c1!, Float32Array.from([1, 0]), [window('w')]));
    const r2 = a.transaction(() => a.writeArticle(article('y'), c2!, Float32Array.from([1, 0]), [window('w')]));
    expect(seen(a, r1, 'w')).toEqual({ cluster: c1, df: 2, stories: 2 });

    a.transaction(() => a.mergeCluster(c1!, c2!));
    expect(seen(a, r2, 'w')).toEqual({ cluster: c1, df: 2, stories: 1 });

    // Another connection adds an article with the fingerprint and moves one.
    const c3 = b.transaction(() => b.createCluster());
    b.transaction(() => b.writeArticle(article('z'), c3, Float32Array.from([1, 0]), [window('w')]));
    b.transaction(() => b.writeArticle({ ...article('y'), contentHash: 'h-y2' }, c3, Float32Array.from([0, 1]), [window('v')], r2));
    expect(seen(a, r2, 'w')).toEqual({ cluster: c3, df: 2, stories: 2 });
    expect(a.vectorOf(r2)).toEqual(b.vectorOf(r2));

    // A rolled-back write leaves nothing behind.
    expect(() =>
      a.transaction(() => {
        a.writeArticle(article('q'), c1!, Float32Array.from([1, 0]), [window('w')]);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(seen(a, r1, 'w')).toEqual({ cluster: c1, df: 2, stories: 2 });
    a.close();
    b.close();
  });
});
