// Run-time ((var)) evaluation (docs/concourse-semantics.md §1.7): each step evaluates its source, params and
// task config against the build's variables: local vars (`((.:x))` from load_var, across and
// get metadata), then the pipeline's var_sources (`((src:path))`), then the cluster's credential
// manager. A missing var fails the step. Values that came from a var source or the credential
// manager are secrets: the Redactor hides them from logs and events.
import { StringDecoder } from 'node:string_decoder';
import { VAR_PATTERN, isVarRef, parseVarName, type VarName } from '../config/var-syntax.ts';
import type { VarSource } from '../config/schema.ts';
import type { RunState } from './run-state.ts';
import { parseIdTokenConfig, type IdTokenConfig } from '../config/idtoken-config.ts';

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
  /** `idtoken` sources: their checked config, or why it is not valid */
  private readonly idTokenSources = new Map<string, ReturnType<typeof parseIdTokenConfig>>();

  constructor(
    sources: readonly VarSource[],
    private readonly fallback?: VarLookup,
    /** what the idtoken var source signs with and for (src/creds/idtoken; absent: it is not available) */
    private readonly idTokens?: IdTokenContext,
  ) {
    this.sources = new Map();
    for (const source of sources) {
      if (source.type === 'idtoken') this.idTokenSources.set(source.name ?? '', parseIdTokenConfig(source.config as Record<string, unknown> | undefined));
      if (source.type !== 'dummy') continue;
      const config = source.config as { vars?: Record<string, unknown> } | undefined;
      this.sources.set(source.name ?? '', config?.vars ?? {});
    }
  }

  async lookup(name: VarName): Promise<unknown> {
    if (name.source === undefined) return this.fallback?.lookup(name);
    const idToken = this.idTokenSources.get(name.source);
    if (idToken) return this.idToken(name, idToken);
    const vars = this.sources.get(name.source);
    if (!vars || !Object.hasOwn(vars, name.path)) return undefined;
    return walkFields(vars[name.path], name.fields);
  }

  /** `((source:token))`: a JWT signed now for the build (Concourse's idtoken secrets: only `token`). */
  private async idToken(name: VarName, parsed: ReturnType<typeof parseIdTokenConfig>): Promise<unknown> {
    if (!parsed.ok) throw new Error(`var source ${name.source ?? ''}: invalid idtoken config: ${parsed.error}`);
    if (name.path !== 'token') return undefined;
    if (!this.idTokens) throw new Error(`var source ${name.source ?? ''}: idtoken is not available on this web node`);
    return this.idTokens.issuer.token(parsed.config, this.idTokens.context);
  }
}

/** Whose vars a build may read: its team's, and its pipeline's first (one-off builds have none). */
export interface CredentialScope {
  team: string;
  pipeline?: string;
}

/**
 * The cluster's credential manager (src/creds: docs/concourse-semantics.md §1.7), a port the
 * engine owns: where `((name))` comes from when it names no var source, scoped to the build's team
 * and pipeline. One lookup per build, which caches what it read.
 */
export interface CredentialManager {
  /** what it is, for logs (`kubernetes`) */
  readonly name: string;
  /**
   * The lookup of one build. Values it finds are secrets (the engine redacts them); not found is
   * `undefined`; a store that refuses or fails rejects with a message that names what was asked,
   * never a value. An aborted build (signal) stops waiting for the store.
   */
  forBuild(scope: CredentialScope, signal?: AbortSignal): VarLookup;
}

/**
 * The port the idtoken var source signs through (src/creds/idtoken's IdTokenIssuer: the web
 * node's keys and external URL), so the engine holds no keys of its own.
 */
export interface IdTokenSigner {
  token(config: IdTokenConfig, build: IdTokenBuild): Promise<string>;
}

/** Whom a token is for: the build's team, pipeline (with its instance vars) and job. */
export interface IdTokenBuild {
  team: string;
  pipeline: string;
  job: string;
  instanceVars?: Record<string, unknown>;
}

/** What a build's idtoken var sources sign with and for. */
export interface IdTokenContext {
  issuer: IdTokenSigner;
  context: IdTokenBuild;
}

const REDACTED = '((redacted))';

/** Collects secret values and replaces them with `((redacted))` in text. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] | undefined;

  add(value: unknown): void {
    if (typeof value === 'string') {
      // Tiny values would redact ordinary words; Concourse skips them too.
      if (value.length >= 3 && !this.secrets.has(value)) {
        this.secrets.add(value);
        this.sorted = undefined;
      }
    } else if (typeof value === 'number') {
      this.add(String(value));
    } else if (Array.isArray(value)) {
      for (const v of value) this.add(v);
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) this.add(v);
    }
  }

  /** The secrets known now, longest first. */
  known(): readonly string[] {
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
    return this.sorted;
  }

  /**
   * Every stretch of text covered by one or more secrets (overlapping or touching ones
   * together) becomes one `((redacted))`, so no part of any secret shows.
   */
  redact(text: string): string {
    return applyRuns(text, secretRuns(text, this.known(), 0), 0, text.length, false);
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

/**
 * Redaction of one output stream (a process's stdout or stderr) written in chunks of any size,
 * split anywhere, even inside a UTF-8 character: the output is what redacting the whole stream at
 * once would give (issue 16, finding 6; docs/security.md "Builds"). It holds back at most the
 * longest secret's length minus one character at a chunk's end, only while that tail could begin
 * a secret, and `end()` gives what is left.
 */
export class StreamRedactor {
  private readonly decoder = new StringDecoder('utf8');
  /** text received, not emitted yet: it may be the start of a secret */
  private pending = '';
  /** how many leading characters of `pending` belong to a secret that began before them */
  private pendingCovered = 0;
  /** the emitted text ends inside a redacted stretch (the next covered text continues it) */
  private endsRedacted = false;

  constructor(private readonly redactor: Redactor) {}

  /** What may be shown now of the stream after this chunk ('' while it is all held back). */
  write(chunk: Buffer | string): string {
    const text = typeof chunk === 'string' ? this.decoder.write(Buffer.from(chunk, 'utf8')) : this.decoder.write(chunk);
    return this.emit(this.pending + text, false);
  }

  /** The rest, at the end of the stream. */
  end(): string {
    return this.emit(this.pending + this.decoder.end(), true);
  }

  private emit(text: string, final: boolean): string {
    const secrets = this.redactor.known();
    const runs = secretRuns(text, secrets, this.pendingCovered);
    let cut = final ? text.length : holdPoint(text, secrets);
    // never split a surrogate pair between two log events
    if (cut > 0 && cut < text.length && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
    const out = applyRuns(text, runs, 0, cut, this.endsRedacted);
    if (cut > 0) this.endsRedacted = runs.some(([a, b]) => a < cut && b >= cut);
    this.pending = text.slice(cut);
    // what of the held text is known to be secret (also when nothing was shown: cut at 0)
    const crossing = runs.find(([a, b]) => a <= cut && b > cut);
    this.pendingCovered = crossing ? crossing[1] - cut : 0;
    return out;
  }
}

/**
 * The stretches [start, end) of text inside an occurrence of a secret, merged where they overlap
 * or touch, in order; `covered` leading characters are known to be inside one already.
 */
function secretRuns(text: string, secrets: readonly string[], covered: number): [number, number][] {
  const runs: [number, number][] = covered > 0 ? [[0, covered]] : [];
  for (const secret of secrets) {
    let last: [number, number] | undefined;
    for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
      // overlapping occurrences of one secret ("aaa" in "aaaa") extend the same stretch
      if (last && i <= last[1]) last[1] = i + secret.length;
      else runs.push((last = [i, i + secret.length]));
    }
  }
  if (runs.length < 2) return runs;
  runs.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [runs[0]!];
  for (const run of runs.slice(1)) {
    const top = merged[merged.length - 1]!;
    if (run[0] <= top[1]) top[1] = Math.max(top[1], run[1]);
    else merged.push(run);
  }
  return merged;
}

/**
 * text[from, cut) with its runs redacted; a run at `from` that continues a redaction already
 * shown gets no second marker.
 */
function applyRuns(text: string, runs: readonly [number, number][], from: number, cut: number, continues: boolean): string {
  let out = '';
  let pos = from;
  for (const [a, b] of runs) {
    if (a >= cut) break;
    out += text.slice(pos, a);
    if (!(a === from && continues)) out += REDACTED;
    pos = Math.min(b, cut);
    if (b >= cut) break;
  }
  if (pos < cut) out += text.slice(pos, cut);
  return out;
}

/** Where text stops being safe to show: the earliest tail that is a proper prefix of a secret. */
function holdPoint(text: string, secrets: readonly string[]): number {
  const longest = secrets[0]?.length ?? 0;
  const firsts = new Set(secrets.map((s) => s.charCodeAt(0)));
  for (let p = Math.max(0, text.length - (longest - 1)); p < text.length; p++) {
    if (!firsts.has(text.charCodeAt(p))) continue;
    const tail = text.slice(p);
    if (secrets.some((s) => s.length > tail.length && s.startsWith(tail))) return p;
  }
  return text.length;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
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
