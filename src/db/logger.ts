import { pino, type Logger } from 'pino';

export type { Logger };

/** The logger the storage layer uses when the caller gives none: JSON lines on stderr. */
export function defaultLogger(): Logger {
  return pino(
    { name: 'jetway', level: process.env.JETWAY_LOG_LEVEL ?? 'info' },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** Hides the password (and any `password=` query parameter) of a Postgres URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    // not a URL (a key=value connection string): hide anything that looks like a password
    return url.replace(/(password\s*=\s*)(\S+)/gi, '$1***').replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
