// Every script a user runs answers --help, and names a bad option with exit status 2.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SCRIPTS = ['bench-model.ts', 'train-model.ts', 'bench-http.ts', 'crash-test.ts', 'make-tiny-model.ts', 'model/reexport.ts', 'model/language-directions.ts', 'model/flores-docs.ts', 'build-wasm.ts'];
const POSITIONAL = ['model/diag-dev.ts', 'model/check-tokenizer.ts', 'model/try-whitening.ts'];

function run(script: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe.each(SCRIPTS)('scripts/%s', (script) => {
  it('prints its usage and options on --help and exits 0', () => {
    const r = run(script, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Options:\n {2}--/);
    expect(r.stdout).toMatch(/^\S[^]*?\n\n {2}(npx tsx|tsx|npm run) /);
  });

  it('names an unknown option and exits 2 without running', () => {
    const r = run(script, ['--no-such-option']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--no-such-option'");
    expect(r.stdout).toBe('');
  });
});

describe.each(POSITIONAL)('scripts/%s (positional arguments)', (script) => {
  it('prints its usage on --help and exits 0', () => {
    const r = run(script, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\S[^]*?\n\n {2}npx tsx scripts\/model\/\S+ <model dir>/);
  });

  it('prints its usage on stderr and exits 2 when arguments are missing', () => {
    const r = run(script, []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`npx tsx scripts/${script} <model dir>`);
    expect(r.stdout).toBe('');
  });
});

describe.each([
  ['model/reexport.ts', 'npx tsx scripts/model/reexport.ts <from dir> <to dir>'],
  ['make-tiny-model.ts', 'tsx scripts/make-tiny-model.ts <outDir>'],
])('scripts/%s without its positional arguments', (script, usage) => {
  it('prints its usage on stderr and exits 2', () => {
    const r = run(script, []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(usage);
    expect(r.stdout).toBe('');
  });
});
