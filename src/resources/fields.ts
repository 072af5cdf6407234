// Small typed readers for source/params fields, with readable errors, plus helpers shared by the
// built-in types (Go durations, abortable sleep).
import { parseDuration } from '../config/duration.ts';
import { ResourceError, type JsonObject, type JsonValue } from './protocol.ts';
import type { Version } from '../model/version.ts';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** A field read from `where` ("source" or "params"). */
export class Fields {
  constructor(
    private readonly obj: JsonObject | undefined,
    private readonly where: string,
  ) {}

  has(key: string): boolean {
    return this.obj !== undefined && this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): JsonValue | undefined {
    const v = this.obj?.[key];
    return v === null ? undefined : v;
  }

  private fail(key: string, expected: string, got: unknown): never {
    throw new ResourceError(`invalid ${this.where}.${key}: expected ${expected}, got ${describe(got)}`);
  }

  /** A string; numbers and booleans are accepted and turned into strings (YAML often types them). */
  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return this.fail(key, 'a string', v);
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (v === undefined) return false;
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.fail(key, 'a boolean', v);
  }

  int(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n)) return n;
    return this.fail(key, 'an integer', v);
  }

  stringList(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(key, 'a list of strings', v);
    return v.map((item, i) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      return this.fail(`${key}[${i}]`, 'a string', item);
    });
  }

  object(key: string): JsonObject | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isObject(v)) return this.fail(key, 'a map', v);
    return v;
  }

  list(key: string): JsonValue[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(key, 'a list', v);
    return v;
  }

  /** Rejects keys not in `allowed` (Concourse's mock resource decodes with DisallowUnknownFields). */
  rejectUnknown(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj ?? {})) {
      if (!allowed.includes(key)) throw new ResourceError(`invalid payload: unknown field "${key}" in ${this.where}`);
    }
  }
}

/** Checks that a decoded value is a version (a map of strings); numbers/booleans are stringified. */
export function toVersion(value: unknown, where = 'version'): Version {
  if (!isObject(value)) throw new ResourceError(`invalid ${where}: expected a map of strings, got ${describe(value)}`);
  const out: Version = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new ResourceError(`invalid ${where}.${k}: expected a string, got ${describe(v)}`);
  }
  return out;
}

/** Go's time.ParseDuration, as the config layer reads it; resources also accept surrounding spaces. */
export function parseGoDuration(text: string): number | undefined {
  return parseDuration(text.trim());
}

/** Resolves after `ms`, or rejects with a ResourceError when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ResourceError('interrupted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ResourceError('interrupted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
