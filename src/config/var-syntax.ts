// The `((var))` syntax of Concourse's vars package (docs/concourse-semantics.md §1.7), shared by the schema (which must
// accept an unresolved var wherever a typed value is expected) and by interpolation.
const BODY = String.raw`(?:[-/.\w\p{L}]+:)?[-/.:@"\w\p{L}]+`;

/** Matches every `((var))` in a string (global; reset lastIndex or use matchAll). */
export const VAR_PATTERN = new RegExp(String.raw`\(\((${BODY})\)\)`, 'gu');
const WHOLE = new RegExp(String.raw`^\(\((${BODY})\)\)$`, 'u');

/** A value that is still an unresolved var, as written: `((name))`. */
export type VarRef = `((${string}))`;

export function isVarRef(value: unknown): value is VarRef {
  return typeof value === 'string' && WHOLE.test(value);
}

export function containsVar(value: string): boolean {
  VAR_PATTERN.lastIndex = 0;
  const found = VAR_PATTERN.test(value);
  VAR_PATTERN.lastIndex = 0;
  return found;
}

export type VarName = {
  /** the var source (`source:` prefix), '.' for local vars, undefined for the default */
  source?: string;
  /** the path, first segment, e.g. `foo` in `((foo.bar))` or `a.b` in `(("a.b".c))` */
  path: string;
  /** the remaining field segments */
  fields: string[];
};

/** Splits a var body (`src:path.field`, `"quoted.path".field`, `.:local`) into its parts. */
export function parseVarName(body: string): VarName {
  let source: string | undefined;
  let rest = body;
  // A source prefix never contains a quote; a colon inside quotes belongs to the path.
  const colon = rest.indexOf(':');
  const quote = rest.indexOf('"');
  if (colon > 0 && (quote === -1 || colon < quote)) {
    source = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const segments: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of rest) {
    if (c === '"') quoted = !quoted;
    else if (c === '.' && !quoted) {
      segments.push(cur);
      cur = '';
    } else cur += c;
  }
  segments.push(cur);
  const [path = '', ...fields] = segments;
  return source === undefined ? { path, fields } : { source, path, fields };
}
