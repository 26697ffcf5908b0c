// The story of a whole page, found by Mozilla's Readability (Firefox's reader view) on linkedom's
// light DOM. Element names alone (worker/text.ts) leave the site around the story on a page built
// of plain <div>s: menus, "most read" lists, cookie notices and footers shared by every page of a
// site joined its unrelated stories (pairwise precision 0.05 on such pages, docs/measurements.md).
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

/** A page as a scraper saves it, not a fragment of a story's markup (a CMS body): Readability needs a document. */
export function isWholePage(html: string): boolean {
  return /<html[\s>]/i.test(html);
}

/**
 * Readability keeps lists inside the story's container whatever their links (a story may list
 * facts), so a "most read" list of headlines placed there stayed, and joined one site's stories
 * (pairwise precision 0.39-0.65 with it, 1.00 without). A list that is all links names other
 * pages; it is not the story.
 */
function dropLinkLists(story: Element): void {
  const letters = (s: string | null) => (s ?? '').replace(/\s+/g, '').length;
  for (const list of story.querySelectorAll('ul, ol')) {
    const linked = [...list.querySelectorAll('a')].reduce((n, a) => n + letters(a.textContent), 0);
    if (linked >= 0.9 * letters(list.textContent)) list.remove();
  }
}

export interface PageStory {
  /** The story's markup. */
  content: string;
  /** The page's headline (its first <h1>, in the story's element when there is one). */
  headline?: string;
}

/**
 * The story, or null where Readability finds none. On a page with an <article> (the first: teaser
 * cards follow the story) or a <main>, Readability reads that element alone, as the plain
 * conversion does, and takes the byline out of it (a line shared by every page of a site), and the
 * headline where it repeats the page's <title>: that is why the headline is returned beside it (not
 * <title>, which often carries the site's name, a line shared by all its pages).
 */
export function pageStory(html: string): PageStory | null {
  try {
    const { document } = parseHTML(html);
    const base = document.querySelector('article') ?? document.querySelector('main');
    const headline = (base ?? document).querySelector('h1')?.textContent?.replace(/\s+/g, ' ').trim();
    if (base && document.body) document.body.replaceChildren(base);
    const story = new Readability(document as unknown as Document, {
      serializer: (node) => {
        dropLinkLists(node as Element);
        return (node as Element).innerHTML;
      },
    }).parse();
    return story?.content ? { content: story.content, ...(headline && { headline }) } : null;
  } catch {
    // A page the DOM or Readability cannot handle is read as before, not failed with its whole batch.
    return null;
  }
}
