// JSON schemas of the HTTP API. Fastify validates requests with them (Ajv) and @fastify/swagger
// turns them into the OpenAPI document at /openapi.json.

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

/** Non-negative integers arrive as strings in query strings and paths; Ajv does not coerce here (bodies stay strict). */
export const integerString = (description: string) => ({ type: 'string', pattern: '^[0-9]{1,9}$', description });

export const postArticles = {
  summary: 'Submit articles for ingestion',
  description:
    'One article object, an array of them (application/json), or one per line (application/x-ndjson). ' +
    'The request is all or nothing: when any article is invalid, nothing is accepted and the answer (400) names each bad field. ' +
    'Accepted articles are committed to the durable job table before the 202 answer; they are ingested in order, exactly once, ' +
    'even across crashes. 429 with Retry-After when the queue is full. Needs the bearer token when one is configured.',
  tags: ['articles'],
  security: [{ bearer: [] }],
  body: { type: 'array', minItems: 1, items: articleSchema, description: 'An article, an array of articles, or NDJSON lines' },
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
    400: errorSchema,
    401: errorSchema,
    413: errorSchema,
    415: errorSchema,
    429: errorSchema,
    503: errorSchema,
  },
} as const;

export const getArticle = {
  summary: 'One article: stored (200), still queued (202), failed (422)',
  tags: ['articles'],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Article id' } } },
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
      lang: { type: 'string', pattern: '^[A-Za-z]{2,3}$', description: 'Only clusters with a member in this language (ISO 639-1)' },
      limit: integerString('At most this many clusters (default 50, at most 500)'),
      members: integerString('Members listed per cluster, earliest first (default 10, at most 1000; `size` is the full count)'),
    },
  },
} as const;

export const getCluster = {
  summary: 'One cluster: members, the original (canonical article) and the evidence of each match',
  tags: ['clusters'],
  params: { type: 'object', required: ['id'], properties: { id: integerString('Cluster id (a merged id answers with the cluster it was merged into)') } },
} as const;

export const postCheck = {
  summary: 'What a draft would match, storing nothing',
  description:
    'The draft as an article object (id optional, default "draft") or as text/plain (first line = title). Answers the verdict ' +
    '(original or duplicate), the likely original, and the nearest stored articles with kind, score, language, cluster and the matching passage pairs.',
  tags: ['check'],
  querystring: { type: 'object', additionalProperties: false, properties: { limit: integerString('Neighbours to report (default 10, at most 50)') } },
  body: {
    ...articleSchema,
    required: [],
    properties: { ...articleSchema.properties, id: { ...articleSchema.properties.id, description: 'Optional; stored articles with this id are left out of the matches' } },
  },
} as const;

export const healthz = { summary: 'Liveness and queue state', tags: ['operations'] } as const;
export const metrics = { summary: 'Prometheus metrics (text format)', tags: ['operations'] } as const;
