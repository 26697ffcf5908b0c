// Folders that cannot be listed. Tests often run as root, for whom chmod restricts nothing, so
// readdirSync is made to refuse the folders in `denied` the way the system does (EACCES).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readInputs } from '../worker/input.ts';
import { tempDir } from './helpers.ts';

const denied = new Set<string>();

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readdirSync = ((path: string, options?: unknown) => {
    if (denied.has(String(path))) {
      throw Object.assign(new Error(`EACCES: permission denied, scandir '${String(path)}'`), { errno: -13, code: 'EACCES', syscall: 'scandir', path: String(path) });
    }
    return fs.readdirSync(path, options as never);
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, readdirSync }, readdirSync };
});

const story = (dir: string, name: string) => writeFileSync(join(dir, name), `Title of ${name}\nText of ${name}.\n`);

async function read(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const item of readInputs(paths)) out.push(item.ok ? `ok ${item.article.id}` : `error ${item.error.message}`);
  return out;
}

describe('an unreadable folder', () => {
  it('is reported by its path, and the other paths are read', async () => {
    const locked = tempDir();
    story(locked, 'hidden.txt');
    const open = tempDir();
    story(open, 'a.txt');
    denied.add(locked);
    try {
      expect(await read([locked, open])).toEqual([`error ${locked}: cannot read: EACCES`, 'ok a']);
    } finally {
      denied.delete(locked);
    }
  });

  it('inside a folder is reported by its path, and the rest of the folder is read', async () => {
    const root = tempDir();
    for (const sub of ['a', 'b', 'c']) {
      mkdirSync(join(root, sub));
      story(join(root, sub), `${sub}.txt`);
    }
    const locked = join(root, 'b');
    denied.add(locked);
    try {
      const got = await read([root]);
      expect(got).toHaveLength(3);
      expect(got[0]).toMatch(/^ok .*a$/);
      expect(got[1]).toBe(`error ${locked}: cannot read: EACCES`);
      expect(got[2]).toMatch(/^ok .*c$/);
    } finally {
      denied.delete(locked);
    }
  });
});
