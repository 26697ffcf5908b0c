// A worker thread starts outside tsx's loader: register it, then run the TypeScript body
// (worker/article-thread.ts) whose URL the pool passes in.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

// Before tsx's hooks, as in bin/newsdedup.js: they would spend half a second rewriting the library.
await import('@huggingface/transformers');
register();
await import(workerData.entry);
