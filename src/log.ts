// The one logger interface of Jetway (pino's shape, as the web node uses pino): every layer takes
// a `Logger` and logs objects, with errors under `err` as Error objects (pino serialises them with
// their stack), never pre-formatted strings.
import { pino } from 'pino';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

/** A logger that drops everything (tests, and components nobody asked to log). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** The process's logger when the caller gives none: pino's JSON lines on stderr. */
export function defaultLogger(level: string = process.env.JETWAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'jetway', level }, pino.destination({ fd: 2, sync: true }));
}

/** A short, single-line description of a thrown value, for messages shown to people. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
