// Connection URLs in logs and messages: never with their password.

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
