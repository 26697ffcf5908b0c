// The terminal form of the logs: one short line per event, with the fields that are set.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../worker/log.ts';

afterEach(() => vi.restoreAllMocks());

describe('terminal logs', () => {
  it('leave out fields without a value (a rejected line with no id said id=undefined)', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    createLogger('info', { json: false }).warn({ file: 'feed.jsonl', line: 3, id: undefined }, 'rejected: feed.jsonl:3: malformed JSON');
    expect(lines).toEqual(['warn: rejected: feed.jsonl:3: malformed JSON (file=feed.jsonl line=3)\n']);
  });
});
