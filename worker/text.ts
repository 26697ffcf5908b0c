// Text normalisation and fingerprints: what an article's text is once HTML, stray control
// characters and layout whitespace are gone, and the hash that identifies exact copies.
import { createHash } from 'node:crypto';
import { convert } from 'html-to-text';

export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  });
}

/** NFC, no control characters, one paragraph per line, single spaces inside lines. */
export function normaliseText(s: string): string {
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\ufeff]/g, '')
    .split('\n')
    .map((line) => line.replace(/[\s\u00a0\u3000]+/g, ' ').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

/**
 * Fingerprint of the words alone (case, punctuation and layout ignored), so that two copies that
 * differ only in formatting count as exact duplicates.
 */
export function contentHash(title: string | null | undefined, text: string): string {
  const words = `${title ?? ''}\n${text}`.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  return createHash('sha256').update(words.join(' ')).digest('hex').slice(0, 32);
}
