// Run-time ((var)) evaluation (docs/concourse-semantics.md §1.7): each step evaluates its source, params and
// task config against the build's variables: local vars (`((.:x))` from load_var, across and
// get metadata), then the pipeline's var_sources (`((src:path))`), then the cluster's credential
// manager. A missing var fails the step. Values that came from a var source or the credential
// manager are secrets: the Redactor hides them from logs and events.
import { VAR_PATTERN, isVarRef, parseVarName, type VarName } from '../config/var-syntax.ts';
import type { VarSource } from '../config/schema.ts';
import type { RunState } from './run-state.ts';

export class MissingVarsError extends Error {
  constructor(readonly names: string[]) {
    super(`undefined vars: ${names.join(', ')}`);
  }
}

/**
 * Where non-local vars come from. Asynchronous: a credential manager asks an API. Resolves to
 * the var's value with its fields walked, `undefined` when it is not found; rejects when the
 * store cannot answer (the step then errors with that message).
 */
export interface VarLookup {
  lookup(name: VarName): Promise<unknown>;
}

/** Follows `((path.field.sub))`'s fields into a value; undefined when one is missing. */
export function walkFields(value: unknown, fields: readonly string[]): unknown {
  let cur = value;
  for (const field of fields) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, field)) return undefined;
    cur = (cur as Record<string, unknown>)[field];
  }
  return cur;
}

/**
 * The pipeline's var_sources. Jetway supports `dummy` (a static `vars` map in its config), the
 * type pipelines use for tests and for values that are not secret stores. A var without a source
 * (`((name))`) goes to the fallback: the cluster's credential manager, when there is one.
 */
export class VarSources implements VarLookup {
  private readonly sources: Map<string, Record<string, unknown>>;

  constructor(
    sources: readonly VarSource[],
    private readonly fallback?: VarLookup,
  ) {
    this.sources = new Map();
    for (const source of sources) {
      if (source.type !== 'dummy') continue;
      const config = source.config as { vars?: Record<string, unknown> } | undefined;
      this.sources.set(source.name ?? '', config?.vars ?? {});
    }
  }

  async lookup(name: VarName): Promise<unknown> {
    if (name.source === undefined) return this.fallback?.lookup(name);
    const vars = this.sources.get(name.source);
    if (!vars || !Object.hasOwn(vars, name.path)) return undefined;
    return walkFields(vars[name.path], name.fields);
  }
}

/** Collects secret values and replaces them with `((redacted))` in text. */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: unknown): void {
    if (typeof value === 'string') {
      // Tiny values would redact ordinary words; Concourse skips them too.
      if (value.length >= 3) this.secrets.add(value);
    } else if (typeof value === 'number') {
      this.add(String(value));
    } else if (Array.isArray(value)) {
      for (const v of value) this.add(v);
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) this.add(v);
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('((redacted))');
    }
    return out;
  }

  /** Every string in a JSON value redacted (a copy): for event payloads built from interpolated config. */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactValue(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }
}

export interface Interpolator {
  /**
   * Evaluates every ((var)) in a JSON value (a copy is returned; the value is not changed);
   * rejects with MissingVarsError listing what is missing, or with the error of a var store that
   * could not answer.
   */
  evaluate<T>(value: T, state: RunState): Promise<T>;
}

/** The bodies of the ((vars)) in a JSON value (`src:path.field`), in order of appearance, once each. */
export function varBodies(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    if (value.includes('((')) for (const m of value.matchAll(VAR_PATTERN)) into.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) varBodies(v, into);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) varBodies(v, into);
  }
  return into;
}

/**
 * Evaluation in three passes: collect the vars the value uses, resolve them (local vars from the
 * run state; the others through the lookup, all at once, awaited), then substitute
 * synchronously. A var missing everywhere is listed in MissingVarsError; a lookup that fails
 * fails the evaluation with its error (the first one, in order of appearance). Every value found
 * outside the local vars is a secret, handed to the redactor before anything can print it.
 */
export function createInterpolator(lookup: VarLookup, redactor: Redactor): Interpolator {
  /** body -> its value; absent: not found */
  type Resolved = Map<string, unknown>;

  const resolveAll = async (bodies: Set<string>, state: RunState): Promise<Resolved> => {
    const resolved: Resolved = new Map();
    const pending: { body: string; value: Promise<unknown> }[] = [];
    for (const body of bodies) {
      const name = parseVarName(body);
      if (name.source === '.') {
        if (state.hasLocalVar(name.path)) resolved.set(body, walkFields(state.localVar(name.path), name.fields));
      } else {
        pending.push({ body, value: lookup.lookup(name) });
      }
    }
    const settled = await Promise.allSettled(pending.map((p) => p.value));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    settled.forEach((s, i) => {
      const value = (s as PromiseFulfilledResult<unknown>).value;
      if (value === undefined) return;
      redactor.add(value);
      resolved.set(pending[i]!.body, value);
    });
    return resolved;
  };

  const substitute = (value: unknown, resolved: Resolved, missing: Set<string>): unknown => {
    const get = (body: string): unknown => {
      if (!resolved.has(body)) missing.add(body);
      return resolved.get(body);
    };
    if (typeof value === 'string') {
      if (!value.includes('((')) return value;
      if (isVarRef(value)) return get(value.slice(2, -2));
      return value.replace(VAR_PATTERN, (whole, body: string) => {
        const v = get(body);
        if (v === undefined) return whole;
        if (typeof v === 'string' || typeof v === 'number') return String(v);
        throw new Error(`invalid interpolation: ((${body})) is not a string or number and sits inside a larger string`);
      });
    }
    if (Array.isArray(value)) return value.map((v) => substitute(v, resolved, missing));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = substitute(v, resolved, missing);
      return out;
    }
    return value;
  };

  return {
    async evaluate<T>(value: T, state: RunState): Promise<T> {
      const resolved = await resolveAll(varBodies(value), state);
      const missing = new Set<string>();
      const result = substitute(value, resolved, missing) as T;
      if (missing.size > 0) throw new MissingVarsError([...missing]);
      return result;
    },
  };
}
