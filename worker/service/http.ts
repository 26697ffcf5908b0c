// The HTTP API and the editors' page (Fastify). Requests are validated against the JSON schemas of
// schemas.ts; errors are 4xx answers naming the bad field. Writes need the bearer token when one
// is configured. See docs/service.md.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import PQueue from 'p-queue';
import type { JobStore, NewJob } from '../../db/jobs.ts';
import { checkArticle, DRAFT_ID } from '../check.ts';
import { PACKAGE_ROOT } from '../config.ts';
import { type Context, sqliteCode } from '../context.ts';
import { InputError } from '../errors.ts';
import { articleFromJson, opensJsonDocument, plainTextDraft, type RawArticle, strictUtf8 } from '../input.ts';
import { normaliseLanguageTag } from '../language.ts';
import { relationsToOriginal } from '../original.ts';
import type { Logger } from '../log.ts';
import type { ServiceMetrics } from './metrics.ts';
import { jobArticle, type JobRunner } from './runner.ts';
import * as schemas from './schemas.ts';

export const WEB_DIR = join(PACKAGE_ROOT, 'web');
const WEB_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface ServerDeps {
  ctx: Context;
  jobs: JobStore;
  runner: JobRunner;
  metrics: ServiceMetrics;
  log: Logger;
  /** True once shutdown has begun: every request but /healthz answers 503 (it answers 503 "stopping"). */
  stopping: () => boolean;
  startedAt: number;
}

interface FieldError {
  field: string;
  message: string;
  index?: number;
  line?: number;
  id?: string;
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** What each route with a body takes, for the 415 answer. */
const ACCEPTS: Record<string, string> = {
  '/articles': 'application/json (an article or an array) or application/x-ndjson (one article per line)',
  '/check': 'application/json (an article) or text/plain (first line = title)',
};
const unsupportedType = (req: FastifyRequest) =>
  new HttpError(415, `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send ${ACCEPTS[req.routeOptions.url ?? ''] ?? 'application/json'}`);

/** How the request body arrived: one object, an array, or NDJSON (with the line of each article). */
type BodyShape = { kind: 'object' } | { kind: 'array' } | { kind: 'ndjson'; lines: number[] };
const bodyShapes = new WeakMap<FastifyRequest, BodyShape>();

/** Where item `index` of the body came from, in the words of the request. */
function locate(shape: BodyShape | undefined, index: number): { prefix: string; index?: number; line?: number } {
  if (!shape || shape.kind === 'object') return { prefix: '' };
  if (shape.kind === 'ndjson') return { prefix: `line ${shape.lines[index]}: `, line: shape.lines[index] };
  return { prefix: `[${index}].`, index };
}

/** The field an articleFromJson message is about: the quoted name in it. */
function fieldOf(message: string): string {
  return /"([a-z_]+)"/.exec(message)?.[1] ?? 'body';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const notUtf8 = (line?: number) =>
  new HttpError(
    400,
    `${line !== undefined ? `line ${line}: ` : ''}not valid UTF-8 text: send the body encoded as UTF-8 (other encodings are not converted)`,
    [{ field: line !== undefined ? `line ${line}: body` : 'body', message: 'not valid UTF-8', ...(line !== undefined && { line }) }],
  );

const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?([Zz]|([+-])(\d\d)(?::?(\d\d))?))?$/;

/**
 * A time given as an RFC 3339 / ISO 8601 date-time with its time zone (`2025-01-06T07:00:00Z`,
 * `…+01:00`) or as a date (`2025-01-06`: 00:00 UTC that day), as an ISO string in UTC; null when
 * it is neither or names no real day or time. A time without a zone is refused: whose local time?
 */
export function isoTime(s: string): string | null {
  const m = ISO_TIME.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', , sign, tzh = '0', tzm = '0'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number) as [number, number, number, number, number, number];
  const dayStart = Date.UTC(year, month - 1, day);
  if (month < 1 || month > 12 || new Date(dayStart).getUTCDate() !== day || hour > 23 || minute > 59 || second > 59 || Number(tzh) > 23 || Number(tzm) > 59) return null;
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(tzh) * 60 + Number(tzm)) : 0;
  const ms = dayStart + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + Math.floor(Number(`0${frac || '.0'}`) * 1000);
  return new Date(ms).toISOString();
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { ctx, jobs, runner, metrics, log } = deps;
  const { http, queueLimit } = ctx.config;
  const app = Fastify({
    bodyLimit: http.bodyLimit,
    logger: false,
    requestTimeout: 120_000,
    // While stopping, the stopping hook below answers (Fastify's own 503 has neither Retry-After nor /healthz's body).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Article ids are often URLs: GET /articles/:id answered 414 past Fastify's default 100 characters.
    routerOptions: { maxParamLength: 4096 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allowUnionTypes: true, allErrors: true } },
  });
  // Answers are written with JSON.stringify: the response schemas are the API's documentation
  // (OpenAPI), and must not reshape an answer (fast-json-stringify drops what a schema leaves out
  // and coerces types).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Drafts are embedded a few at a time; beyond a short backlog /check answers 429.
  const checks = new PQueue({ concurrency: Math.max(1, ctx.config.concurrency) });
  const CHECK_BACKLOG = 32;

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'newsdedup',
        version: '0.1.0',
        description: 'Near-duplicate and translation detection for news articles: intake, story clusters and draft checks. See docs/service.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'articles', description: 'Intake and stored articles' },
        { name: 'clusters', description: 'Story clusters' },
        { name: 'check', description: 'Editors: check a draft' },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
  });

  // Bodies are read as bytes and decoded strictly: text that is not UTF-8 is refused (400), as
  // files are, rather than stored with U+FFFD in place of its letters. A byte order mark opening
  // the body is dropped.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const text = strictUtf8(body as Buffer);
    if (text === undefined) done(notUtf8(), undefined);
    else jsonParser(req, text, done);
  });
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (_req, body, done) => {
    const text = strictUtf8(body as Buffer);
    if (text === undefined) done(notUtf8(), undefined);
    else done(null, text);
  });

  // NDJSON: one article per non-empty line; the line numbers are kept for error messages.
  app.addContentTypeParser(['application/x-ndjson', 'application/ndjson', 'application/jsonl'], { parseAs: 'buffer' }, (req, body, done) => {
    const items: unknown[] = [];
    const lines: number[] = [];
    const bytes = body as Buffer;
    let lineNo = 0;
    // Split on the newline byte (never part of another UTF-8 character), so a bad byte is named by its line.
    for (let start = 0; start <= bytes.length; ) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl === -1 ? bytes.length : nl;
      lineNo++;
      const line = strictUtf8(bytes.subarray(start, end), lineNo === 1);
      start = end + 1;
      if (line === undefined) {
        done(notUtf8(lineNo), undefined);
        return;
      }
      if (!line.trim()) continue;
      try {
        items.push(JSON.parse(line));
        lines.push(lineNo);
      } catch (err) {
        // An array or a pretty-printed object sent as NDJSON: say what the body is, as the CLI does.
        const document = items.length === 0 && opensJsonDocument(line);
        const message = document
          ? 'a JSON document (an array, or an object over several lines), not NDJSON: send one article object per line, or the document as application/json'
          : `line ${lineNo}: malformed JSON: ${(err as Error).message}`;
        done(new HttpError(400, message, [{ field: 'body', line: lineNo, message: document ? 'JSON document, not NDJSON' : 'malformed JSON' }]), undefined);
        return;
      }
    }
    bodyShapes.set(req, { kind: 'ndjson', lines });
    done(null, items);
  });

  // From the signal on, a request the worker still reads (before the server closes, or on a
  // connection that was open when it did) is told to come back: 503 with Retry-After; /healthz
  // answers 503 "stopping" itself. Requests already being handled finish.
  app.addHook('onRequest', async (req, reply) => {
    if (!deps.stopping() || req.routeOptions.url === '/healthz') return;
    throw new HttpError(503, 'the worker is shutting down; retry shortly', undefined, { 'Retry-After': '5' });
  });
  // Any answer sent once stopping has begun ends its connection, whenever its request was read: a
  // request read before the signal and answered after it kept its connection alive, and the
  // server's close waited for that connection until the shutdown timeout (exit 1).
  app.addHook('onSend', async (_req, reply) => {
    if (deps.stopping()) reply.header('Connection', 'close');
  });

  // "_" is the usual cache-buster (jQuery's cache: false, many proxies' advice): ignored by every route.
  // Other unknown query parameters are refused by the routes' schemas, naming them.
  app.addHook('preValidation', async (req) => {
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object' && Object.hasOwn(query, '_')) delete query._;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpSeconds.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((thrown: FastifyError | HttpError, req, reply) => {
    let err = thrown;
    if (sqliteCode(err) === 'SQLITE_FULL') {
      // Transient, and the client's to retry: nothing of the request was stored (its transaction rolled back).
      log.error({ err: err.message, url: req.url }, 'disk full: request refused');
      err = new HttpError(503, 'disk full: the worker cannot store anything now, and nothing of this request was stored; retry later', undefined, { 'Retry-After': '60' });
    }
    if ('validation' in err && err.validation) {
      const shape = bodyShapes.get(req);
      const context = err.validationContext ?? 'body';
      const errors: FieldError[] = err.validation.map((v) => {
        let path = v.instancePath.split('/').filter(Boolean);
        let where: ReturnType<typeof locate> = { prefix: '' };
        if (context === 'body' && req.routeOptions.url === '/articles' && path.length > 0 && /^\d+$/.test(path[0]!)) {
          where = locate(shape, Number(path[0]));
          path = path.slice(1);
        }
        const missing = (v.params as { missingProperty?: string }).missingProperty;
        if (v.keyword === 'required' && missing) path.push(missing);
        const extra = (v.params as { additionalProperty?: string }).additionalProperty;
        let message = v.message ?? 'invalid';
        if (v.keyword === 'additionalProperties' && extra !== undefined) {
          path.push(extra);
          if (context === 'querystring') {
            const known = Object.keys((req.routeOptions.schema?.querystring as { properties?: object } | undefined)?.properties ?? {});
            message = `is not a parameter of ${req.method} ${req.routeOptions.url} (known: ${known.join(', ')})`;
          }
        }
        const field = context === 'body' ? path.join('.') || 'body' : [context, ...path].join('.');
        return { field: `${where.prefix}${field}`, message, ...(where.index !== undefined && { index: where.index }), ...(where.line !== undefined && { line: where.line }) };
      });
      const unique = errors.filter((e, i) => errors.findIndex((o) => o.field === e.field && o.message === e.message) === i);
      return reply.code(400).send({ error: STATUS_TEXT[400], message: unique.map((e) => `${e.field} ${e.message}`).join('; '), errors: unique });
    }
    if (err instanceof HttpError) {
      reply.headers(err.headers);
      return reply
        .code(err.statusCode)
        .send({ error: STATUS_TEXT[err.statusCode] ?? 'Error', message: err.message, ...(err.errors && { errors: err.errors }) });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 500) {
      log.error({ err: err.message, stack: err.stack, url: req.url }, 'request failed');
      return reply.code(status).send({ error: STATUS_TEXT[status] ?? 'Error', message: 'internal error (see the worker log)' });
    }
    const message =
      (err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body is larger than ${http.bodyLimit} bytes (http.bodyLimit)`
        : (err as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? unsupportedType(req).message
          : err.message;
    return reply.code(status).send({ error: STATUS_TEXT[status] ?? 'Error', message });
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: STATUS_TEXT[404], message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const requireToken = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!http.token) return;
    const header = req.headers.authorization ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!given || !timingSafeEqual(digest(given), digest(http.token))) {
      reply.header('WWW-Authenticate', 'Bearer realm="newsdedup"');
      throw new HttpError(401, given ? 'wrong bearer token' : 'this endpoint needs "Authorization: Bearer <token>" (http.token is set)');
    }
  };

  // --- the editors' page ---
  for (const [url, { file, type }] of Object.entries(WEB_FILES)) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      const body = await readFile(join(WEB_DIR, file));
      return reply
        .type(type)
        .header('Cache-Control', 'no-cache')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
        .send(body);
    });
  }

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: schemas.healthz }, async (_req, reply) => {
    // Still 200 while the disk is full: the worker is alive and catches up by itself once there is
    // room, which a restart by a liveness probe would not bring any sooner.
    const diskFull = runner.diskFullSince;
    const body = {
      status: deps.stopping() ? 'stopping' : diskFull ? 'degraded' : 'ok',
      ...(diskFull && { problem: `disk full since ${diskFull.toISOString()}: jobs wait, and are stored once there is room` }),
      db: ctx.config.db,
      model: ctx.embedder.id,
      articles: ctx.index.size,
      queueDepth: runner.queueDepth,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
    };
    if (deps.stopping()) reply.header('Retry-After', '5');
    return reply.code(deps.stopping() ? 503 : 200).send(body);
  });

  app.get('/metrics', { schema: schemas.metrics }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  // --- intake ---
  app.post(
    '/articles',
    {
      schema: schemas.postArticles,
      onRequest: requireToken,
      preValidation: async (req) => {
        if (typeof req.body === 'string') throw unsupportedType(req);
        if (!bodyShapes.has(req)) bodyShapes.set(req, { kind: Array.isArray(req.body) ? 'array' : 'object' });
        if (!Array.isArray(req.body)) req.body = [req.body];
      },
    },
    async (req, reply) => {
      const body = req.body as unknown[];
      const shape = bodyShapes.get(req);
      const origin = 'POST /articles';
      const errors: FieldError[] = [];
      const articles: RawArticle[] = [];
      body.forEach((value, i) => {
        const where = locate(shape, i);
        const item = articleFromJson(value, origin, where.line);
        if (item.ok) articles.push(item.article);
        else {
          const message = item.error.reason;
          errors.push({ field: `${where.prefix}${fieldOf(message)}`, message, ...(where.index !== undefined && { index: where.index }), ...(where.line !== undefined && { line: where.line }), ...(item.error.articleId && { id: item.error.articleId }) });
        }
      });
      if (errors.length) throw new HttpError(400, `nothing accepted: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
      if (articles.length > queueLimit) throw new HttpError(413, `${articles.length} articles in one request exceed the queue limit (${queueLimit}); send smaller requests`);
      const depth = runner.queueDepth;
      if (depth + articles.length > queueLimit) {
        const retry = Math.min(60, Math.max(1, Math.ceil((depth + articles.length - queueLimit) / Math.max(1, runner.rate))));
        throw new HttpError(429, `queue full: ${depth} articles waiting (queueLimit ${queueLimit}); retry after ${retry} s`, undefined, { 'Retry-After': String(retry) });
      }
      const newJobs: NewJob[] = articles.map((a) => ({ article: jobArticle(a), origin, ...(a.origin.line !== undefined && { originLine: a.origin.line }) }));
      const ids = jobs.enqueue(newJobs);
      runner.accepted(ids.length, 'http');
      if (shape?.kind === 'object') reply.header('Location', `/articles/${encodeURIComponent(articles[0]!.id)}`);
      return reply.code(202).send({ accepted: ids.length, articles: articles.map((a, i) => ({ id: a.id, job: ids[i]! })), queueDepth: runner.queueDepth });
    },
  );

  app.get('/articles/:id', { schema: schemas.getArticle }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const job = jobs.latestForArticle(id);
    const stored = ctx.store.articleById(id);
    if (job?.status === 'pending') return reply.code(202).send({ id, status: 'pending', job, ...(stored && { stored: { cluster: ctx.store.resolveCluster(stored.clusterId) } }) });
    if (stored) {
      const cluster = ctx.store.cluster(ctx.store.resolveCluster(stored.clusterId));
      return {
        id,
        status: 'stored',
        article: {
          id: stored.id,
          title: stored.title ?? null,
          lang: stored.lang,
          url: stored.url ?? null,
          source: stored.source ?? null,
          publishedAt: stored.publishedAt ?? null,
          ingestedAt: stored.ingestedAt,
          reading: stored.reading,
          text: stored.text,
        },
        cluster: cluster && { id: cluster.id, size: cluster.size, canonical: cluster.canonical, languages: cluster.languages },
        evidence: ctx.store.matchesOfArticle(id),
        ...(job && { job }),
      };
    }
    if (job?.status === 'failed') return reply.code(422).send({ id, status: 'failed', error: job.error, job });
    throw new HttpError(404, `no article with id ${JSON.stringify(id)}`);
  });

  // --- clusters ---
  app.get('/clusters', { schema: schemas.listClusters }, async (req) => {
    const q = req.query as { since?: string; minSize?: string; lang?: string; limit?: string; members?: string };
    const minSize = q.minSize === undefined ? 2 : Number(q.minSize);
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    const members = q.members === undefined ? 10 : Number(q.members);
    if (members > 1000) throw new HttpError(400, 'querystring.members must be at most 1000', [{ field: 'querystring.members', message: 'must be at most 1000' }]);
    if (minSize < 1) throw new HttpError(400, 'querystring.minSize must be at least 1', [{ field: 'querystring.minSize', message: 'must be at least 1' }]);
    if (limit < 1 || limit > 500) throw new HttpError(400, 'querystring.limit must be from 1 to 500', [{ field: 'querystring.limit', message: 'must be from 1 to 500' }]);
    const since = q.since === undefined ? undefined : isoTime(q.since);
    if (since === null) {
      const message = 'must be an ISO 8601 date-time with a time zone (2025-01-06T07:00:00Z) or a date (2025-01-06, meaning from 00:00 UTC that day)';
      throw new HttpError(400, `querystring.since ${message}, got ${JSON.stringify(q.since)}`, [{ field: 'querystring.since', message }]);
    }
    // Read as an article's lang is, so "eng" and "en-GB" find what "en" finds and "xx" is refused.
    const lang = q.lang === undefined ? undefined : normaliseLanguageTag(q.lang);
    if (lang === undefined && q.lang !== undefined) {
      throw new HttpError(400, `querystring.lang ${JSON.stringify(q.lang)} is not a language code`, [{ field: 'querystring.lang', message: 'is not a language code' }]);
    }
    const ids = ctx.store.recentClusterIds({ minSize, limit, since, lang });
    return { clusters: ids.map((id) => ({ ...ctx.store.cluster(id)!, members: ctx.store.firstMembers(id, members) })) };
  });

  app.get('/clusters/:id', { schema: schemas.getCluster }, async (req) => {
    const requested = Number((req.params as { id: string }).id);
    const id = ctx.store.resolveCluster(requested);
    const cluster = ctx.store.cluster(id);
    if (!cluster || cluster.size === 0) throw new HttpError(404, `no cluster ${requested}`);
    return {
      ...cluster,
      ...(id !== requested && { mergedFrom: requested }),
      original: cluster.canonical,
      members: ctx.store.members(id),
      relations: relationsToOriginal(ctx.store, id).members,
      evidence: ctx.store.matchesOfCluster(id),
    };
  });

  // --- the editors' check ---
  app.post('/check', {
    schema: schemas.postCheck,
    preValidation: async (req) => {
      if (bodyShapes.get(req)?.kind === 'ndjson') throw unsupportedType(req);
    },
    // After validation (a text/plain body is validated as text): the draft as an article.
    preHandler: async (req) => {
      if (typeof req.body === 'string') {
        const draft = plainTextDraft(req.body);
        if (!draft) throw new HttpError(400, 'the draft is empty', [{ field: 'body', message: 'empty draft' }]);
        req.body = { id: DRAFT_ID, ...draft };
      }
    },
  }, async (req) => {
    const q = req.query as { limit?: string };
    const limit = q.limit === undefined ? 10 : Number(q.limit);
    if (limit < 1 || limit > 50) throw new HttpError(400, 'querystring.limit must be from 1 to 50', [{ field: 'querystring.limit', message: 'must be from 1 to 50' }]);
    const body = req.body as Record<string, unknown>;
    const item = articleFromJson(body, 'POST /check', undefined, DRAFT_ID);
    if (!item.ok) {
      const message = item.error.reason;
      throw new HttpError(400, message, [{ field: fieldOf(message), message }]);
    }
    if (checks.size >= CHECK_BACKLOG) throw new HttpError(429, 'too many drafts being checked; retry shortly', undefined, { 'Retry-After': '1' });
    const report = await checks.add(async () => {
      // A check runs synchronously from start to end: a turn of the event loop first lets the
      // requests behind it be read (so the backlog and its 429 are real) and /healthz answered.
      await setImmediate();
      try {
        return await checkArticle(ctx, item.article, { limit });
      } catch (err) {
        if (err instanceof InputError) {
          const message = err.reason;
          throw new HttpError(400, message, [{ field: fieldOf(message), message }]);
        }
        throw err;
      }
    });
    metrics.checks.inc({ verdict: report.verdict });
    return report;
  });

  return app;
}

