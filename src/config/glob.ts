// Go's path.Match, used by Concourse v8 to expand `passed:` and group job globs.
// Supports `*`, `?`, `[...]` classes (with `^`/`!` negation, ranges and `\` escapes).
// `*` and `?` never match `/`.

//
// Matching follows Go's algorithm (chunks between stars, each star extended only until its
// chunk first matches), not a backtracking regular expression: a pattern with many stars
// against a long name stays linear-ish instead of exploding (a pipeline's `passed` globs are
// user input). The regular expression below only decides whether a pattern is valid.

/** Whether the glob is syntactically valid (path.Match returns ErrBadPattern otherwise). */
export function isValidGlob(pattern: string): boolean {
  return compiled(pattern) !== undefined;
}

export function globMatch(pattern: string, name: string): boolean {
  return compiled(pattern) !== undefined && goMatch([...pattern], [...name]);
}

// Expansions by list of names, then pattern: validating a config expands the same few globs
// over the same job list once per job that uses them (n jobs × n names otherwise). The list is
// the key (a WeakMap), so a changed list of names is a new entry; callers must not mutate a list
// after expanding over it.
const expansions = new WeakMap<readonly string[], Map<string, readonly string[]>>();

/** Names matching the glob, in the given order (a shared array: do not modify it). */
export function expandGlob(pattern: string, names: readonly string[]): string[] {
  let byPattern = expansions.get(names);
  const known = byPattern?.get(pattern);
  if (known) return known as string[];
  let out: string[];
  if (compiled(pattern) === undefined) out = [];
  else if (!hasGlobMeta(pattern)) out = names.filter((n) => n === pattern);
  else {
    const p = [...pattern];
    out = names.filter((n) => goMatch(p, [...n]));
  }
  if (!byPattern) expansions.set(names, (byPattern = new Map()));
  if (byPattern.size < MAX_CACHED) byPattern.set(pattern, out);
  return out;
}

// Validity per pattern, computed once: a config repeats the same few globs many times.
const validity = new Map<string, RegExp | undefined>();
const MAX_CACHED = 10_000;

function compiled(pattern: string): RegExp | undefined {
  if (validity.has(pattern)) return validity.get(pattern);
  const re = compile(pattern);
  if (validity.size >= MAX_CACHED) validity.clear();
  validity.set(pattern, re);
  return re;
}

/** Go's path.Match on code points, for a pattern known to be valid. */
function goMatch(pattern: string[], name: string[]): boolean {
  let p = 0;
  let n = 0;
  outer: while (p < pattern.length) {
    let star = false;
    while (pattern[p] === '*') {
      star = true;
      p++;
    }
    const chunkStart = p;
    p = chunkEnd(pattern, p);
    const chunk = pattern.slice(chunkStart, p);
    const last = p >= pattern.length;
    if (star && chunk.length === 0) {
      // a trailing star matches the rest unless it holds a separator
      return !name.slice(n).includes('/');
    }
    const here = matchChunk(chunk, name, n);
    if (here !== undefined && (here === name.length || !last)) {
      n = here;
      continue;
    }
    if (star) {
      // extend the star (never over a separator) until the chunk matches
      for (let i = n; i < name.length && name[i] !== '/'; i++) {
        const t = matchChunk(chunk, name, i + 1);
        if (t === undefined || (last && t < name.length)) continue;
        n = t;
        continue outer;
      }
    }
    return false;
  }
  return n === name.length;
}

/** The end of the chunk starting at `i`: the next star outside a class. */
function chunkEnd(pattern: string[], i: number): number {
  let inClass = false;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '*' && !inClass) break;
  }
  return i;
}

/** Matches a chunk (no stars) at `n`: the index after it, or undefined. */
function matchChunk(chunk: string[], name: string[], n: number): number | undefined {
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i]!;
    const ch = name[n];
    if (ch === undefined) return undefined;
    if (c === '[') {
      i++;
      let negated = false;
      if (chunk[i] === '^' || chunk[i] === '!') {
        negated = true;
        i++;
      }
      let matched = false;
      let first = true;
      while (i < chunk.length && (chunk[i] !== ']' || first)) {
        first = false;
        let lo = chunk[i]!;
        if (lo === '\\') lo = chunk[++i]!;
        i++;
        let hi = lo;
        if (chunk[i] === '-' && chunk[i + 1] !== undefined && chunk[i + 1] !== ']') {
          hi = chunk[i + 1]!;
          i += 2;
          if (hi === '\\') hi = chunk[i++]!;
        }
        if (lo <= ch && ch <= hi) matched = true;
      }
      i++; // the closing ]
      // a negated class never matches the separator (as the validity expression below says)
      if (matched === negated || (negated && ch === '/')) return undefined;
      n++;
    } else if (c === '?') {
      if (ch === '/') return undefined;
      i++;
      n++;
    } else {
      const lit = c === '\\' ? chunk[++i]! : c;
      if (lit !== ch) return undefined;
      i++;
      n++;
    }
  }
  return n;
}

export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

function compile(pattern: string): RegExp | undefined {
  let re = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) return undefined;
      re += escapeRe(next);
    } else if (c === '[') {
      let cls = '';
      i++;
      if (chars[i] === '^' || chars[i] === '!') {
        cls += '^';
        i++;
      }
      let first = true;
      for (;;) {
        const d = chars[i];
        if (d === undefined) return undefined;
        if (d === ']' && !first) break;
        first = false;
        let lo = d;
        if (d === '\\') {
          const e = chars[++i];
          if (e === undefined) return undefined;
          lo = e;
        }
        if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
          let hi = chars[i + 2] as string;
          i += 2;
          if (hi === '\\') {
            const e = chars[++i];
            if (e === undefined) return undefined;
            hi = e;
          }
          if (hi < lo) return undefined;
          cls += `${escapeClass(lo)}-${escapeClass(hi)}`;
        } else cls += escapeClass(lo);
        i++;
      }
      // A negated class still never matches the separator.
      re += cls.startsWith('^') ? `[${cls}/]` : `[${cls}]`;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, 'u');
  } catch {
    return undefined;
  }
}
