// Argument parsing for the scripts (the CLI itself uses commander): node:util's parseArgs plus
// what every command owes its user: `--help`, and an unknown or malformed option named on
// stderr with exit status 2 instead of a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

function helpText(usage: string, options: Options): string {
  const lines = Object.entries(options).map(([name, o]) => {
    const value = o.type === 'string' ? ' <value>' : '';
    const fallback = o.default !== undefined && o.type === 'string' ? ` (default ${String(o.default)})` : '';
    return `  --${name}${value}${fallback}`;
  });
  return `${usage.trim()}\n\nOptions:\n${lines.join('\n')}\n  -h, --help\n`;
}

/**
 * Parses process.argv for a script; `usage` is printed by --help, and on stderr with exit status 2
 * after a bad option or with fewer than `requiredPositionals` positional arguments.
 */
export function scriptArgs<const O extends Options, const P extends boolean = false>(usage: string, options: O, allowPositionals?: P, requiredPositionals = 0) {
  const config = { options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${helpText(usage, options)}`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(helpText(usage, options));
    process.exit(0);
  }
  if (parsed.positionals.length < requiredPositionals) {
    process.stderr.write(helpText(usage, options));
    process.exit(2);
  }
  return parsed;
}

/** For scripts that take positional arguments only. */
export function scriptPositionals(usage: string, required: number): (string | undefined)[] {
  return scriptArgs(usage, {}, true, required).positionals;
}
