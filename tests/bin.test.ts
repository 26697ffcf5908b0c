import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, SEEDS, tempDir, tinyModel, writeTinyConfig } from './helpers.ts';

describe('the newsdedup executable', () => {
  it('runs from bin/ and exits with the documented codes', () => {
    const dir = tempDir();
    writeTinyConfig(dir);
    const bin = join(ROOT, 'bin', 'newsdedup.js');
    const out = execFileSync(bin, ['ingest', SEEDS, '--model-dir', tinyModel(), '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NEWSDEDUP_LOG_LEVEL: 'warn' } });
    expect(JSON.parse(out)).toMatchObject({ ingested: 3, rejected: 0 });
    const usage = spawnSync(bin, ['ingest'], { cwd: dir, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument/);
    const rejected = spawnSync(bin, ['ingest', join(dir, 'missing.jsonl'), '--model-dir', tinyModel()], { cwd: dir, encoding: 'utf8' });
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toMatch(/missing\.jsonl: cannot read: ENOENT/);
  });
});
