// JSON schemas of the HTTP API. Fastify validates requests with them (Ajv) and @fastify/swagger
// turns them into the OpenAPI document at /openapi.json. A body given per content type
// (`body.content`) is validated by the schema of the request's type. The response schemas document
// the answers only: http.ts serializes with JSON.stringify, so they never reshape an answer.

const nullableString = (description: string, extra: object = {}) => ({ type: ['string', 'null'], description, ...extra });

export const articleSchema = {
  type: 'object',
  required: ['id'],
  description: 'One article. Unknown fields are ignored. `text` or `html` is required.',
  properties: {
    id: { type: ['string', 'integer'], minLength: 1, maxLength: 1000, description: 'Your id; the same id with new content replaces the stored version' },
    title: nullableString('Headline'),
    text: nullableString('Body as plain text (paragraphs separated by newlines)'),
    html: nullableString('Body as HTML, used when `text` is absent'),
    lang: nullableString('ISO 639-1 code; detected when absent', { maxLength: 35 }),
    url: nullableString('Where it was published'),
    source: nullableString('Outlet'),
    published_at: nullableString('Publication time (ISO 8601)'),
  },
  additionalProperties: true,
} as const;

export const errorSchema = {
  type: 'object',
  description: 'An error: what went wrong, and each bad field',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' }, index: { type: 'integer' }, line: { type: 'integer' }, id: { type: 'string' } },
      },
    },
  },
} as const;

/** An error answer, described. */
const error = (description: string) => ({ ...errorSchema, description });
/** Every route but /healthz while the worker stops (the onRequest hook in http.ts). */
const shuttingDown = error('The worker is shutting down: retry after Retry-After seconds');

const nullable = (type: string, description?: string) => ({ type: [type, 'null'], ...(description && { description }) });
const articleRef = {
  type: ['object', 'null'],
  description: 'An article, briefly',
  properties: { id: { type: 'string' }, title: nullable('string'), lang: { type: 'string' }, publishedAt: nullable('string') },
} as const;
const clusterSummary = {
  id: { type: 'integer' },
  size: { type: 'integer', description: 'Articles in the cluster' },
  canonical: { ...articleRef, description: 'The original: earliest published, else first ingested' },
  languages: { type: 'array', items: { type: 'string' } },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
} as const;
const member = {
  type: 'object',
  properties: { id: { type: 'string' }, title: nullable('string'), lang: { type: 'string' }, source: nullable('string'), publishedAt: nullable('string') },
} as const;
const evidence = {
  type: 'array',
  description: 'Recorded matches: which article matched which, how (score, method, kind, coverage) and the decision taken',
  items: { type: 'object', properties: { articleId: { type: 'string' }, matchedId: { type: 'string' }, clusterId: { type: 'integer' }, score: { type: 'number' }, method: { type: 'string' }, kind: { type: 'string' } } },
} as const;
const job = {
  type: 'object',
  description: 'The latest job of this article id',
  properties: {
    job: { type: 'integer' },
    articleId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'done', 'superseded', 'failed'] },
    origin: { type: 'string', description: 'POST /articles, or inbox/<file>' },
    attempts: { type: 'integer' },
    outcome: { type: ['object', 'null'], description: 'What ingestion did: status (created, joined, merged, unchanged), cluster, matchedId' },
    error: nullable('string'),
    acceptedAt: { type: 'string' },
    finishedAt: nullable('string'),
  },
} as const;

/** Non-negative integers arrive as strings in query strings and paths; Ajv does not coerce here (bodies stay strict). */
export const integerString = (description: string) => ({ type: 'string', pattern: '^[0-9]{1,9}$', description });

const ndjsonBody = { type: 'array', minItems: 1, items: articleSchema, description: 'One article object per line (blank lines are skipped); errors name the line' } as const;

export const postArticles = {
  summary: 'Submit articles for ingestion',
  description:
    'One article object, an array of them (application/json), or one per line (application/x-ndjson). ' +
    'The request is all or nothing: when any article is invalid, nothing is accepted and the answer (400) names each bad field. ' +
    'Accepted articles are committed to the durable job table before the 202 answer; they are ingested in order, exactly once, ' +
    'even across crashes. 429 with Retry-After when the queue is full. Needs the bearer token when one is configured.',
  tags: ['articles'],
  security: [{ bearer: [] }],
  body: {
    content: {
      'application/json': { schema: { type: 'array', minItems: 1, items: articleSchema, description: 'An article object, or an array of them' } },
      'application/x-ndjson': { schema: ndjsonBody },
      'application/ndjson': { schema: ndjsonBody },
      'application/jsonl': { schema: ndjsonBody },
    },
  },
  response: {
    202: {
      description: 'Accepted: committed to the job table',
      type: 'object',
      properties: {
        accepted: { type: 'integer' },
        articles: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, job: { type: 'integer' } } } },
        queueDepth: { type: 'integer' },
      },
    },
    400: error('Nothing accepted: malformed JSON, not UTF-8, or an invalid article (each bad field named, with its index or line)'),
    401: error('The bearer token is missing or wrong (http.token is set)'),
    413: error('The body is over http.bodyLimit, or holds more articles than queueLimit'),
    415: error('Another content type than JSON or NDJSON'),
    429: error('The queue is full: retry after Retry-After seconds'),
    503: shuttingDown,
  },
} as const;

export const getArticle = {
  summary: 'One article: stored (200), still queued (202), failed (422)',
  tags: ['articles'],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Article id' } } },
  response: {
    503: shuttingDown,
    200: {
      description: 'Stored: the article, its cluster and the evidence of its matches (and its latest job while that is remembered)',
      type: 'object',
      properties: {
        id: { type: 'string' },
        status: { type: 'string', enum: ['stored'] },
        article: {
          type: 'object',
          properties: {
            ...articleRef.properties,
            url: nullable('string'),
            source: nullable('string'),
            ingestedAt: { type: 'string' },
            reading: { type: 'string', enum: ['native', 'near', 'none'] },
            text: { type: 'string' },
          },
        },
        cluster: { type: ['object', 'null'], properties: { id: clusterSummary.id, size: clusterSummary.size, canonical: clusterSummary.canonical, languages: clusterSummary.languages } },
        evidence,
        job,
      },
    },
    202: {
      description: 'Accepted, not yet processed (a stored earlier version is named by its cluster)',
      type: 'object',
      properties: { id: { type: 'string' }, status: { type: 'string', enum: ['pending'] }, job, stored: { type: 'object', properties: { cluster: { type: 'integer' } } } },
    },
    404: error('No article and no remembered job with this id'),
    422: {
      description: 'The pipeline refused the article (its job failed)',
      type: 'object',
      properties: { id: { type: 'string' }, status: { type: 'string', enum: ['failed'] }, error: nullable('string'), job },
    },
  },
} as const;

export const listClusters = {
  summary: 'Recent story clusters, most recently updated first, with members and languages',
  tags: ['clusters'],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      since: {
        type: 'string',
        description: 'Only clusters updated at or after this time: an ISO 8601 date-time with its time zone (2025-01-06T07:00:00Z) or a date (2025-01-06: from 00:00 UTC)',
      },
      minSize: integerString('Only clusters with at least this many articles (default 2)'),
      lang: { type: 'string', maxLength: 35, description: 'Only clusters with a member in this language, named as an article\'s lang may be ("en", "EN", "en-GB", "eng")' },
      limit: integerString('At most this many clusters (default 50, at most 500)'),
      members: integerString('Members listed per cluster, earliest first (default 10, at most 1000; `size` is the full count)'),
    },
  },
  response: {
    503: shuttingDown,
    200: {
      description: 'The clusters, most recently updated first',
      type: 'object',
      properties: { clusters: { type: 'array', items: { type: 'object', properties: { ...clusterSummary, members: { type: 'array', items: member } } } } },
    },
    400: error('A bad or unknown query parameter, named'),
  },
} as const;

export const getCluster = {
  summary: 'One cluster: members, the original (canonical article) and the evidence of each match',
  tags: ['clusters'],
  params: { type: 'object', required: ['id'], properties: { id: integerString('Cluster id (a merged id answers with the cluster it was merged into)') } },
  response: {
    503: shuttingDown,
    400: error('The id is not a cluster id (digits)'),
    200: {
      description: 'The cluster (the one it was merged into, for a merged id)',
      type: 'object',
      properties: {
        ...clusterSummary,
        mergedFrom: { type: 'integer', description: 'The id asked for, when it was merged into this cluster' },
        original: articleRef,
        members: { type: 'array', items: member },
        relations: { type: 'array', description: "Each member's relation to the original", items: { type: 'object' } },
        evidence,
      },
    },
    404: error('No such cluster (or an empty one)'),
  },
} as const;

export const postCheck = {
  summary: 'What a draft would match, storing nothing',
  description:
    'The draft as an article object (id optional, default "draft") or as text/plain (first line = title). Answers the verdict ' +
    '(original or duplicate), the likely original, and the nearest stored articles with kind, score, language, cluster and the matching passage pairs.',
  tags: ['check'],
  querystring: { type: 'object', additionalProperties: false, properties: { limit: integerString('Neighbours to report (default 10, at most 50)') } },
  body: {
    content: {
      'application/json': {
        schema: {
          ...articleSchema,
          required: [],
          properties: { ...articleSchema.properties, id: { ...articleSchema.properties.id, description: 'Optional; stored articles with this id are left out of the matches' } },
        },
      },
      'text/plain': { schema: { type: 'string', description: 'The draft as text: the first line is the title (a one-line draft is checked on that line)' } },
    },
  },
  response: {
    503: shuttingDown,
    200: {
      description: 'The verdict, the likely original and the nearest stored articles',
      type: 'object',
      properties: {
        article: { type: 'object', properties: { id: { type: 'string' }, title: nullable('string'), lang: { type: 'string' }, windows: { type: 'integer' }, tokens: { type: 'integer' }, reading: { type: 'string', enum: ['native', 'near', 'none'] } } },
        verdict: { type: 'string', enum: ['original', 'duplicate'] },
        decision: { type: 'object', description: 'What ingesting the draft would do (new cluster, join, merge)' },
        original: articleRef,
        matches: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              ...articleRef.properties,
              cluster: { type: 'integer' },
              score: { type: 'number' },
              method: { type: 'string' },
              kind: { type: 'string', description: 'exact copy, near-verbatim copy, rewrite, translation, or related (below the threshold)' },
              qualifies: { type: 'boolean' },
              crossLanguage: { type: 'boolean' },
              passages: { type: 'array', description: 'Matching passage pairs: score, draft {start, end, text}, stored {start, end, text}', items: { type: 'object' } },
            },
          },
        },
      },
    },
    400: error('An invalid draft (the field named), an empty one, a bad or unknown query parameter, malformed JSON, or not UTF-8'),
    413: error('The body is over http.bodyLimit'),
    415: error('Another content type than JSON or plain text'),
    429: error('More than 32 drafts are waiting: retry after Retry-After seconds'),
  },
} as const;

const health = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'stopping'], description: '"degraded": see problem' },
    problem: { type: 'string', description: 'Why the status is "degraded" (a full disk: jobs wait until there is room)' },
    db: { type: 'string' },
    model: { type: 'string' },
    articles: { type: 'integer', description: 'Vectors in the index (stored articles)' },
    queueDepth: { type: 'integer', description: 'Jobs accepted, not yet processed' },
    uptimeSeconds: { type: 'integer' },
  },
} as const;

export const healthz = {
  summary: 'Liveness and queue state',
  tags: ['operations'],
  response: { 200: { ...health, description: 'Running' }, 503: { ...health, description: 'Shutting down (status "stopping")' } },
} as const;
export const metrics = {
  summary: 'Prometheus metrics (text format)',
  tags: ['operations'],
  response: { 200: { description: 'The metrics, Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, 503: shuttingDown },
} as const;
