// Each cluster member's relation to the cluster's original (its canonical article: the earliest
// published, else the one that covers the others best), worked out from what is stored when a
// cluster is shown: no model needed, and always against the current original, whichever member
// it became through later arrivals and merges.
import type { Store } from '../db/store.ts';
import { boilerplateTest, storedSide } from './candidates.ts';
import { type MatchKind, pairEvidence } from './evidence.ts';

export interface MemberRelation {
  id: string;
  /** `original` for the original itself; otherwise what kind of duplicate of it the member is. */
  relation: 'original' | MatchKind;
  /** Share of the member's passages with a counterpart in the original, and of the original's in the member. */
  coverage?: { member: number; original: number };
  /** Which was published first, when both dates are known. */
  earlier?: 'member' | 'original';
}

export interface ClusterOriginal {
  /** The original's id (null for an empty cluster). */
  original: string | null;
  members: MemberRelation[];
}

export function relationsToOriginal(store: Store, clusterId: number): ClusterOriginal {
  const rowid = store.originalOf(clusterId);
  const original = rowid === undefined ? undefined : store.articleByRowid(rowid);
  if (!original) return { original: null, members: [] };
  const isBoilerplate = boilerplateTest(store);
  const originalSide = storedSide(store, original.rowid);
  const members = store.members(clusterId).map((m): MemberRelation => {
    if (m.id === original.id) return { id: m.id, relation: 'original' };
    const earlier =
      m.publishedAt && original.publishedAt && m.publishedAt !== original.publishedAt ? (m.publishedAt < original.publishedAt ? 'member' : 'original') : undefined;
    const member = store.articleById(m.id)!;
    if (member.contentHash === original.contentHash) return { id: m.id, relation: 'exact', ...(earlier && { earlier }) };
    const ev = pairEvidence(storedSide(store, member.rowid), originalSide, isBoilerplate);
    return { id: m.id, relation: ev.kind, coverage: { member: ev.covered.a, original: ev.covered.b }, ...(earlier && { earlier }) };
  });
  return { original: original.id, members };
}
