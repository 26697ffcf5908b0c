// The one configuration object, built once per process from defaults < config file < environment
// < command-line flags, and passed down. No other module reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Thresholds } from './cluster-decision.ts';
import { shellWord, UsageError } from './errors.ts';
import type { HnswParams } from './vector-index.ts';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, 'models', 'newsdedup-static-v1');
export const CONFIG_FILE = 'newsdedup.config.json';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';

export interface Config {
  /** SQLite database file; the HNSW index lives beside it as `<db>.hnsw`. */
  db: string;
  /** Local model folder (transformers.js layout). Exactly one of modelDir and model is set. */
  modelDir?: string;
  /** Hub model id, e.g. Xenova/multilingual-e5-small. */
  model?: string;
  dtype?: Dtype;
  allowRemoteModels: boolean;
  modelCacheDir?: string;
  /** Articles per batch: one embedding call and one SQLite transaction. */
  batchSize: number;
  /** Batches embedded at the same time. */
  concurrency: number;
  /**
   * Threads that clean, fingerprint and embed articles while the main thread decides and stores
   * (0: everything on the main thread). Default: one fewer than the cores, at most 4.
   */
  threads: number;
  /** Neighbours fetched from the index for each decision. */
  neighbours: number;
  hnsw: HnswParams;
  /** Overrides of the model's recommended thresholds. */
  thresholds: ThresholdSettings;
  logLevel: LogLevel;
  /** The worker's HTTP API (docs/service.md). */
  http: HttpConfig;
  /** Folder the worker watches for article files (moved to done/ or failed/ beside them). */
  inbox?: string;
  /** Most jobs waiting in the worker's queue; beyond it HTTP answers 429 and the inbox waits. */
  queueLimit: number;
  /** Seconds a writer (worker, ingest, reembed) waits for another writer's lock before giving up. */
  lockWait: number;
  /** Seconds between index saves in the worker (it is also saved at shutdown). */
  indexSaveSeconds: number;
  /** Seconds an inbox file must have gone unmodified before it is taken (a slow copy pauses). */
  inboxSettleSeconds: number;
}

/**
 * The thresholds a configuration may set (each overrides the calibrated one): the decision's,
 * and `passage`, the lowest similarity at which `check` shows a passage pair. The verifier's
 * weights come from calibration only.
 */
export type ThresholdSettings = Partial<Pick<Thresholds, 'sameLanguage' | 'crossLanguage' | 'merge' | 'original'>> & { passage?: number };
const THRESHOLD_KEYS = ['sameLanguage', 'crossLanguage', 'merge', 'original', 'passage'] as const;

export interface HttpConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When set, write endpoints require `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body in bytes. */
  bodyLimit: number;
}

export const DEFAULTS: Config = {
  db: 'newsdedup.db',
  modelDir: DEFAULT_MODEL_DIR,
  allowRemoteModels: false,
  batchSize: 64,
  concurrency: 2,
  threads: Math.min(4, Math.max(0, availableParallelism() - 1)),
  neighbours: 10,
  hnsw: { m: 16, efConstruction: 200, efSearch: 64 },
  thresholds: {},
  logLevel: 'info',
  http: { host: '127.0.0.1', port: 8080, bodyLimit: 10 * 1024 * 1024 },
  queueLimit: 10_000,
  lockWait: 10,
  indexSaveSeconds: 60,
  inboxSettleSeconds: 5,
};

/** The shape accepted at every level: the config file, the environment, the flags. */
export interface ConfigLayer {
  db?: string;
  modelDir?: string;
  model?: string;
  dtype?: Dtype;
  allowRemoteModels?: boolean;
  modelCacheDir?: string;
  batchSize?: number;
  concurrency?: number;
  threads?: number;
  neighbours?: number;
  hnsw?: Partial<HnswParams>;
  thresholds?: ThresholdSettings;
  logLevel?: LogLevel;
  http?: Partial<HttpConfig>;
  inbox?: string;
  queueLimit?: number;
  lockWait?: number;
  indexSaveSeconds?: number;
  inboxSettleSeconds?: number;
}

const HNSW_KEYS: (keyof HnswParams)[] = ['m', 'efConstruction', 'efSearch'];
const DTYPES: Dtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4'];
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** A number written in decimal (Number() also reads "0x10", "1e2" and " 7 " from the environment). */
const decimal = (v: unknown, pattern = /^\d+$/): unknown => (typeof v === 'string' ? (pattern.test(v) ? Number(v) : Number.NaN) : v);

export function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = decimal(v);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function unitScore(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = decimal(v, /^-?\d*\.?\d+$/);
  if (typeof n !== 'number' || !(n >= -1 && n <= 1)) throw new UsageError(`${name} must be a number between -1 and 1, got ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(v: unknown, allowed: T[], name: string): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** A yes/no setting: a boolean, or (from the environment) true/false/1/0. */
function flag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new UsageError(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

function nonNegativeInt(v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = decimal(v);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

const SERVICE_KEYS = ['http', 'inbox', 'queueLimit', 'lockWait', 'indexSaveSeconds', 'inboxSettleSeconds'] as const;

/** The worker's settings (SERVICE_KEYS). */
function serviceSettings(raw: Record<string, unknown>, where: string, name: SettingName): Pick<ConfigLayer, (typeof SERVICE_KEYS)[number]> {
  const http = raw.http ?? {};
  if (typeof http !== 'object' || http === null || Array.isArray(http)) throw new UsageError(`${name('http')} must be an object`);
  const h = http as Record<string, unknown>;
  for (const key of Object.keys(h)) if (!['host', 'port', 'token', 'bodyLimit'].includes(key)) throw new UsageError(`${where}: unknown setting "http.${key}"`);
  for (const key of ['host', 'token'] as const) {
    if (h[key] !== undefined && (typeof h[key] !== 'string' || !h[key])) throw new UsageError(`${name(`http.${key}`)} must be a non-empty string`);
  }
  if (raw.inbox !== undefined && (typeof raw.inbox !== 'string' || !raw.inbox)) throw new UsageError(`${name('inbox')} must be a folder path`);
  return {
    http: {
      host: h.host as string | undefined,
      port: nonNegativeInt(h.port, name('http.port'), 65535),
      token: h.token as string | undefined,
      bodyLimit: positiveInt(h.bodyLimit, name('http.bodyLimit')),
    },
    inbox: raw.inbox as string | undefined,
    queueLimit: positiveInt(raw.queueLimit, name('queueLimit')),
    lockWait: nonNegativeInt(raw.lockWait, name('lockWait')),
    indexSaveSeconds: positiveInt(raw.indexSaveSeconds, name('indexSaveSeconds')),
    inboxSettleSeconds: nonNegativeInt(raw.inboxSettleSeconds, name('inboxSettleSeconds')),
  };
}

/** How an error message names a setting (`http.port`): by default "<layer>: http.port". */
type SettingName = (setting: string) => string;

/**
 * Checks one layer's values; `where` names the layer in error messages, `name` a setting in it
 * (the environment names the variable that feeds it).
 */
export function validateLayer(raw: Record<string, unknown>, where: string, name: SettingName = (setting) => `${where}: ${setting}`): ConfigLayer {
  const known = new Set(['db', 'modelDir', 'model', 'dtype', 'allowRemoteModels', 'modelCacheDir', 'batchSize', 'concurrency', 'threads', 'neighbours', 'hnsw', 'thresholds', 'logLevel']);
  for (const key of SERVICE_KEYS) known.add(key);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new UsageError(`${where}: unknown setting "${key}"`);
  const hnsw = (raw.hnsw === undefined ? {} : raw.hnsw) as Record<string, unknown>;
  // A misspelt key here would silently keep the default search depth (recall 0.90 instead of 0.99 at 1M).
  if (typeof hnsw !== 'object' || hnsw === null || Array.isArray(hnsw)) throw new UsageError(`${name('hnsw')} must be an object`);
  for (const key of Object.keys(hnsw)) {
    if (!HNSW_KEYS.includes(key as keyof HnswParams)) throw new UsageError(`${where}: unknown setting "hnsw.${key}" (known: ${HNSW_KEYS.join(', ')})`);
  }
  const th = (raw.thresholds === undefined ? {} : raw.thresholds) as Record<string, unknown>;
  if (typeof th !== 'object' || th === null || Array.isArray(th)) throw new UsageError(`${name('thresholds')} must be an object`);
  for (const key of Object.keys(th)) {
    if (!(THRESHOLD_KEYS as readonly string[]).includes(key)) throw new UsageError(`${where}: unknown setting "thresholds.${key}" (known: ${THRESHOLD_KEYS.join(', ')})`);
  }
  const str = (k: string) => {
    const v = raw[k];
    if (v !== undefined && typeof v !== 'string') throw new UsageError(`${name(k)} must be a string`);
    return v as string | undefined;
  };
  const layer: ConfigLayer = {
    db: str('db'),
    modelDir: str('modelDir'),
    model: str('model'),
    modelCacheDir: str('modelCacheDir'),
    dtype: oneOf(raw.dtype, DTYPES, name('dtype')),
    allowRemoteModels: flag(raw.allowRemoteModels, name('allowRemoteModels')),
    batchSize: positiveInt(raw.batchSize, name('batchSize')),
    concurrency: positiveInt(raw.concurrency, name('concurrency')),
    threads: nonNegativeInt(raw.threads, name('threads'), 64),
    neighbours: positiveInt(raw.neighbours, name('neighbours')),
    hnsw: {
      m: positiveInt(hnsw.m, name('hnsw.m')),
      efConstruction: positiveInt(hnsw.efConstruction, name('hnsw.efConstruction')),
      efSearch: positiveInt(hnsw.efSearch, name('hnsw.efSearch')),
    },
    thresholds: Object.fromEntries(THRESHOLD_KEYS.map((k) => [k, unitScore(th[k], name(`thresholds.${k}`))])) as ThresholdSettings,
    logLevel: oneOf(raw.logLevel, LEVELS, name('logLevel')),
    ...serviceSettings(raw, where, name),
  };
  return layer;
}

/** Each setting's environment variable (http.* ones under HTTP_ENV). */
const ENV = {
  db: 'NEWSDEDUP_DB',
  modelDir: 'NEWSDEDUP_MODEL_DIR',
  model: 'NEWSDEDUP_MODEL',
  dtype: 'NEWSDEDUP_DTYPE',
  allowRemoteModels: 'NEWSDEDUP_ALLOW_REMOTE_MODELS',
  modelCacheDir: 'NEWSDEDUP_MODEL_CACHE_DIR',
  batchSize: 'NEWSDEDUP_BATCH_SIZE',
  concurrency: 'NEWSDEDUP_CONCURRENCY',
  threads: 'NEWSDEDUP_THREADS',
  logLevel: 'NEWSDEDUP_LOG_LEVEL',
  inbox: 'NEWSDEDUP_INBOX',
  queueLimit: 'NEWSDEDUP_QUEUE_LIMIT',
  lockWait: 'NEWSDEDUP_LOCK_WAIT',
  indexSaveSeconds: 'NEWSDEDUP_INDEX_SAVE_SECONDS',
  inboxSettleSeconds: 'NEWSDEDUP_INBOX_SETTLE_SECONDS',
} as const;
const HTTP_ENV = { host: 'NEWSDEDUP_HTTP_HOST', port: 'NEWSDEDUP_HTTP_PORT', token: 'NEWSDEDUP_HTTP_TOKEN', bodyLimit: 'NEWSDEDUP_HTTP_BODY_LIMIT' } as const;

const fromEnv = (env: Record<string, string | undefined>, names: Record<string, string>) =>
  Object.fromEntries(Object.entries(names).flatMap(([key, name]) => (env[name] === undefined || env[name] === '' ? [] : [[key, env[name]]])));

export function envLayer(env: Record<string, string | undefined>): ConfigLayer {
  const raw: Record<string, unknown> = fromEnv(env, ENV);
  const http = fromEnv(env, HTTP_ENV);
  if (Object.keys(http).length) raw.http = http;
  // Name the variable the user set, not the setting it feeds.
  const variable = (setting: string) => (setting.startsWith('http.') ? HTTP_ENV[setting.slice(5) as keyof typeof HTTP_ENV] : ENV[setting as keyof typeof ENV]) ?? `environment: ${setting}`;
  return validateLayer(raw, 'environment', variable);
}

export function fileLayer(path: string | undefined, cwd: string): ConfigLayer {
  const file = path ? resolve(cwd, path) : join(cwd, CONFIG_FILE);
  if (!existsSync(file)) {
    if (path) throw new UsageError(`config file ${file} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`config file ${file}: expected a JSON object`);
  const layer = validateLayer(raw as Record<string, unknown>, file);
  // Paths in the file are the file's: a cron run from another folder must find the same database.
  const here = (p: string | undefined) => p && resolve(dirname(file), p);
  return { ...layer, db: here(layer.db), modelDir: here(layer.modelDir), modelCacheDir: here(layer.modelCacheDir), inbox: here(layer.inbox) };
}

const defined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

export function mergeLayers(...layers: ConfigLayer[]): Config {
  let config: Config = { ...DEFAULTS, hnsw: { ...DEFAULTS.hnsw }, thresholds: {}, http: { ...DEFAULTS.http } };
  for (const layer of layers) {
    const { hnsw, thresholds, modelDir, model, http, ...rest } = layer;
    config = {
      ...config,
      ...defined(rest),
      http: { ...config.http, ...defined(http) },
      hnsw: { ...config.hnsw, ...defined(hnsw) },
      thresholds: { ...config.thresholds, ...defined(thresholds) },
    };
    // A layer that names a model replaces the lower layer's choice, whichever form that took.
    if (modelDir !== undefined || model !== undefined) {
      if (modelDir !== undefined && model !== undefined) throw new UsageError('give either a model folder (modelDir) or a hub model id (model), not both');
      config.modelDir = modelDir;
      config.model = model;
    }
  }
  return config;
}

/**
 * The command-line flags that select this configuration's model, for a message that tells the
 * user what to run: always spelt out, since a command without them would load the bundled model
 * (or whichever one a config file or the environment names).
 */
export function modelFlags(config: Pick<Config, 'modelDir' | 'model' | 'dtype'>): string {
  const flags = config.model !== undefined ? ['--model', config.model] : ['--model-dir', config.modelDir ?? DEFAULT_MODEL_DIR];
  if (config.dtype) flags.push('--dtype', config.dtype);
  return flags.map(shellWord).join(' ');
}

/** The command-line flag that sets each setting, to name it in an error ("--port must be ..."). */
const FLAGS: Record<string, string> = {
  db: '--db',
  modelDir: '--model-dir',
  model: '--model',
  dtype: '--dtype',
  threads: '--threads',
  logLevel: '--log-level',
  inbox: '--inbox',
  'http.host': '--host',
  'http.port': '--port',
};

/** Builds the configuration: defaults < config file (--config, else ./newsdedup.config.json) < NEWSDEDUP_* environment < flags. */
export function loadConfig(opts: { flags?: Record<string, unknown>; configFile?: string; env?: Record<string, string | undefined>; cwd?: string }): Config {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? {};
  const flagName = (setting: string) => FLAGS[setting] ?? `flags: ${setting}`;
  const config = mergeLayers(fileLayer(opts.configFile ?? env.NEWSDEDUP_CONFIG, cwd), envLayer(env), validateLayer(opts.flags ?? {}, 'flags', flagName));
  return {
    ...config,
    db: resolve(cwd, config.db),
    modelDir: config.modelDir && resolve(cwd, config.modelDir),
    ...(config.inbox !== undefined && { inbox: resolve(cwd, config.inbox) }),
  };
}
