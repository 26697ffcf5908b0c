// The editors' page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// a database holding the English original and the French translation of the seed story; the
// editor pastes the English rewrite and sees both stored articles listed, the original as a
// match with its passages highlighted side by side, then browses the clusters. A screenshot is
// saved (its path is printed; NEWSDEDUP_SCREENSHOT_DIR chooses the folder).
//
// The tiny test model knows no French, so here the French translation is listed as a related
// article below the threshold; with the trained model it is a "translation" match (docs/service.md).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { createLogger } from '../worker/log.ts';
import { type RunningWorker, startWorker } from '../worker/service/worker.ts';
import { SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

const CHROMIUM = process.env.NEWSDEDUP_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.NEWSDEDUP_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (see .ci/run)`);
if (!available) console.warn(`browser test skipped: ${CHROMIUM} not installed (apt-get install chromium)`);

const ORIGINAL = '000_dfad1a769eb878c2';
const REWRITE = '001_1731066e91127400';
const FRENCH = '002_24598282812c099b';

function seed(id: string) {
  const [title, ...rest] = readFileSync(join(SEEDS, `${id}.txt`), 'utf8').split('\n');
  return { id, title: title!.trim(), text: rest.join('\n').trim() };
}

let worker: RunningWorker;
let browser: Browser;

describe.skipIf(!available)("editors' page in Chromium", () => {
  beforeAll(async () => {
    const dir = tempDir('newsdedup-browser-');
    writeTinyConfig(dir);
    worker = await startWorker(loadConfig({ cwd: dir, env: {}, flags: { modelDir: tinyModel(), http: { port: 0 } } }), createLogger('silent'));
    const res = await fetch(`${worker.url}/articles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { ...seed(ORIGINAL), lang: 'en', source: 'bitcoin.com', published_at: '2022-04-19T08:00:00Z' },
        { ...seed(FRENCH), lang: 'fr', source: 'fr.example', published_at: '2022-04-20T08:00:00Z' },
      ]),
    });
    expect(res.status).toBe(202);
    await worker.runner.whenDrained();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  it('pastes a draft, shows both stored articles with the original matched and its passages highlighted side by side', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
    await page.goto(worker.url);
    await expect(page.title()).resolves.toMatch(/newsdedup/);

    // Every form control has a label.
    const unlabelled = await page.$$eval('input, textarea, select', (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
    expect(unlabelled).toEqual([]);

    const draft = seed(REWRITE);
    await page.getByLabel('Title').fill(draft.title);
    await page.getByLabel('Text', { exact: true }).fill(draft.text);
    await page.getByRole('button', { name: 'Check' }).click();
    await page.locator('#result:not([hidden])').waitFor();

    await expect(page.locator('#verdict').textContent()).resolves.toMatch(/^Not original: it matches 1 stored article\./);
    await expect(page.locator('#original').textContent()).resolves.toContain(`id ${ORIGINAL}`);
    // Focus moves to the result, for screen-reader and keyboard users.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('result-heading');

    const original = page.locator(`li.match[data-id="${ORIGINAL}"]`);
    await expect(original.locator('.kind').textContent()).resolves.toBe('rewrite');
    await expect(original.locator('.facts').textContent()).resolves.toMatch(/score \d+\.\d%.*English/);
    const pairs = original.locator('tr.passage-pair');
    expect(await pairs.count()).toBeGreaterThan(0);
    // Side by side: each row holds the draft's passage and the stored passage, both highlighted.
    const first = pairs.first();
    const draftMark = (await first.locator('td.draft mark.passage').textContent())!;
    const storedMark = (await first.locator('td.stored mark.passage').textContent())!;
    expect(draftMark.length).toBeGreaterThan(20);
    expect(storedMark.length).toBeGreaterThan(20);
    const background = await first.locator('td.stored mark.passage').evaluate((m) => getComputedStyle(m).backgroundColor);
    expect(background).not.toBe('rgba(0, 0, 0, 0)');
    const [left, right] = await Promise.all([first.locator('td.draft').boundingBox(), first.locator('td.stored').boundingBox()]);
    expect(right!.x).toBeGreaterThan(left!.x + left!.width - 1);

    // The French translation is listed too, with its language; the tiny model scores it below the threshold.
    const french = page.locator(`li.match[data-id="${FRENCH}"]`);
    await expect(french.locator('.facts').textContent()).resolves.toMatch(/French \(another language\)/);
    await expect(french.locator('.kind').textContent()).resolves.toMatch(/^(translation|related \(below the threshold\))$/);

    const dir = process.env.NEWSDEDUP_SCREENSHOT_DIR ?? tempDir('newsdedup-screenshot-', { keep: true });
    mkdirSync(dir, { recursive: true });
    const shot = join(dir, 'editors-page-check.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    console.info(`screenshot: ${shot}`);

    // Nothing was stored by the check.
    expect(worker.ctx.store.counts().articles).toBe(2);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('browses recent clusters with their members and languages', async () => {
    const page = await browser.newPage();
    await page.goto(worker.url);
    await page.locator('#clusters-status:has-text("cluster")').waitFor();
    await page.getByLabel('At least').selectOption('1');
    await page.locator('#clusters li[data-cluster]').nth(1).waitFor();
    const items = page.locator('#clusters > li');
    expect(await items.count()).toBe(2);
    await page.getByLabel('With a member in').selectOption('fr');
    await page.locator('#clusters-status:has-text("1 cluster,")').waitFor();
    const fr = page.locator('#clusters > li').first();
    await fr.locator('summary').click();
    await expect(fr.locator('summary').textContent()).resolves.toMatch(/French/);
    await expect(fr.locator('ul li').first().textContent()).resolves.toContain(FRENCH);
    await page.close();
  });
});
