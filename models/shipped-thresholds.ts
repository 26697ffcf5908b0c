// What a model folder says of itself without loading the model: its name (the database records
// it) and the decision thresholds it ships (its newsdedup.json), so that `stats` reports the
// calibration in use in a fraction of a second.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

function readJsonObject(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // loading the model says what is wrong with the file
  }
}

/** The model's name as the embedder's id gives it: config.json's `_name_or_path`, else the folder's name. */
export function folderModelName(dir: string): string {
  return (readJsonObject(join(dir, 'config.json'))?._name_or_path as string | undefined) ?? basename(dir);
}

/** The `thresholds` object of `<dir>/newsdedup.json`; undefined when the folder ships none. */
export function shippedThresholds(dir: string): Record<string, unknown> | undefined {
  const t = readJsonObject(join(dir, 'newsdedup.json'))?.thresholds;
  return t && typeof t === 'object' && Object.keys(t).length ? (t as Record<string, unknown>) : undefined;
}
