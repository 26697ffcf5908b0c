// The editors' page: check a draft (POST /check) and browse recent clusters (GET /clusters).
// Plain DOM, no build step. Everything from the server is inserted as text, never as HTML.

const $ = (id) => document.getElementById(id);

/** Builds an element: el('p', {class: 'x'}, 'text', child, ...). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

const LANGS = { en: 'English', fr: 'French', de: 'German', es: 'Spanish', it: 'Italian', pt: 'Portuguese', nl: 'Dutch', ru: 'Russian', ja: 'Japanese', zh: 'Chinese', ar: 'Arabic' };
const langName = (code) => LANGS[code] ?? code;
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const date = (iso) => (iso ? new Date(iso).toISOString().slice(0, 10) : null);

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || `${res.status} ${res.statusText}`);
  return data;
}

// --- the draft ---

function htmlToText(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return doc.body.textContent ?? '';
}

/** Fills the form from an uploaded file: .txt/.md (first line = title), .json (an article or an array), .jsonl/.ndjson (first line). */
function fillFromFile(name, content) {
  const lower = name.toLowerCase();
  let article;
  if (lower.endsWith('.json')) {
    const v = JSON.parse(content);
    article = Array.isArray(v) ? v[0] : v;
  } else if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) {
    article = JSON.parse(content.split('\n').find((l) => l.trim()) ?? '{}');
  } else {
    const lines = content.split(/\r?\n/);
    const first = lines.findIndex((l) => l.trim());
    article = first < 0 ? {} : { title: lines[first].replace(/^#+\s*/, '').trim(), text: lines.slice(first + 1).join('\n').trim() };
  }
  if (!article || typeof article !== 'object') throw new Error('no article in this file');
  $('draft-title').value = article.title ?? '';
  $('draft-text').value = article.text ?? (article.html ? htmlToText(article.html) : '');
  if (article.lang && [...$('draft-lang').options].some((o) => o.value === article.lang)) $('draft-lang').value = article.lang;
}

async function readUpload(file) {
  try {
    fillFromFile(file.name, await file.text());
    $('check-status').textContent = `Loaded ${file.name}.`;
  } catch (err) {
    $('check-status').textContent = `Cannot read ${file.name}: ${err.message}`;
  }
}

$('draft-file').addEventListener('change', (e) => {
  const file = e.target.files?.[0];
  if (file) readUpload(file);
});

const textarea = $('draft-text');
textarea.addEventListener('dragover', (e) => {
  if ([...(e.dataTransfer?.types ?? [])].includes('Files')) {
    e.preventDefault();
    textarea.classList.add('dragging');
  }
});
textarea.addEventListener('dragleave', () => textarea.classList.remove('dragging'));
textarea.addEventListener('drop', (e) => {
  const file = e.dataTransfer?.files?.[0];
  textarea.classList.remove('dragging');
  if (!file) return;
  e.preventDefault();
  readUpload(file);
});

// --- the result ---

function passageTable(match) {
  if (!match.passages.length) return el('p', { class: 'none' }, 'No passage pair above the passage threshold.');
  return el(
    'table',
    { class: 'passages' },
    el('caption', { class: 'hint' }, `Matched passages: ${match.coverage.draft} of the draft's windows, ${match.coverage.stored} of the stored article's.`),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Score'), el('th', { scope: 'col' }, 'Your draft'), el('th', { scope: 'col' }, `Stored (${langName(match.lang)})`))),
    el(
      'tbody',
      {},
      match.passages.map((p) =>
        el(
          'tr',
          { class: 'passage-pair' },
          el('td', { class: 'score' }, pct(p.score)),
          el('td', { class: 'draft', lang: null }, el('mark', { class: 'passage' }, p.draft.text)),
          el('td', { class: 'stored', lang: match.lang }, el('mark', { class: 'passage' }, p.stored.text)),
        ),
      ),
    ),
  );
}

function matchItem(m) {
  return el(
    'li',
    { class: 'match', 'data-id': m.id },
    el('h4', {}, m.title || m.id),
    el(
      'ul',
      { class: 'facts' },
      el('li', {}, el('span', { class: `kind${m.qualifies ? ' qualifies' : ''}` }, m.kind)),
      el('li', {}, `score ${pct(m.score)}`),
      el('li', {}, `${langName(m.lang)}${m.crossLanguage ? ' (another language)' : ''}`),
      el('li', {}, `cluster ${m.cluster}`),
      el('li', {}, `id ${m.id}`),
      m.publishedAt && el('li', {}, `published ${date(m.publishedAt)}`),
    ),
    passageTable(m),
  );
}

function showResult(report) {
  const title = report.article.title || 'the draft';
  $('result-heading').textContent = `Result for “${title}” (${langName(report.article.lang)})`;
  const verdict = $('verdict');
  const qualifying = report.matches.filter((m) => m.qualifies);
  if (report.verdict === 'original') {
    verdict.textContent = 'Original: no stored article is a copy, rewrite or translation of it.';
    verdict.className = 'verdict original-verdict';
  } else {
    verdict.textContent = `Not original: it matches ${qualifying.length} stored article${qualifying.length === 1 ? '' : 's'}.`;
    verdict.className = 'verdict duplicate-verdict';
  }
  // The model's reading of the draft bounds what the verdict can say (models/embedder.ts).
  const reading = {
    none: ' The model cannot read this language or script: only exact and near-verbatim copies were looked for.',
    near: ' The model reads this language only through a neighbouring one: against articles in the same language, only copies were looked for.',
  }[report.article.reading];
  if (reading) verdict.textContent += reading;
  const o = report.original;
  $('original').replaceChildren(
    ...(o ? ['Likely original: ', el('strong', {}, o.title || o.id), ` (${langName(o.lang)}, id ${o.id}${o.publishedAt ? `, published ${date(o.publishedAt)}` : ''})`] : []),
  );
  $('matches').replaceChildren(...(report.matches.length ? report.matches.map(matchItem) : [el('li', { class: 'none' }, 'No stored article is near it.')]));
  $('result').hidden = false;
  $('result-heading').focus();
}

$('check-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('draft-text').value;
  const status = $('check-status');
  if (!text.trim()) {
    status.textContent = 'Paste or upload a text first.';
    $('draft-text').focus();
    return;
  }
  const body = { text, title: $('draft-title').value.trim() || undefined, lang: $('draft-lang').value || undefined };
  const button = $('check-button');
  button.disabled = true;
  status.textContent = 'Checking…';
  try {
    showResult(await api('POST', '/check', body));
    status.textContent = 'Done.';
  } catch (err) {
    status.textContent = `Check failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
});

// --- clusters ---

function clusterItem(c) {
  const canonical = c.canonical ? c.canonical.title || c.canonical.id : `cluster ${c.id}`;
  return el(
    'li',
    { 'data-cluster': c.id },
    el(
      'details',
      {},
      el('summary', {}, el('strong', {}, canonical), ` · ${c.size} articles`, el('span', { class: 'langs' }, c.languages.map(langName).join(', '))),
      el(
        'ul',
        {},
        c.members.map((m) =>
          el(
            'li',
            {},
            el('span', { class: 'lang', title: langName(m.lang) }, m.lang),
            ' ',
            m.title || m.id,
            el('span', { class: 'hint' }, ` (${[m.id, m.source, date(m.publishedAt)].filter(Boolean).join(', ')})`),
            c.canonical && m.id === c.canonical.id ? el('span', { class: 'hint' }, ' original') : null,
          ),
        ),
        c.size > c.members.length ? el('li', { class: 'hint' }, `… and ${c.size - c.members.length} more`) : null,
      ),
    ),
  );
}

async function loadClusters() {
  const status = $('clusters-status');
  const params = new URLSearchParams({ minSize: $('min-size').value, limit: '30' });
  if ($('cluster-lang').value) params.set('lang', $('cluster-lang').value);
  status.textContent = 'Loading…';
  try {
    const { clusters } = await api('GET', `/clusters?${params}`);
    $('clusters').replaceChildren(...clusters.map(clusterItem));
    status.textContent = clusters.length ? `${clusters.length} cluster${clusters.length === 1 ? '' : 's'}, most recent first.` : 'No cluster matches.';
  } catch (err) {
    status.textContent = `Cannot load clusters: ${err.message}`;
  }
}

$('cluster-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  loadClusters();
});
for (const id of ['min-size', 'cluster-lang']) $(id).addEventListener('change', loadClusters);
loadClusters();
