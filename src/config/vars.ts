// `((var))` interpolation at set time (docs/concourse-semantics.md §1.7), done on the YAML document's nodes
// rather than on the text so that every node keeps its line and column.
import { isScalar, parse as parseYamlValue, visit, isSeq, isPair, type Node, type Document } from 'yaml';
import { VAR_PATTERN, isVarRef, parseVarName } from './var-syntax.ts';
import type { ConfigPath } from './steps.ts';
import type { Finding } from './diagnostic.ts';
import { positionOf, type SourceDocument } from './yaml-source.ts';

export type Vars = Record<string, unknown>;

const MISSING = Symbol('missing');

/**
 * Looks a var up in static (set-time) vars. Named var sources and local vars (`((.:x))`)
 * are never known at set time.
 */
export function lookupVar(vars: Vars, body: string): unknown {
  const name = parseVarName(body);
  if (name.source !== undefined) return MISSING;
  // `-v a.b=c` may have stored the dotted name as one key
  const dotted = [name.path, ...name.fields].join('.');
  if (name.fields.length > 0 && Object.hasOwn(vars, dotted)) return vars[dotted];
  if (!Object.hasOwn(vars, name.path)) return MISSING;
  let cur: unknown = vars[name.path];
  for (const field of name.fields) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, field)) return MISSING;
    cur = (cur as Record<string, unknown>)[field];
  }
  return cur;
}

export type InterpolateResult = { findings: Finding[]; unresolved: string[] };

/** The config path of a node from visit()'s ancestor list. */
function pathOf(ancestors: readonly unknown[], node: unknown): ConfigPath {
  const path: ConfigPath = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const a = chain[i];
    const next = chain[i + 1];
    if (isSeq(a)) path.push(a.items.indexOf(next as never));
    else if (isPair(a) && a.value === next && isScalar(a.key)) path.push(String(a.key.value));
  }
  return path;
}

/**
 * Replaces known vars in the document, in place. A whole-value var keeps the var's type;
 * inside a larger string only strings and numbers can be substituted. Unknown vars stay as
 * written (or, with `strict`, each is an error at its position).
 */
export function interpolateDocument(src: SourceDocument, vars: Vars, strict = false): InterpolateResult {
  const findings: Finding[] = [];
  const unresolved: string[] = [];
  const doc: Document = src.doc;
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('((')) return undefined;
      const text = node.value;
      const at = pathOf(ancestors, node);
      const pos = node.range ? positionOf(src, node.range[0]) : undefined;
      const report = (message: string): void => {
        findings.push({ severity: 'error', message, at, ...(pos ? { line: pos.line, column: pos.column } : {}) });
      };
      const missing = (body: string): void => {
        if (!unresolved.includes(body)) unresolved.push(body);
        // local vars are only known while a build runs; they are never an error here
        if (strict && parseVarName(body).source !== '.') report(`undefined var ((${body}))`);
      };
      if (isVarRef(text)) {
        const body = text.slice(2, -2);
        const value = lookupVar(vars, body);
        if (value === MISSING) {
          missing(body);
          return undefined;
        }
        if (key === 'key') {
          // map keys are strings in JSON: only primitives make sense there
          if (typeof value === 'object' && value !== null) report(`invalid interpolation: ((${body})) is not a string`);
          else node.value = String(value);
          return undefined;
        }
        const replacement = doc.createNode(value) as Node;
        replacement.range = node.range;
        return replacement;
      }
      node.value = text.replace(VAR_PATTERN, (whole: string, body: string) => {
        const value = lookupVar(vars, body);
        if (value === MISSING) {
          missing(body);
          return whole;
        }
        if (typeof value === 'string' || typeof value === 'number') return String(value);
        const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : `a ${typeof value}`;
        report(`invalid interpolation: ((${body})) is ${kind}; only strings and numbers can be part of a string`);
        return whole;
      });
      return undefined;
    },
  });
  return { findings, unresolved };
}

/** `k=v` from `-v`: the value is a string. */
export function parseStringVar(flag: string): [string, string] | undefined {
  const eq = flag.indexOf('=');
  if (eq <= 0) return undefined;
  return [flag.slice(0, eq), flag.slice(eq + 1)];
}

/** `k=<yaml>` from `-y`: the value is typed YAML. */
export function parseYamlVar(flag: string): [string, unknown] | undefined {
  const kv = parseStringVar(flag);
  if (!kv) return undefined;
  try {
    return [kv[0], parseYamlValue(kv[1])];
  } catch {
    return undefined;
  }
}

export type VarFlags = {
  /** contents of `-l` files, in order: later files win */
  files?: Vars[];
  /** `-y k=yaml`, already parsed */
  yaml?: [string, unknown][];
  /** `-v k=v` */
  strings?: [string, string][];
};

/** Merges var flags as fly does: `-l` files in order, then `-y` and `-v` win over them. */
export function mergeVars(flags: VarFlags): Vars {
  const out: Vars = {};
  for (const file of flags.files ?? []) Object.assign(out, file);
  for (const [k, v] of flags.yaml ?? []) out[k] = v;
  for (const [k, v] of flags.strings ?? []) out[k] = v;
  return out;
}

