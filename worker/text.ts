// Text normalisation and fingerprints: what an article's text is once HTML, stray control
// characters and layout whitespace are gone, and the hash that identifies exact copies.
import { createHash } from 'node:crypto';
import { compile, type HtmlToTextOptions } from 'html-to-text';
import { isWholePage, pageStory } from './page-story.ts';

/**
 * Scrapers hand over whole pages: site menus, cookie notices, search forms, "most read" lists and
 * footers, the same on every page of a site, outweighed the story itself. Two unrelated stories
 * of one site's template joined at 0.97. A whole page's story is found by Readability
 * (worker/page-story.ts); a fragment, or a page where Readability finds none, is read from its
 * <article> (the first one: teaser cards come after the story) or <main> element alone, and
 * elements that are never the story are skipped everywhere; without either, the page's own
 * <header> and <footer> go too.
 */
const NEVER_THE_STORY = ['nav', 'aside', 'form', 'button', 'noscript', 'iframe', 'svg', 'img', 'script', 'style'];

function converter(base: 'article' | 'main' | undefined, preserveNewlines: boolean): (html: string) => string {
  const chrome = base ? NEVER_THE_STORY : [...NEVER_THE_STORY, 'header', 'footer'];
  const options: HtmlToTextOptions = {
    wordwrap: false,
    preserveNewlines,
    ...(base && { baseElements: { selectors: [base], returnDomByDefault: true }, limits: { maxBaseElements: 1 } }),
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      ...chrome.map((selector) => ({ selector, format: 'skip' })),
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  };
  return compile(options);
}

const converters = new Map<string, (html: string) => string>();

function convert(html: string, base: 'article' | 'main' | undefined, preserveNewlines: boolean): string {
  const key = `${base}:${preserveNewlines}`;
  let fn = converters.get(key);
  if (!fn) converters.set(key, (fn = converter(base, preserveNewlines)));
  return fn(html);
}

function htmlToText(html: string, preserveNewlines = false): string {
  const base = /<article[\s>]/i.test(html) ? 'article' : /<main[\s>]/i.test(html) ? 'main' : undefined;
  return convert(html, base, preserveNewlines);
}

/**
 * Non-space characters under which Readability's answer is no story (about a headline: a caption or
 * a label it kept while missing the rest); the page is then read by its elements.
 */
const MIN_STORY_CHARS = 50;

/**
 * The text of an `html` field: the story where it is a whole page and Readability finds it, with
 * the page's headline where the story left it out (a title for an article sent without one).
 */
export function pageText(html: string): { text: string; headline?: string } {
  const story = isWholePage(html) ? pageStory(html) : null;
  if (story !== null) {
    // Readability's markup is the story alone: an <article> inside it (an embedded post) is part of it.
    const text = convert(story.content, undefined, false);
    if (text.replace(/\s+/g, '').length >= MIN_STORY_CHARS) {
      const { headline } = story;
      return headline && !text.trimStart().startsWith(headline) ? { text, headline } : { text };
    }
  }
  return { text: htmlToText(html) };
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
