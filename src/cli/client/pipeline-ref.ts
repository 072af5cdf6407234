// A pipeline as the CLI names it: `name` or, for an instanced pipeline, `name/key:value[,key:value]`
// (fly's PipelineFlag); `-j`/`-r` take `name[/vars]/job`, the job after the last '/' (fly's
// JobFlag and ResourceFlag). Values are YAML, keys dotted paths (`"a.b".c:1` → {"a.b": {c: 1}}),
// as fly/commands/internal/flaghelpers/instance_vars_flag.go reads them; the API takes the
// expanded object as `?vars=<json>` (src/api/context.ts instanceVarsFrom).
import { parse as parseYaml } from 'yaml';
import { usageError } from '../io.ts';

export interface PipelineRef {
  name: string;
  /** Absent for a pipeline that is not instanced. */
  instanceVars?: Record<string, unknown>;
}

/** Index of the first `stop` outside quotes (and, with `nesting`, outside YAML's {} and []). */
function findUnquoted(s: string, quotes: string, stop: string, nesting = false): number {
  let quote = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === stop && depth === 0) return i;
    if (quotes.includes(c)) quote = c;
    else if (nesting && (c === '{' || c === '[')) depth++;
    else if (nesting && (c === '}' || c === ']')) depth--;
  }
  return -1;
}

/** `"my.field".sub` → ['my.field', 'sub'] (vars.ParseReference's path segments). */
function parseKey(raw: string): string[] {
  const fields: string[] = [];
  let rest = raw;
  for (;;) {
    const dot = findUnquoted(rest, '"', '.');
    const field = (dot < 0 ? rest : rest.slice(0, dot)).trim().replaceAll('"', '');
    if (field === '') throw new Error(`invalid var '${raw}': empty field`);
    fields.push(field);
    if (dot < 0) return fields;
    rest = rest.slice(dot + 1);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let obj = target;
  for (const field of path.slice(0, -1)) {
    const next = obj[field];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) obj[field] = {};
    obj = obj[field] as Record<string, unknown>;
  }
  obj[path[path.length - 1] ?? ''] = value;
}

/** `key:value[,key:value]` → the instance vars; throws an Error whose message says what is wrong. */
export function parseInstanceVars(text: string): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  let s = text;
  let pairs = 0;
  for (;;) {
    const colon = findUnquoted(s, '"', ':');
    if (colon < 0) break;
    const rawKey = s.slice(0, colon);
    const path = parseKey(rawKey);
    s = s.slice(colon + 1);
    const comma = findUnquoted(s, `"'`, ',', true);
    const rawValue = comma < 0 ? s : s.slice(0, comma);
    let value: unknown;
    try {
      // YAML 1.1, as fly's sigs.k8s.io/yaml reads it (`yes` is true)
      value = parseYaml(rawValue, { version: '1.1' }) ?? null;
    } catch (err) {
      throw new Error(`invalid value for key '${rawKey}': ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    setPath(vars, path, value);
    pairs++;
    if (comma < 0) break;
    s = s.slice(comma + 1);
  }
  if (pairs === 0) throw new Error('instance vars should be formatted as <key1:value1>(,<key2:value2>)');
  return vars;
}

function refOf(name: string, vars: string | undefined, flag: string, format: string): PipelineRef {
  if (name === '') throw usageError(`error: ${flag}: argument format should be ${format}`);
  if (vars === undefined) return { name };
  try {
    return { name, instanceVars: parseInstanceVars(vars) };
  } catch (err) {
    throw usageError(`error: ${flag}: ${(err as Error).message}`);
  }
}

/** `-p name` or `-p name/key:value,...`; a bad value is a usage error naming the flag. */
export function parsePipelineFlag(value: string | undefined, flag = '-p, --pipeline'): PipelineRef {
  if (value === undefined || value === '') throw usageError(`error: required option ${flag} <name> not specified`);
  const slash = value.indexOf('/');
  return refOf(slash < 0 ? value : value.slice(0, slash), slash < 0 ? undefined : value.slice(slash + 1), flag, '<pipeline>[/<key:value>]');
}

/** `-j pipeline/job` or `-j pipeline/key:value,.../job` (also `-r pipeline/resource`). */
export function parseJobFlag(value: string | undefined, flag: string, what: string): [PipelineRef, string] {
  const format = `<pipeline>/<${what}>`;
  if (value === undefined || value === '') throw usageError(`error: required option ${flag} ${format} not specified`);
  const last = value.lastIndexOf('/');
  const name = value.slice(last + 1);
  if (last < 0 || name === '') throw usageError(`error: ${flag}: argument format should be ${format} (got '${value}')`);
  const head = value.slice(0, last);
  const slash = head.indexOf('/');
  return [refOf(slash < 0 ? head : head.slice(0, slash), slash < 0 ? undefined : head.slice(slash + 1), flag, format), name];
}

/**
 * `name/key:value,...`, as fly shows a pipeline (atc.PipelineRef.String and InstanceVars.String in
 * atc/pipeline.go): the vars flattened to dotted paths sorted by path, each value as JSON, a string
 * unquoted unless it would not read back as that string (YAML of another type, or one of `,: /`).
 */
export function refString(ref: PipelineRef): string {
  if (!ref.instanceVars) return ref.name;
  const flat: [string, unknown][] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k, inner] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${quoteSegment(k)}` : quoteSegment(k), inner);
    } else flat.push([prefix, v]);
  };
  walk('', ref.instanceVars);
  flat.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = flat.map(([path, v]) => {
    const json = goJson(v);
    return `${path}:${needsQuotes(v) ? json : json.replace(/^"|"$/g, '')}`;
  });
  return `${ref.name}/${shown.join(',')}`;
}

const quoteSegment = (seg: string): string => (/[,.:/ ]/.test(seg) ? JSON.stringify(seg) : seg);

/** Whether a var's value keeps its JSON quotes: only strings lose them, when they read back as themselves. */
function needsQuotes(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  let read: unknown;
  try {
    // YAML 1.1, as Go's sigs.k8s.io/yaml reads it: yes/no/on/off are booleans
    read = parseYaml(v, { version: '1.1' });
  } catch {
    return true;
  }
  // a timestamp reads back as its text in Go (decoded into an interface, not a time.Time)
  if (typeof read !== 'string' && !(read instanceof Date)) return true;
  return /[,: /]/.test(v);
}

/** JSON as Go's encoding/json writes it: object keys sorted, <, >, & and U+2028/9 escaped. */
function goJson(v: unknown): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (typeof x === 'object' && x !== null) {
      const entries = Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([k, inner]) => [k, sorted(inner)]));
    }
    return x;
  };
  return (JSON.stringify(sorted(v)) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `?vars=<json>` (or `&vars=` after an existing query) for an instanced pipeline, else ''. */
export function varsQuery(ref: PipelineRef, after: string): string {
  if (!ref.instanceVars) return '';
  return `${after.includes('?') ? '&' : '?'}vars=${encodeURIComponent(JSON.stringify(ref.instanceVars))}`;
}

/**
 * `set-pipeline -i NAME=YAML` flags → the instance vars, as fly's YAMLVariablePairFlag and
 * KVPairs.Expand make them (fly/commands/set_pipeline.go): a dotted name is a path into nested
 * objects (`a.b=1` → {a: {b: 1}}), a later flag wins. Throws a usage error naming the flag.
 */
export function instanceVarsFromFlags(flags: readonly string[]): Record<string, unknown> | undefined {
  if (flags.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? '' : flag.slice(0, eq);
    if (eq < 0 || name === '') throw usageError(`error: -i, --instance-var '${flag}': expected NAME=VALUE`);
    const path = name.split('.');
    if (path.some((seg) => seg === '')) throw usageError(`error: -i, --instance-var '${flag}': '${name}' has an empty field`);
    let value: unknown;
    try {
      value = parseYaml(flag.slice(eq + 1));
    } catch (err) {
      throw usageError(`error: -i, --instance-var '${flag}': the value is not YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    let node = out;
    for (const seg of path.slice(0, -1)) {
      const next = node[seg];
      node = (node[seg] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
    }
    node[path.at(-1) as string] = value ?? null;
  }
  return out;
}
