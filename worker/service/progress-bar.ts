// The terminal progress bar of long `ingest` runs (cli-progress). The total is counted from the
// input files first (one article per non-empty JSON line, per array element, per text file);
// on stdin or with compressed files the total is unknown and the bar shows counts and rate only.
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { fileFormat, isSupportedFile } from '../input.ts';
import type { Progress } from '../pipeline.ts';

function countLines(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  let lineHasContent = false;
  try {
    for (;;) {
      const read = readSync(fd, buf, 0, buf.length, null);
      if (read === 0) break;
      for (let i = 0; i < read; i++) {
        const b = buf[i]!;
        if (b === 10) {
          if (lineHasContent) n++;
          lineHasContent = false;
        } else if (b !== 32 && b !== 13 && b !== 9) lineHasContent = true;
      }
    }
  } finally {
    closeSync(fd);
  }
  return n + (lineHasContent ? 1 : 0);
}

/** Articles in one file; undefined for a compressed one (counting would mean decompressing it twice). */
function countFile(file: string): number | undefined {
  const { ext, gzip } = fileFormat(file);
  if (gzip) return undefined;
  if (ext === '.jsonl' || ext === '.ndjson') return countLines(file);
  if (ext === '.json') {
    try {
      const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(v) ? v.length : 1;
    } catch {
      return 1;
    }
  }
  return 1;
}

/** The sum of `count` over the items; undefined as soon as one of them cannot be counted. */
function total<T>(items: Iterable<T>, count: (item: T) => number | undefined): number | undefined {
  let n = 0;
  for (const item of items) {
    const c = count(item);
    if (c === undefined) return undefined;
    n += c;
  }
  return n;
}

function countPath(path: string): number | undefined {
  if (!statSync(path).isDirectory()) return countFile(path);
  const entries = readdirSync(path, { withFileTypes: true }).filter((entry) => !entry.name.startsWith('.'));
  return total(entries, (entry) => {
    const child = join(path, entry.name);
    return entry.isDirectory() ? countPath(child) : isSupportedFile(entry.name) ? countFile(child) : 0;
  });
}

/** How many articles the inputs hold, or undefined when that cannot be known in advance (stdin, compressed files, unreadable paths). */
export function countArticles(paths: readonly string[]): number | undefined {
  if (paths.includes('-')) return undefined;
  try {
    return total(paths, countPath);
  } catch {
    return undefined;
  }
}

export interface ProgressBar {
  update: (p: Progress) => void;
  stop: () => void;
}

/** A bar on stderr; `update` is the pipeline's onProgress callback. */
export function progressBar(paths: readonly string[], stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const total = countArticles(paths);
  const known = total !== undefined && total > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: known
        ? '{bar} {percentage}% | {value}/{total} articles | {rate}/s | {rejected} rejected | ETA {eta_formatted}'
        : '{value} articles | {rate}/s | {rejected} rejected',
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(known ? total : 0, 0, { rate: '0', rejected: 0 });
  // The bar hides the cursor and turns line wrap off (ESC[?25l ESC[?7l); stop() turns them back on.
  // However the process ends while it is shown (an error, a signal handler's exit), the terminal
  // gets them back: writes to a terminal are synchronous, so they are done before it exits.
  const restore = () => bar.stop();
  process.once('exit', restore);
  return {
    update(p) {
      const value = p.done + p.rejected;
      if (known && value > bar.getTotal()) bar.setTotal(value);
      bar.update(value, { rate: (p.done / Math.max(0.001, p.elapsedMs / 1000)).toFixed(0), rejected: p.rejected });
    },
    stop() {
      process.off('exit', restore);
      bar.stop();
    },
  };
}
