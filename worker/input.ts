// Reads articles from files, directories and stdin. Every problem becomes an InputError that
// names the file and line; the reader then goes on with the next line or file.
import { createReadStream, type Dirent, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { CONTROL_CHARACTER, InputError } from './errors.ts';
import { normaliseLanguageTag, UNKNOWN_LANGUAGE } from './language.ts';

export interface RawArticle {
  id: string;
  title?: string;
  text?: string;
  html?: string;
  lang?: string;
  url?: string;
  source?: string;
  publishedAt?: string;
  origin: { file: string; line?: number };
}

export type InputItem = { ok: true; article: RawArticle } | { ok: false; error: InputError };

const LINE_FORMATS = new Set(['.jsonl', '.ndjson']);
const DOC_FORMATS = new Set(['.json']);
const TEXT_FORMATS = new Set(['.txt', '.md']);
const HTML_FORMATS = new Set(['.html', '.htm']);
const SUPPORTED_EXTENSIONS = [...LINE_FORMATS, ...DOC_FORMATS, ...TEXT_FORMATS, ...HTML_FORMATS];
/**
 * Longest article title accepted, after cleaning. A title is one line (a long headline is some 200
 * characters): a longer one is text in the wrong field, or a .txt file's first paragraph.
 */
export const MAX_TITLE_CHARS = 2_000;

/** The supported file types, as messages name them. */
export const SUPPORTED_FILES = `${SUPPORTED_EXTENSIONS.join(', ')}, each also gzip-compressed (.gz)`;

/** What a file name says of its content: the extension of the format, and whether the file is gzip-compressed (`feed.jsonl.gz`). */
export function fileFormat(name: string): { ext: string; gzip: boolean } {
  const gzip = extname(name).toLowerCase() === '.gz';
  return { ext: extname(gzip ? name.slice(0, -3) : name).toLowerCase(), gzip };
}

export const isSupportedFile = (name: string) => SUPPORTED_EXTENSIONS.includes(fileFormat(name).ext);

/** What is said of a file of another type (reading it, or taking it from the inbox). */
export const unsupportedFile = (name: string) => `unsupported file type "${extname(name) || '(none)'}" (supported: ${SUPPORTED_FILES})`;

/** A whole file's bytes, decompressed when it is gzip-compressed. */
export function readBytes(file: string, gzip: boolean): Buffer {
  const raw = readFileSync(file);
  if (!gzip) return raw;
  try {
    return gunzipSync(raw);
  } catch {
    throw new InputError('not a valid gzip file', file);
  }
}

const fail = (message: string, file: string, line?: number, id?: string): InputItem => ({
  ok: false,
  error: new InputError(message, file, line, id),
});

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`field "${key}" must be a string`);
  return v;
}

/** What is said of an id with a control character (it would break the text output), or undefined. */
function controlCharacterIn(id: string): string | undefined {
  const c = CONTROL_CHARACTER.exec(id)?.[0];
  return c && `contains a control character (U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}): an id is one line of printable text`;
}

/** What a JSON value is, as a message names an unusable id. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return 'an empty string';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * The id of a JSON article: a non-empty string (trimmed) or a whole number JSON carries exactly;
 * `defaultId` when there is none. Else what is wrong with it.
 */
function articleId(raw: unknown, defaultId: string | undefined): { id: string } | { problem: string } {
  if (raw === undefined || raw === null) return defaultId ? { id: defaultId } : { problem: 'missing "id"' };
  const wrongType = { problem: `"id" must be a non-empty string or a whole number, not ${describeValue(raw)}` };
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) return wrongType;
    // JSON.parse has already rounded such a number (1234567890123456789 and ...788 both read as
    // 1234567890123456800): two articles would share an id.
    if (!Number.isSafeInteger(raw)) {
      return { problem: `"id" is a whole number too large to read exactly (beyond 2^53 - 1, read as ${String(raw)}): send large ids as strings ("id": "12345678901234567890")` };
    }
    return { id: String(raw) };
  }
  if (typeof raw !== 'string' || !raw.trim()) return wrongType;
  const id = raw.trim();
  const control = controlCharacterIn(id);
  return control ? { problem: `"id" ${control}` } : { id };
}

/**
 * Validates one JSON article. Unknown fields (labels such as `cluster`) are dropped here, so they
 * cannot influence anything downstream. `defaultId` stands in for a missing id (a draft to check).
 */
export function articleFromJson(value: unknown, file: string, line?: number, defaultId?: string): InputItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a JSON object', file, line);
  const o = value as Record<string, unknown>;
  const checked = articleId(o.id, defaultId);
  if ('problem' in checked) return fail(checked.problem, file, line);
  const { id } = checked;
  try {
    const text = optionalString(o, 'text');
    const html = optionalString(o, 'html');
    if (!text?.trim() && !html?.trim()) return fail('article has no "text" or "html"', file, line, id);
    const langField = optionalString(o, 'lang');
    const tag = normaliseLanguageTag(langField);
    if (langField && !tag) return fail(`"lang" ${JSON.stringify(langField)} is not a language code`, file, line, id);
    // "und" (undetermined) asks for detection, like a missing tag.
    const lang = tag === UNKNOWN_LANGUAGE ? undefined : tag;
    const published = optionalString(o, 'published_at');
    if (published && Number.isNaN(Date.parse(published))) return fail(`"published_at" ${JSON.stringify(published)} is not a date`, file, line, id);
    return {
      ok: true,
      article: {
        id,
        title: optionalString(o, 'title'),
        text,
        html,
        lang,
        url: optionalString(o, 'url'),
        source: optionalString(o, 'source'),
        publishedAt: published ? new Date(published).toISOString() : undefined,
        origin: { file, line },
      },
    };
  } catch (err) {
    return fail((err as Error).message, file, line, id);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as UTF-8 text, without the byte order mark that may open it (`opening`: the start of a
 * text, not a line within one); undefined when they are not UTF-8.
 */
export function strictUtf8(bytes: Uint8Array, opening = true): string | undefined {
  try {
    const text = utf8.decode(bytes);
    return opening ? text.replace(/^\ufeff/, '') : text;
  } catch {
    return undefined;
  }
}

/** Strict UTF-8 decoding of a file; binary content (NUL bytes) is refused. */
function decodeUtf8(buf: Uint8Array, file: string): string {
  if (buf.includes(0)) throw new InputError('binary file (contains NUL bytes), not text', file);
  const text = strictUtf8(buf);
  if (text === undefined) throw new InputError('not valid UTF-8 text', file);
  return text;
}

/** Whether a first line that is not JSON opens a JSON document (an array, or an object over several lines) rather than JSON lines. */
export const opensJsonDocument = (line: string) => /^\s*(\[|\{\s*$)/.test(line);

async function* jsonLines(stream: Readable, file: string, defaultId?: string): AsyncGenerator<InputItem> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let lineNo = 0;
  let first = true;
  const parse = (line: string): InputItem | undefined => {
    lineNo++;
    if (!line.trim()) return undefined;
    const opening = first;
    first = false;
    const notJsonLines = () =>
      new InputError('a JSON document (an array, or an object over several lines), not JSON lines: give one article object per line, or save it as a .json file', file, lineNo);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      // A JSON array or a pretty-printed object would otherwise give one "malformed JSON" per line.
      if (opening && opensJsonDocument(line)) throw notJsonLines();
      return fail(`malformed JSON: ${(err as Error).message}`, file, lineNo);
    }
    // An array of articles on one line is the same mistake ("expected a JSON object" did not say so).
    if (opening && Array.isArray(value)) throw notJsonLines();
    return articleFromJson(value, file, lineNo, defaultId);
  };
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      if (bytes.includes(0)) throw new InputError('binary data (contains NUL bytes), not JSON lines', file, lineNo + 1);
      pending += decoder.decode(bytes, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const item = parse(line);
        if (item) yield item;
      }
    }
    pending += decoder.decode();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ERR_ENCODING_INVALID_ENCODED_DATA'
        ? 'not valid UTF-8 text'
        : code?.startsWith('Z_')
          ? 'not a valid gzip file, or one cut short'
          : `cannot read: ${code ?? (err as Error).message}`;
    yield { ok: false, error: err instanceof InputError ? err : new InputError(message, file, lineNo + 1) };
    return;
  }
  const item = parse(pending);
  if (item) yield item;
}

function* jsonDocument(file: string, gzip: boolean, defaultId?: string): Generator<InputItem> {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(readBytes(file, gzip), file));
  } catch (err) {
    yield err instanceof InputError ? { ok: false, error: err } : fail(`malformed JSON: ${(err as Error).message}`, file);
    return;
  }
  const items = Array.isArray(value) ? value : [value];
  for (const [i, v] of items.entries()) yield articleFromJson(v, Array.isArray(value) ? `${file}[${i}]` : file, undefined, defaultId);
}

/**
 * A .txt/.md file is one article: title = first non-empty line. `name` is the file's name, or its
 * path below the folder named on the command line (`2024-01-01/story.txt`); the id is that name
 * without its extension (and `.gz`), so same-named files in different subfolders stay apart.
 */
function textDocument(file: string, gzip: boolean, name: string, draft = false): InputItem {
  const doc = wholeFile(file, gzip, name);
  if (!doc.ok) return doc;
  const { id, content } = doc;
  const titled = draft ? plainTextDraft(content) : titledText(content);
  if (!titled) return fail('file is empty', file, undefined, id);
  if (!titled.text.trim()) return fail('article has a title line but no text', file, undefined, id);
  return { ok: true, article: { id, ...titled, origin: { file } } };
}

/** A saved .html/.htm page is one article, its id as a text file's; its story and headline are found when it is prepared. */
function htmlDocument(file: string, gzip: boolean, name: string): InputItem {
  const doc = wholeFile(file, gzip, name);
  if (!doc.ok) return doc;
  if (!doc.content.trim()) return fail('file is empty', file, undefined, doc.id);
  return { ok: true, article: { id: doc.id, html: doc.content, origin: { file } } };
}

/** A one-article file's text, and the id its name gives. */
function wholeFile(file: string, gzip: boolean, name: string): { ok: true; id: string; content: string } | { ok: false; error: InputError } {
  let content: string;
  try {
    content = decodeUtf8(readBytes(file, gzip), file);
  } catch (err) {
    return { ok: false, error: err as InputError };
  }
  const unzipped = gzip ? name.slice(0, -3) : name;
  const id = unzipped.slice(0, unzipped.length - extname(unzipped).length);
  const control = controlCharacterIn(id);
  if (control) return { ok: false, error: new InputError(`file name gives the id ${JSON.stringify(id)}, which ${control}`, file) };
  return { ok: true, id, content };
}

/** Plain text as an article: the first non-empty line is the title (a Markdown heading's #s dropped), the rest the text. */
function titledText(content: string): { title: string; text: string } | undefined {
  const lines = content.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim().length > 0);
  if (first < 0) return undefined;
  return { title: lines[first]!.trim().replace(/^#+\s*/, ''), text: lines.slice(first + 1).join('\n') };
}

/**
 * A draft given as plain text (`check` on stdin, POST /check): as a .txt article, except that a
 * draft of a single line (a headline, a lede) is checked on that line as its text, without a
 * title: as both, it was read twice, and a headline counted as twice its length (the floor under
 * which a pair is compared by its words alone, cluster-decision.ts FEW_TOKENS). Undefined when blank.
 */
export function plainTextDraft(content: string): { title: string; text: string } | undefined {
  const titled = titledText(content);
  if (!titled || titled.text.trim()) return titled;
  return { title: '', text: titled.title };
}

/** What is said of a path the system will not read or list ("cannot read: EACCES"). */
const cannotRead = (err: unknown, path: string) => fail(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);

/** A file to read, and its name as its id is made from (see textDocument). */
interface Listed {
  file: string;
  name: string;
}

/**
 * The supported files below a folder, recursively in name order, each named by its path below
 * the folder (`prefix` is that of `dir`, with '/' separators). A folder that cannot be listed (no
 * permission) is reported in its place, and the rest of the walk goes on.
 */
function listDirectory(dir: string, skipped: string[], prefix = ''): Array<Listed | InputItem> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return [cannotRead(err, dir)];
  }
  const out: Array<Listed | InputItem> = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listDirectory(path, skipped, `${prefix}${entry.name}/`));
    else if (isSupportedFile(entry.name)) out.push({ file: path, name: `${prefix}${entry.name}` });
    else skipped.push(`${prefix}${entry.name}`);
  }
  return out;
}

async function* readFile({ file, name }: Listed, defaultId?: string): AsyncGenerator<InputItem> {
  const { ext, gzip } = fileFormat(file);
  // A read or decompression error ends the stream with that error, where jsonLines reports it.
  const lines = () => (gzip ? pipeline(createReadStream(file), createGunzip(), () => undefined) : createReadStream(file));
  if (LINE_FORMATS.has(ext)) yield* jsonLines(lines(), file, defaultId);
  else if (DOC_FORMATS.has(ext)) yield* jsonDocument(file, gzip, defaultId);
  else if (TEXT_FORMATS.has(ext)) yield textDocument(file, gzip, name, defaultId !== undefined);
  else if (HTML_FORMATS.has(ext)) yield htmlDocument(file, gzip, name);
  else yield fail(unsupportedFile(file), file);
}

/**
 * Articles from each path in turn: files, directories (recursively, supported extensions only: the
 * others are passed to `onSkipped`) or "-" for JSON lines on stdin. `defaultId` is given for a draft to check: it stands in for a JSON
 * article's missing id, and a one-line text file is checked on its line, as on stdin (plainTextDraft).
 */
export async function* readInputs(
  paths: string[],
  stdin: Readable = process.stdin,
  opts: { defaultId?: string; onSkipped?: (folder: string, files: string[]) => void } = {},
): AsyncGenerator<InputItem> {
  for (const path of paths) {
    if (path === '-') {
      yield* jsonLines(stdin, '<stdin>', opts.defaultId);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      yield cannotRead(err, path);
      continue;
    }
    // A file named directly is named by its base name.
    const skipped: string[] = [];
    const files = isDir ? listDirectory(path, skipped) : [{ file: path, name: basename(path) }];
    // Not errors (a folder of feeds may hold other files), but not silent either: .html pages dropped there were.
    if (skipped.length) opts.onSkipped?.(path, skipped);
    for (const listed of files) {
      if ('ok' in listed) {
        yield listed;
        continue;
      }
      try {
        yield* readFile(listed, opts.defaultId);
      } catch (err) {
        yield cannotRead(err, listed.file);
      }
    }
  }
}
