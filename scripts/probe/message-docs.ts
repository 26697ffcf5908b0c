// Labelled multilingual documents far from news, for `newsdedup eval`: translated software messages
// from the machine's gettext catalogues (/usr/share/locale on Debian). Each document is 8 unrelated
// messages of one program; its translations into the other languages form its gold cluster. The
// messages are short, generic and topically alike (files, permissions, widgets), which is where a
// verifier fitted on news is overconfident, and 12 of the 25 languages are outside the bundled
// model's 20: the README's figures on "documents of software messages" come from this set.
//
//   npx tsx scripts/probe/message-docs.ts --out message-docs.jsonl && npx newsdedup eval message-docs.jsonl
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mo } from 'gettext-parser';
import { scriptArgs } from '../args.ts';
import { prng } from '../model/train.ts';

/** 12 of the model's languages and 13 outside it, as their catalogues are named. */
const LANGS = ['fr', 'de', 'es', 'uk', 'it', 'ru', 'cs', 'tr', 'pl', 'nl', 'hu', 'pt', 'sv', 'ko', 'el', 'da', 'vi', 'fi', 'ka', 'ro', 'id', 'sr', 'ca', 'sk', 'bg'];
const PER_DOC = 8;

export interface MessageDoc {
  id: string;
  lang?: string;
  text: string;
  cluster: string;
  /** The catalogue's language; `lang` is left out (detected) for all but English. */
  written_in: string;
}

/** msgid -> translation of every .mo catalogue of one language, by domain (file name). */
function catalogues(localeDir: string, lang: string): Map<string, Map<string, string>> {
  const dir = join(localeDir, lang, 'LC_MESSAGES');
  const out = new Map<string, Map<string, string>>();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.mo'));
  } catch {
    return out;
  }
  for (const file of files) {
    const messages = new Map<string, string>();
    for (const context of Object.values(mo.parse(readFileSync(join(dir, file))).translations)) {
      for (const [msgid, entry] of Object.entries(context)) {
        const msgstr = entry.msgstr[0];
        if (msgid && msgstr && msgstr !== msgid) messages.set(msgid, msgstr);
      }
    }
    out.set(file.slice(0, -3), messages);
  }
  return out;
}

export function messageDocs(localeDir: string, seed = 1): MessageDoc[] {
  const byLang = new Map(LANGS.map((l) => [l, catalogues(localeDir, l)]));
  const domains = new Set([...byLang.values()].flatMap((c) => [...c.keys()]));
  const pool: { msgid: string; translations: Map<string, string> }[] = [];
  for (const domain of [...domains].sort()) {
    const langs = LANGS.filter((l) => byLang.get(l)!.has(domain));
    if (langs.length < 18) continue;
    const ids = new Set(langs.flatMap((l) => [...byLang.get(l)!.get(domain)!.keys()]));
    for (const msgid of [...ids].sort()) {
      // Sentence-like messages only: no format placeholders, one line, 60-400 characters.
      if (msgid.length < 60 || msgid.length > 400 || msgid.includes('%') || msgid.includes('\n')) continue;
      const translations = new Map<string, string>();
      for (const l of langs) {
        const t = byLang.get(l)!.get(domain)!.get(msgid);
        if (t) translations.set(l, t);
      }
      if (translations.size >= LANGS.length - 3) pool.push({ msgid, translations });
    }
  }
  const rand = prng(seed);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const docs: MessageDoc[] = [];
  for (let c = 0; (c + 1) * PER_DOC <= pool.length; c++) {
    const group = pool.slice(c * PER_DOC, (c + 1) * PER_DOC);
    const cluster = `messages-${c}`;
    docs.push({ id: `messages-en-${c}`, lang: 'en', text: group.map((m) => m.msgid).join('\n'), cluster, written_in: 'en' });
    for (const l of LANGS) {
      if (group.every((m) => m.translations.has(l))) docs.push({ id: `messages-${l}-${c}`, text: group.map((m) => m.translations.get(l)!).join('\n'), cluster, written_in: l });
    }
  }
  return docs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = scriptArgs(
    `Writes translated software messages (gettext catalogues) as labelled multilingual documents for newsdedup eval:
8 messages a document, its translations one gold cluster; only English carries "lang".

  npx tsx scripts/probe/message-docs.ts [--locale /usr/share/locale] [--out message-docs.jsonl]`,
    { locale: { type: 'string', default: '/usr/share/locale' }, out: { type: 'string', default: 'message-docs.jsonl' } },
  );
  const docs = messageDocs(values.locale!);
  writeFileSync(values.out!, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  console.log(`wrote ${docs.length} documents (${new Set(docs.map((d) => d.cluster)).size} clusters, ${new Set(docs.map((d) => d.written_in)).size} languages) to ${values.out}`);
}
