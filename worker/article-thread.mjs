// A worker thread starts outside tsx's loader: register it, then run the TypeScript body
// (worker/article-thread.ts) whose URL the pool passes in.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
