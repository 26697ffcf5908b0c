// Typed errors. Each carries the offending input (article id, file and line, model, path) so
// that a message can name it and callers can react by type.
import type { ReembedTarget, VectorSpace } from '../db/store.ts';
import type { LockHolder } from './service/lock.ts';

export class NewsdedupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line usage or configuration: exit code 2. */
export class UsageError extends NewsdedupError {}

/** One input article (or line, or file) that cannot be ingested; the rest of the input goes on. */
export class InputError extends NewsdedupError {
  constructor(
    /** What is wrong, without the location that `message` adds. */
    readonly reason: string,
    readonly file: string,
    readonly line?: number,
    readonly articleId?: string,
  ) {
    super(`${printable(file)}${line !== undefined ? `:${line}` : ''}${articleId ? ` (${printable(articleId)})` : ''}: ${reason}`);
  }
}

/** Line breaks and other control characters (C0, DEL, C1, and the Unicode line and paragraph separators). */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g');

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** A path or id as it can stand in a one-line message: line breaks and other control characters escaped (\n, \u2028). */
const printable = (s: string) => s.replace(CONTROL_CHARACTERS, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export class ModelLoadError extends NewsdedupError {
  constructor(
    message: string,
    readonly model: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A word as a POSIX shell reads it (for a command a message tells the user to run): quoted unless plainly safe. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that re-embeds a database with the model `modelFlags` load (config.ts modelFlags), as messages spell it out. */
export const reembedCommand = (dbPath: string, modelFlags: string) => `newsdedup reembed --db ${shellWord(dbPath)} ${modelFlags}`;

/** The database was built with another model: its vectors cannot be compared with this one's. */
export class ModelMismatchError extends NewsdedupError {
  constructor(
    readonly dbPath: string,
    readonly stored: VectorSpace,
    readonly requested: VectorSpace,
    /** The flags that load the requested model (config.ts modelFlags): `reembed` without them would use the bundled one. */
    readonly requestedFlags: string,
  ) {
    const settings = stored.settings !== undefined && stored.settings !== requested.settings;
    const describe = (m: VectorSpace) => `${m.modelId} (dim ${m.dim}${settings ? `, ${m.settings}` : ''})`;
    super(
      `${dbPath} was built with model ${describe(stored)}, not ${describe(requested)}. ` +
        `Use the same model, or re-embed every stored article with the new one: ${reembedCommand(dbPath, requestedFlags)}`,
    );
  }
}

/**
 * A re-embedding of the database was started and has not finished: some articles have the new
 * model's vectors and windows, some the old one's, so neither model can use them. `holder` is the
 * `reembed` at work now, if one is (otherwise it was interrupted).
 */
export class UnfinishedReembedError extends NewsdedupError {
  constructor(
    readonly dbPath: string,
    readonly target: ReembedTarget,
    readonly holder?: LockHolder,
  ) {
    const model = `model ${target.modelId} (dim ${target.dim}, ${target.settings})`;
    super(
      holder
        ? `${dbPath} is being re-embedded with ${model} by pid ${holder.pid} on ${holder.host} (since ${holder.since}): ` +
            `until it finishes, its articles have the vectors of two models and cannot be used. Try again when it is done.`
        : `${dbPath}: a reembed to ${model} was interrupted: some articles have that model's vectors, the others the old model's, ` +
            `so neither model can use them. Run it again (it starts over): ${reembedCommand(dbPath, target.modelFlags)}`,
    );
  }
}
