// Flags of `jetway web` (and `jetway quickstart`), checked before anything starts so a mistake
// is reported naming the flag and nothing is half started.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseDuration } from '../config/duration.ts';
import { parseLocalUser } from '../api/auth.ts';
import { MIN_POOL_SIZE } from '../db/pool-size.ts';

/** More connections than any Postgres serves a node: a typo, not a setting. */
const MAX_POOL_SIZE = 1_000;

export class FlagError extends Error {}

export function defaultJetwayDir(): string {
  return join(homedir(), '.jetway');
}

export function parsePort(value: string, flag = '--port'): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FlagError(`${flag}: '${value}' is not a port (1-65535)`);
  return port;
}

/** `--postgres-max-conns`: the web node's pool size, from MIN_POOL_SIZE (see there) to 1,000. */
export function parsePoolSize(value: string | undefined, flag = '--postgres-max-conns'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < MIN_POOL_SIZE || n > MAX_POOL_SIZE) {
    throw new FlagError(
      `${flag}: '${value}' is not a number of connections from ${MIN_POOL_SIZE} (one listens, one holds the scheduler's locks, one works) to ${MAX_POOL_SIZE}`,
    );
  }
  return n;
}

export function parseInterval(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new FlagError(`${flag}: '${value}' is not a duration (e.g. 10s, 1m)`);
  return ms;
}

export function checkLocalUsers(specs: string[], flag = '--add-local-user'): string[] {
  for (const spec of specs) {
    try {
      parseLocalUser(spec);
    } catch (err) {
      throw new FlagError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return specs;
}

/**
 * The users of `--add-local-users-file`: one `name:password` or `name:bcrypt-hash` per line;
 * blank lines and lines starting with `#` are skipped. A mistake names the file and line, never
 * the password.
 */
export function readLocalUsersFile(path: string, flag = '--add-local-users-file'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlagError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`);
  }
  const users: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    checkLocalUsers([line], `${flag}: ${path}:${i + 1}`);
    users.push(line);
  });
  return users;
}

/** The owners of team main: local users named by --add-local-user (none given: every local user). */
export function checkMainTeamUsers(names: string[], localUsers: string[], flag = '--main-team-local-user'): string[] | undefined {
  if (names.length === 0) return undefined;
  const known = new Set(localUsers.map((spec) => parseLocalUser(spec).name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new FlagError(`${flag}: ${unknown.join(', ')} is not a local user (give it with --add-local-user name:password)`);
  return names;
}

export function checkRuntime(value: string): 'local' | 'kubernetes' {
  if (value === 'local' || value === 'kubernetes') return value;
  throw new FlagError(`--runtime: unknown runtime '${value}' (local, kubernetes)`);
}

export function checkUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^/]/.test(value)) throw new FlagError(`${flag}: '${value}' is not an http(s) URL`);
  return value;
}

/**
 * `--concourse-version`: what /api/v1/info reports to fly, which parses it as x.y.z and compares
 * major.minor with its own (fly/rc/target.go).
 */
export function checkConcourseVersion(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+\.\d+\.\d+$/.test(value)) throw new FlagError(`--concourse-version: '${value}' is not a version x.y.z (fly's version, e.g. 7.11.2)`);
  return value;
}

/**
 * `--trust-proxy`: the proxies' addresses or CIDR ranges (comma-separated, repeatable), e.g.
 * `10.0.0.0/8,127.0.0.1`, whose X-Forwarded-For a request's address is taken from.
 */
export function checkProxyAddresses(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const part of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (part === '') continue;
    const [ip, bits, extra] = part.split('/');
    const family = isIP(ip ?? '');
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw new FlagError(`--trust-proxy: '${part}' is not an IP address or a CIDR range (e.g. 10.0.0.0/8)`);
    }
    out.push(part);
  }
  return out;
}

/**
 * A boolean flag given as `--flag=VALUE` (`true`/`false`, also `yes`/`no`, `1`/`0`); a bare
 * `--flag` is true.
 */
export function parseBooleanFlag(value: string | boolean | undefined, flag: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  throw new FlagError(`${flag}: '${value}' is not a boolean (true or false)`);
}

/**
 * `--local-http-proxy` / `--local-https-proxy`: the proxy's URL, http://[user:password@]host[:port].
 * A bad one is refused without echoing it: it may hold a password.
 */
export function checkProxyUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const refuse = (why: string): FlagError => new FlagError(`${flag}: ${why} (http://[user:password@]host[:port]; the value is not shown, it may hold a password)`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('not an http or https URL');
  if (url.hostname === '') throw refuse('names no host');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw refuse('a proxy URL has no path, query or fragment');
  return value;
}

/**
 * `--local-no-proxy`: hosts, domains (.example.com), IP addresses, CIDR ranges or `*`,
 * comma-separated (spaces around entries dropped), as no_proxy takes them.
 */
export function checkNoProxy(value: string | undefined, flag = '--local-no-proxy'): string | undefined {
  if (value === undefined) return undefined;
  const entries = value.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (!/^(\*|\.?[A-Za-z0-9_-][A-Za-z0-9_.-]*(:\d{1,5})?|[0-9A-Fa-f.:]+(\/\d{1,3})?|\[[0-9A-Fa-f.:]+\](:\d{1,5})?)$/.test(entry)) {
      throw new FlagError(`${flag}: '${entry}' is not a host, domain, IP address or CIDR range (comma-separated, e.g. localhost,.internal,10.0.0.0/8)`);
    }
  }
  return entries.join(',');
}

/** A duration flag where 0 means "not at all" (e.g. --local-failed-container-retention 0: removed at once). */
export function parseDurationOrZero(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 0) throw new FlagError(`${flag}: '${value}' is not a duration (e.g. 30m, 1h; 0: not kept)`);
  return ms;
}
