// Where articles are prepared and embedded: on threads beside the main thread, which is left to
// decide and store (the profile of an ingest splits about evenly between the two), or on the main
// thread itself when `threads` is 0. Both give the same vectors: each thread loads the same model.
import { Worker } from 'node:worker_threads';
import type { Embedder } from '../models/embedder.ts';
import { type ArticleVectors, embedArticles, type PreparedArticle, prepareArticle } from './article.ts';
import type { Config } from './config.ts';
import { InputError, ModelLoadError } from './errors.ts';
import type { RawArticle } from './input.ts';
import { loadLanguageDetector } from './language.ts';

export type Prepared = { ok: true; article: PreparedArticle } | { ok: false; error: InputError };

export interface ArticleWorkers {
  /** Threads at work beside the main thread (0: on the main thread). */
  readonly threads: number;
  prepare(raws: RawArticle[]): Promise<Prepared[]>;
  embed(articles: readonly PreparedArticle[]): Promise<ArticleVectors[]>;
  close(): Promise<void>;
}

/** An InputError as it crosses a thread boundary (class identity does not survive cloning). */
export interface InputErrorData {
  reason: string;
  file: string;
  line?: number;
  id?: string;
}

export type PreparedData = { ok: true; article: PreparedArticle } | { ok: false; error: InputErrorData };

export type ThreadRequest =
  | { seq: number; op: 'prepare'; raws: RawArticle[] }
  | { seq: number; op: 'embed'; docs: { title: string | null; text: string; lang: string }[] };

export type ThreadReply =
  | { seq: 0; ready: true }
  | { seq: 0; fatal: string }
  | { seq: number; prepared: PreparedData[] }
  | { seq: number; vectors: ArticleVectors[] }
  | { seq: number; error: string };

export async function prepareSafely(raws: RawArticle[]): Promise<PreparedData[]> {
  await loadLanguageDetector(raws);
  return raws.map((raw) => {
    try {
      return { ok: true, article: prepareArticle(raw) };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { ok: false, error: { reason: err.reason, file: err.file, line: err.line, id: err.articleId } };
    }
  });
}

const revive = (p: PreparedData): Prepared =>
  p.ok ? p : { ok: false, error: new InputError(p.error.reason, p.error.file, p.error.line, p.error.id) };

class MainThread implements ArticleWorkers {
  readonly threads = 0;

  constructor(private readonly embedder: Embedder) {}

  async prepare(raws: RawArticle[]): Promise<Prepared[]> {
    return (await prepareSafely(raws)).map(revive);
  }

  embed(articles: readonly PreparedArticle[]): Promise<ArticleVectors[]> {
    return embedArticles(this.embedder, articles);
  }

  async close(): Promise<void> {}
}

interface Waiting {
  resolve(reply: ThreadReply): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
}

const BOOTSTRAP = new URL('./article-thread.mjs', import.meta.url);
const BODY = new URL('./article-thread.ts', import.meta.url).href;

class Threads implements ArticleWorkers {
  private seq = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly pool: Thread[],
    private readonly model: string,
  ) {}

  get threads(): number {
    return this.pool.length;
  }

  static async start(config: Config, count: number): Promise<Threads> {
    const threads = Array.from({ length: count }, () => ({
      worker: new Worker(BOOTSTRAP, { workerData: { entry: BODY, config } }),
      waiting: new Map<number, Waiting>(),
    }));
    const pool = new Threads(threads, config.modelDir ?? config.model ?? '');
    try {
      await Promise.all(threads.map((t) => pool.listen(t)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Resolves once the thread has loaded its model; afterwards routes its replies to their callers. */
  private listen(t: Thread): Promise<void> {
    return new Promise((ready, failed) => {
      const fail = (err: Error) => {
        this.failure ??= err;
        failed(err);
        for (const w of t.waiting.values()) w.reject(err);
        t.waiting.clear();
      };
      t.worker.on('message', (reply: ThreadReply) => {
        if ('ready' in reply) return ready();
        if ('fatal' in reply) return fail(new ModelLoadError(`embedding thread: ${reply.fatal}`, this.model));
        const w = t.waiting.get(reply.seq);
        t.waiting.delete(reply.seq);
        if ('error' in reply) w?.reject(new Error(`embedding thread: ${reply.error}`));
        else w?.resolve(reply);
      });
      t.worker.on('error', fail);
      t.worker.on('exit', (code) => fail(new Error(`embedding thread exited with code ${code}`)));
    });
  }

  private call(request: ThreadRequest): Promise<ThreadReply> {
    if (this.failure) return Promise.reject(this.failure);
    // The least busy thread; batches are of similar size, so this keeps every thread fed.
    const t = this.pool.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    return new Promise((resolve, reject) => {
      t.waiting.set(request.seq, { resolve, reject });
      t.worker.postMessage(request);
    });
  }

  async prepare(raws: RawArticle[]): Promise<Prepared[]> {
    const reply = await this.call({ seq: ++this.seq, op: 'prepare', raws });
    return (reply as { prepared: PreparedData[] }).prepared.map(revive);
  }

  async embed(articles: readonly PreparedArticle[]): Promise<ArticleVectors[]> {
    const docs = articles.map((a) => ({ title: a.title, text: a.text, lang: a.lang }));
    const reply = await this.call({ seq: ++this.seq, op: 'embed', docs });
    return (reply as { vectors: ArticleVectors[] }).vectors;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('embedding threads are closed');
    await Promise.all(this.pool.map((t) => t.worker.removeAllListeners('exit').terminate()));
  }
}

/** Threads when `config.threads` > 0, else the main thread with the context's embedder. */
export async function startArticleWorkers(config: Config, embedder: Embedder): Promise<ArticleWorkers> {
  return config.threads > 0 ? Threads.start(config, config.threads) : mainThreadWorkers(embedder);
}

export function mainThreadWorkers(embedder: Embedder): ArticleWorkers {
  return new MainThread(embedder);
}
