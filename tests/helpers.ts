// Shared test fixtures: a tiny real model (generated ONNX + tokenizer, loaded through
// transformers.js like any model), temp folders, and an in-process CLI runner.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { makeTinyModel } from '../scripts/make-tiny-model.ts';
import { type DevArticle, loadDev } from '../scripts/model/data.ts';
import { runCli } from '../worker/cli.ts';
import type { Logger } from '../worker/log.ts';

export const ROOT = join(import.meta.dirname, '..');
export const SEEDS = join(ROOT, 'seeds');
export const SHIPPED_MODEL = join(ROOT, 'models', 'newsdedup-static-v1');
/** Real labelled news (../shared/data/dev.jsonl), present on the project's machines; tests that need it skip without it. */
export const DEV_FILE = join(ROOT, '..', 'shared', 'data', 'dev.jsonl');
/** FLORES-200 devtest (multi-parallel sentences), as the model benchmark reads it. */
export const FLORES_DIR = join(ROOT, '..', 'shared', 'data', 'benchmarks', 'flores');

export type { DevArticle };

export const readDev = (): DevArticle[] => loadDev(DEV_FILE);

/** Real stories: one original article (no synthetic variant, no MT output) per gold cluster, in file order, that `keep` accepts. */
export function devStories(keep: (a: DevArticle) => boolean): DevArticle[] {
  const seen = new Set<string>();
  return readDev().filter((a) => !a.synthetic && !a.mt_system && keep(a) && !seen.has(a.cluster) && seen.add(a.cluster) !== undefined);
}

const made: string[] = [];
// Registered when a test file imports this module (each file gets its own copy): the folders the
// file made are removed once its tests and their own after-hooks are done.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the system temp dir, removed after the test file unless `keep` (e.g. a screenshot to look at). */
export function tempDir(prefix = 'newsdedup-test-', opts: { keep?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!opts.keep) made.push(dir);
  return dir;
}

export const FIXTURE_TEXTS = {
  quake:
    'A strong earthquake struck the coastal city of Valparaiso on Monday morning, damaging hundreds of homes and cutting power to thousands of residents. Emergency services said at least twelve people were injured and rescue teams searched collapsed buildings through the night.',
  budget:
    'The finance minister presented a budget that raises spending on schools and hospitals while cutting fuel subsidies. Opposition parties called the plan reckless and promised to vote against it when parliament meets next week.',
  match:
    'The home side won the cup final after a dramatic penalty shootout, with the young goalkeeper saving two spot kicks. Fans celebrated in the streets until dawn as the club lifted its first trophy in twenty years.',
  budgetFr:
    'Le ministre des finances a présenté un budget qui augmente les dépenses pour les écoles et les hôpitaux tout en réduisant les subventions aux carburants. Les partis d’opposition ont jugé le plan imprudent.',
};

let tiny: string | undefined;
/** A small word-level model: texts sharing words get similar vectors; it knows no translations. */
export function tinyModel(): string {
  tiny ??= makeTinyModel({
    outDir: join(tempDir('newsdedup-tiny-model-'), 'tiny'),
    texts: [...readdirSync(SEEDS).map((f) => readFileSync(join(SEEDS, f), 'utf8')), ...Object.values(FIXTURE_TEXTS)],
  });
  return tiny;
}

/** Thresholds that suit the tiny model's bag-of-words vectors. */
export function writeTinyConfig(dir: string): void {
  writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ thresholds: { sameLanguage: 0.8, crossLanguage: 0.8, merge: 0.95 } }));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => any;
}

export async function cli(args: string[], opts: { cwd: string; stdin?: string; env?: Record<string, string> }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
    stdin: Readable.from([Buffer.from(opts.stdin ?? '')]),
    env: { NEWSDEDUP_LOG_LEVEL: 'silent', ...opts.env },
    cwd: opts.cwd,
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

export function jsonl(rows: object[]): string {
  return `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

/**
 * Pairs of unrelated news texts (government measures; a cup final) in scripts the bundled model
 * has no vocabulary for, then in languages outside its 20 written in scripts it knows.
 */
export const UNREAD_SCRIPTS: [{ lang: string; text: string }, { lang: string; text: string }][] = [
  [
    { lang: 'ko', text: '서울에서 열린 회의에서 정부는 새로운 경제 정책을 발표했다. 전문가들은 이 정책이 성장에 도움이 될 것이라고 말했다.' },
    { lang: 'ko', text: '어제 부산에서 열린 축구 결승전에서 홈팀이 승리했다. 팬들은 밤늦게까지 거리에서 축하했다.' },
  ],
  [
    { lang: 'he', text: 'הממשלה הודיעה היום על צעדים חדשים לכלכלה, כך אמר ראש הממשלה. הצעדים כוללים הפחתת מסים לעסקים קטנים.' },
    { lang: 'he', text: 'קבוצת הכדורגל של העיר ניצחה אתמול במשחק הגמר של הגביע. האוהדים חגגו ברחובות עד שעות הלילה המאוחרות.' },
  ],
  [
    { lang: 'th', text: 'รัฐบาลประกาศมาตรการใหม่สำหรับเศรษฐกิจในวันนี้ตามที่นายกรัฐมนตรีกล่าว\nนักเศรษฐศาสตร์กล่าวว่ามาตรการเหล่านี้จะช่วยกระตุ้นการลงทุนและการจ้างงานในปีหน้า' },
    { lang: 'th', text: 'ทีมฟุตบอลของเมืองชนะการแข่งขันนัดชิงชนะเลิศถ้วยเมื่อวานนี้ แฟนบอลเฉลิมฉลองบนถนนจนดึก' },
  ],
];

export const UNKNOWN_LANGUAGES: typeof UNREAD_SCRIPTS = [
  [
    { lang: 'el', text: 'Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία, σύμφωνα με τον πρωθυπουργό. Τα μέτρα περιλαμβάνουν μειώσεις φόρων.' },
    { lang: 'el', text: 'Η ομάδα ποδοσφαίρου της πόλης κέρδισε χθες τον τελικό του κυπέλλου. Οι οπαδοί γιόρτασαν στους δρόμους μέχρι αργά το βράδυ.' },
  ],
  [
    { lang: 'vi', text: 'Chính phủ hôm nay công bố các biện pháp mới cho nền kinh tế, theo lời thủ tướng. Các biện pháp bao gồm giảm thuế cho doanh nghiệp nhỏ.' },
    { lang: 'vi', text: 'Đội bóng đá của thành phố đã giành chiến thắng trong trận chung kết cúp hôm qua. Người hâm mộ ăn mừng trên đường phố đến khuya.' },
  ],
  [
    { lang: 'sv', text: 'Regeringen meddelade i dag nya åtgärder för ekonomin, enligt statsministern. Åtgärderna omfattar skattesänkningar för små företag.' },
    { lang: 'sv', text: 'Stadens fotbollslag vann i går cupfinalen. Supportrarna firade på gatorna till sent på natten.' },
  ],
];

/** Two unrelated news texts in a language outside the model's 20 that lies near one of them (Bulgarian, near Russian). */
export const NEAR_LANGUAGE = [
  { lang: 'bg', text: 'Правителството обяви днес нови мерки за икономиката, каза министър-председателят. Мерките включват намаляване на данъците за малкия бизнес и инвестиции в инфраструктурата.' },
  { lang: 'bg', text: 'Футболният отбор на града спечели вчера финала за купата. Феновете празнуваха по улиците до късно през нощта.' },
];

/** A news site's page template around a story, as a scraper hands it over: menu, cookie notice, search, "most read", footer. */
export function sitePage(title: string, body: string): string {
  return `<!doctype html><html><head><title>${title} | Daily Example</title><script>var x = 1;</script></head><body>
<header><div class="logo">Daily Example</div><ul class="menu"><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul>
<form><input name="q"><button>Search</button></form></header>
<div class="cookie">We use cookies to improve your experience on our website. By continuing to browse you agree to our use of cookies and our privacy policy.</div>
<main><article><header><h1>${title}</h1><p>By Staff Reporter</p></header>${body}</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Prime minister faces pressure over budget plans as unions threaten strikes</a></li><li><a href="/b">Champions League draw pits holders against last year's finalists</a></li><li><a href="/c">New study links ultra-processed food to heart disease in adults</a></li><li><a href="/d">Storm warning issued for coastal areas ahead of the weekend</a></li></ul></aside></main>
<footer><p>Copyright 2026 Daily Example Media Group. All rights reserved. Terms of use. Privacy policy. Contact us. Advertise with us.</p></footer></body></html>`;
}

/** A news site's look: its name, menu, notices and the headlines of its "most read" list. */
export interface Site {
  name: string;
  menu: string[];
  cookie: string;
  newsletter: string;
  footer: string;
  mostRead: string[];
}

export const SITES: Site[] = [
  {
    name: 'The Daily Courier',
    menu: ['Home', 'World', 'Politics', 'Business', 'Sport', 'Culture', 'Opinion', 'Weather'],
    cookie: 'We use cookies to personalise content and ads, to provide social media features and to analyse our traffic. By continuing to browse you agree to our use of cookies.',
    newsletter: 'Sign up to our morning briefing: the stories you need to know, straight to your inbox every weekday at 7am.',
    footer: '© 2026 The Daily Courier Media Group. All rights reserved. Registered in England No. 0123456. Terms of use | Privacy policy | Cookie settings | Accessibility',
    mostRead: [
      'Prime minister faces pressure over budget plans as unions threaten strikes',
      "Champions League draw pits holders against last year's finalists",
      'New study links ultra-processed food to heart disease in adults',
      'Storm warning issued for coastal areas ahead of the weekend',
      'Rail fares to rise by five per cent from January, operators confirm',
    ],
  },
  {
    name: 'Morning Ledger',
    menu: ['News', 'Local', 'Economy', 'Science', 'Arts', 'Travel', 'Video', 'Podcasts'],
    cookie: 'This website stores cookies on your computer to improve your experience and for analytics. Read our cookie policy to find out more.',
    newsletter: 'Get the Ledger in your inbox: our editors pick the best of the day, every evening at six.',
    footer: 'Copyright 2026 Morning Ledger Publishing Ltd. Contact us | Advertise | Careers | Privacy notice | Terms and conditions',
    mostRead: [
      'Central bank holds interest rates for a third month running',
      'Museum returns looted bronzes after decade-long campaign',
      'Heatwave breaks June temperature records across the south',
      'Tech giant fined over misleading privacy settings',
      'Drivers warned of delays as motorway bridge closes for repairs',
    ],
  },
];

/**
 * A whole page of plain <div>s (no <article>, <main>, <header> or <footer>), as many sites still
 * build them: cookie notice, menu, byline, share line, and a "most read" list inside the story's
 * own container, then a newsletter box and the site's footer.
 */
export function plainDivPage(site: Site, title: string, body: string): string {
  const menu = site.menu.map((m) => `<li><a href="/${m.toLowerCase()}">${m}</a></li>`).join('');
  const mostRead = site.mostRead.map((h, i) => `<li><a href="/story/${i}">${h}</a></li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title} | ${site.name}</title><script>window.dataLayer = [];</script></head><body>
<div class="cookie-banner">${site.cookie} <button>Accept</button></div>
<div id="top"><div class="logo">${site.name}</div><div class="menu"><ul>${menu}</ul></div></div>
<div class="content"><h1>${title}</h1><div class="byline">By Staff Reporter · 12 March 2026, 09:41</div>
${body}
<div class="share">Share this article: Facebook · Twitter · WhatsApp · Email</div>
<div class="most-read"><h2>Most read</h2><ol>${mostRead}</ol></div></div>
<div class="newsletter"><p>${site.newsletter}</p></div>
<div id="bottom"><p>${site.footer}</p></div></body></html>`;
}

/** Two unrelated local stories, as HTML paragraphs. */
export const LOCAL_STORIES = [
  {
    title: 'Council approves new cycle lanes in city centre',
    body: '<p>The city council voted on Tuesday to build twelve kilometres of protected cycle lanes across the centre, a plan that had divided residents for two years.</p><p>Supporters said the lanes would cut traffic and pollution, while shop owners warned that fewer parking spaces would hurt trade.</p>',
  },
  {
    title: 'Local bakery wins national bread award',
    body: '<p>A family-run bakery in the old town has been named the best in the country at an annual competition held in the capital.</p><p>The owners, who opened the shop in 1998, said the sourdough recipe came from a grandmother and had never been written down.</p>',
  },
];

/** A logger that keeps its warnings ("message {fields}") for a test to read, and drops the rest. */
export function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (o: unknown, msg?: string) => void warnings.push(`${msg} ${JSON.stringify(o)}`) } as never;
}
