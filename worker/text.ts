// Text normalisation and fingerprints: what an article's text is once HTML, stray control
// characters and layout whitespace are gone, and the hash that identifies exact copies.
import { createHash } from 'node:crypto';
import { convert } from 'html-to-text';

function htmlToText(html: string, preserveNewlines = false): string {
  return convert(html, {
    wordwrap: false,
    preserveNewlines,
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

/**
 * Markup that marks a `text` or `title` field as HTML rather than plain text (feeds and CMS exports
 * often put the body's markup there, or escape "&" as "&amp;"): a closing tag of a common element, a
 * line break or paragraph tag, an image, a character reference. An angle bracket or an ampersand
 * alone ("a < b", "<b or c>", "Q&A") is not enough.
 */
const HTML_MARKUP =
  /<\/(?:p|div|span|a|b|i|u|em|strong|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table|tr|td|th|script|style|section|article|header|footer|nav|iframe)\s*>|<(?:br|hr|p)\s*\/?>|<img\s[^<>]*src=|&(?:amp|quot|apos|lt|gt|nbsp|#\d+|#x[\da-f]+);/i;

/** A plain-text field (`text`, `title`) without the markup it may carry; its line breaks stay. */
export function withoutMarkup(field: string): string {
  return HTML_MARKUP.test(field) ? htmlToText(field, true) : field;
}

/** The text of an article given as `text` or `html`. */
export function plainText(text: string | undefined, html: string | undefined): string {
  return text !== undefined ? withoutMarkup(text) : htmlToText(html ?? '');
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
