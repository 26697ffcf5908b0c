// Structured logs: one JSON line per event (pino) when stderr is not a terminal, short readable
// lines when it is. Logs go to stderr so that stdout stays clean for --json output.
import pino from 'pino';
import type { LogLevel } from './config.ts';

export type Logger = Pick<pino.Logger, 'debug' | 'info' | 'warn' | 'error'>;

export function createLogger(level: LogLevel, opts: { json?: boolean } = {}): Logger {
  const json = opts.json ?? !process.stderr.isTTY;
  if (json) return pino({ level, base: { name: 'newsdedup' } }, pino.destination({ fd: 2, sync: true }));
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const min = level === 'silent' ? Infinity : order.indexOf(level);
  const line =
    (lvl: LogLevel) =>
    (objOrMsg: unknown, msg?: string): void => {
      if (order.indexOf(lvl) < min) return;
      const [fields, text] = typeof objOrMsg === 'string' ? [{}, objOrMsg] : [objOrMsg as Record<string, unknown>, msg ?? ''];
      const extra = Object.entries(fields ?? {})
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(`${lvl === 'info' ? '' : `${lvl}: `}${text}${extra ? ` (${extra})` : ''}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') } as Logger;
}
