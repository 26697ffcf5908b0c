// Thresholds in the configuration: every one the README lists is read, checked and used (the
// config file, the environment and flags all go through the same validation).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.ts';
import { openContext } from '../worker/context.ts';
import { createLogger } from '../worker/log.ts';
import { tempDir, tinyModel } from './helpers.ts';

function configFile(thresholds: unknown): string {
  const dir = tempDir('newsdedup-config-');
  writeFileSync(join(dir, 'newsdedup.config.json'), JSON.stringify({ modelDir: tinyModel(), thresholds }));
  return dir;
}

describe('thresholds in the configuration', () => {
  it('reads every threshold, original and passage included, and they override the calibrated ones', async () => {
    const thresholds = { sameLanguage: 0.7, crossLanguage: 0.65, merge: 0.9, original: 0.4, passage: 0.55 };
    const dir = configFile(thresholds);
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.thresholds).toEqual(thresholds);
    const ctx = await openContext({ ...config, db: join(dir, 'x.db') }, createLogger('silent'));
    try {
      expect(ctx.thresholds).toMatchObject(thresholds);
    } finally {
      ctx.close();
    }
  });

  it('lets a higher layer override one threshold and keeps the others', () => {
    const dir = configFile({ original: 0.4, passage: 0.55 });
    const config = loadConfig({ cwd: dir, env: {}, flags: { thresholds: { passage: 0.5 } } });
    expect(config.thresholds).toEqual({ original: 0.4, passage: 0.5 });
  });

  it('refuses values out of range, non-numbers and unknown threshold names', () => {
    expect(() => loadConfig({ cwd: configFile({ original: 1.5 }), env: {} })).toThrow(/thresholds\.original must be a number between -1 and 1/);
    expect(() => loadConfig({ cwd: configFile({ passage: 'high' }), env: {} })).toThrow(/thresholds\.passage must be a number/);
    expect(() => loadConfig({ cwd: configFile({ mergee: 0.9 }), env: {} })).toThrow(/unknown setting "thresholds\.mergee"/);
    expect(() => loadConfig({ cwd: configFile([0.5]), env: {} })).toThrow(/thresholds must be an object/);
  });
});
