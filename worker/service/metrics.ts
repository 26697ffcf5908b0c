// Prometheus metrics of the worker (prom-client), served at GET /metrics in the text format.
import client from 'prom-client';

export interface MetricsSources {
  queueDepth: () => number;
  indexVectors: () => number;
}

export class ServiceMetrics {
  readonly registry = new client.Registry();
  readonly ingested: client.Counter<'status'>;
  readonly unchanged: client.Counter;
  readonly rejected: client.Counter;
  readonly duplicates: client.Counter;
  readonly accepted: client.Counter<'source'>;
  readonly batchSeconds: client.Histogram;
  readonly batchFailures: client.Counter;
  readonly checks: client.Counter<'verdict'>;
  readonly httpSeconds: client.Histogram<'method' | 'route' | 'status'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.ingested = new client.Counter({
      name: 'newsdedup_articles_ingested_total',
      help: 'Articles stored (new or replaced), by decision: created (started a cluster), joined, merged',
      labelNames: ['status'],
      registers,
    });
    this.unchanged = new client.Counter({ name: 'newsdedup_articles_unchanged_total', help: 'Articles received again with the same content (nothing written)', registers });
    this.rejected = new client.Counter({ name: 'newsdedup_articles_rejected_total', help: 'Accepted articles the pipeline refused (e.g. no text after cleaning)', registers });
    this.duplicates = new client.Counter({
      name: 'newsdedup_duplicates_found_total',
      help: 'Articles found to be a copy, rewrite or translation of a stored one (joined or merged a cluster)',
      registers,
    });
    this.accepted = new client.Counter({ name: 'newsdedup_jobs_accepted_total', help: 'Articles committed to the job table, by intake', labelNames: ['source'], registers });
    this.batchSeconds = new client.Histogram({
      name: 'newsdedup_batch_duration_seconds',
      help: 'Time to embed, decide and commit one batch of jobs',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.batchFailures = new client.Counter({ name: 'newsdedup_batch_failures_total', help: 'Batches that failed and were rolled back (their jobs are retried)', registers });
    this.checks = new client.Counter({ name: 'newsdedup_checks_total', help: 'Drafts checked (POST /check), by verdict', labelNames: ['verdict'], registers });
    this.httpSeconds = new client.Histogram({
      name: 'newsdedup_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    new client.Gauge({
      name: 'newsdedup_queue_depth',
      help: 'Jobs accepted and not yet processed',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new client.Gauge({
      name: 'newsdedup_index_vectors',
      help: 'Vectors in the HNSW index (one per stored article)',
      registers,
      collect() {
        this.set(sources.indexVectors());
      },
    });
    client.collectDefaultMetrics({ register: this.registry, prefix: 'newsdedup_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
