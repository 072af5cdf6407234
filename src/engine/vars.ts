// Run-time ((var)) evaluation (concourse-core §1.7): each step evaluates its source, params and
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

/** Where non-local vars come from; `undefined` means not found. */
export interface VarLookup {
  lookup(name: VarName): unknown;
}

function walkFields(value: unknown, fields: string[]): unknown {
  let cur = value;
  for (const field of fields) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, field)) return undefined;
    cur = (cur as Record<string, unknown>)[field];
  }
  return cur;
}

/**
 * The pipeline's var_sources. Jetway supports `dummy` (a static `vars` map in its config), the
 * type pipelines use for tests and for values that are not secret stores.
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

  lookup(name: VarName): unknown {
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
}

export interface Interpolator {
  /** Evaluates every ((var)) in a JSON value; throws MissingVarsError listing what is missing. */
  evaluate<T>(value: T, state: RunState): T;
}

export function createInterpolator(lookup: VarLookup, redactor: Redactor): Interpolator {
  const resolve = (body: string, state: RunState, missing: Set<string>): unknown => {
    const name = parseVarName(body);
    if (name.source === '.') {
      if (!state.hasLocalVar(name.path)) {
        missing.add(body);
        return undefined;
      }
      return walkFields(state.localVar(name.path), name.fields);
    }
    const value = lookup.lookup(name);
    if (value === undefined) missing.add(body);
    else redactor.add(value);
    return value;
  };

  const visit = (value: unknown, state: RunState, missing: Set<string>): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('((')) return value;
      if (isVarRef(value)) return resolve(value.slice(2, -2), state, missing);
      return value.replace(VAR_PATTERN, (whole, body: string) => {
        const v = resolve(body, state, missing);
        if (v === undefined) return whole;
        if (typeof v === 'string' || typeof v === 'number') return String(v);
        throw new Error(`invalid interpolation: ((${body})) is not a string or number and sits inside a larger string`);
      });
    }
    if (Array.isArray(value)) return value.map((v) => visit(v, state, missing));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = visit(v, state, missing);
      return out;
    }
    return value;
  };

  return {
    evaluate<T>(value: T, state: RunState): T {
      const missing = new Set<string>();
      const result = visit(value, state, missing) as T;
      if (missing.size > 0) throw new MissingVarsError([...missing]);
      return result;
    },
  };
}
