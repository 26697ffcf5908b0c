import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorOverlap, anchors, contained, jaccard, minhash, windowHash, words } from '../worker/fingerprints.ts';
import { FIXTURE_TEXTS, SEEDS } from './helpers.ts';

describe('fingerprints', () => {
  it('hashes windows blind to case, punctuation and spacing', () => {
    expect(windowHash('Read more: the  Disclaimer!')).toBe(windowHash('read more the disclaimer'));
    expect(windowHash('Read more')).not.toBe(windowHash('Read less'));
  });

  it('splits CJK runs into characters', () => {
    expect(words('東京 Tokyo')).toEqual(['東', '京', 'tokyo']);
  });

  it('estimates Jaccard: 1 for the same text, high for a light edit, low for another story', () => {
    const a = minhash(FIXTURE_TEXTS.quake);
    expect(jaccard(a, minhash(FIXTURE_TEXTS.quake))).toBe(1);
    expect(jaccard(a, minhash(FIXTURE_TEXTS.quake.replace('Monday', 'Tuesday')))).toBeGreaterThan(0.7);
    expect(jaccard(a, minhash(FIXTURE_TEXTS.budget))).toBeLessThan(0.1);
  });

  it('estimates containment: a lead-only cut is in its story, the story is not in the cut, nor is a rewrite', () => {
    const story = readFileSync(join(SEEDS, '000_dfad1a769eb878c2.txt'), 'utf8');
    const rewrite = minhash(readFileSync(join(SEEDS, '001_1731066e91127400.txt'), 'utf8'));
    const full = minhash(story);
    const cut = minhash(story.slice(0, Math.floor(story.length * 0.3)));
    expect(jaccard(cut, full)).toBeLessThan(0.5);
    expect(contained(cut, full)).toBeGreaterThan(0.9);
    expect(contained(full, cut)).toBeLessThan(0.5);
    expect(contained(full, full)).toBe(1);
    expect(contained(cut, rewrite)).toBe(0);
    expect(contained(rewrite, full)).toBe(0);
  });

  it('keeps the signature values of earlier versions: stored signatures are compared with new ones', () => {
    const text = 'The Financial Times claimed that US diplomats believe several Japanese crypto exchanges are still operating in Russia.';
    // The first slots as computed before the shingle hashing was rewritten (92b8589).
    expect(Array.from(minhash(text).slice(0, 8))).toEqual([982191926, 180741872, 67178894, 52123211, 281740598, 114535956, 94488238, 280776391]);
  });

  it('reads numbers the same way whatever the separators', () => {
    expect(anchors('In 2023 it cost $1,250.50; 7 people; 12 %')).toEqual(['12', '125050', '2023']);
    expect(anchors('en 2023, 1 250,50 $ ; 12 %')).toEqual(['12', '125050', '2023']);
    expect(anchorOverlap(['2023', '12'], ['12', '2023', '99'])).toBe(1);
    expect(anchorOverlap(['2023'], [])).toBeUndefined();
  });
});
