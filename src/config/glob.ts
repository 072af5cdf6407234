// Go's path.Match, used by Concourse v8 to expand `passed:` and group job globs.
// Supports `*`, `?`, `[...]` classes (with `^`/`!` negation, ranges and `\` escapes).
// `*` and `?` never match `/`.

/** Whether the glob is syntactically valid (path.Match returns ErrBadPattern otherwise). */
export function isValidGlob(pattern: string): boolean {
  return compile(pattern) !== undefined;
}

export function globMatch(pattern: string, name: string): boolean {
  return compile(pattern)?.test(name) ?? false;
}

/** Names matching the glob, in the given order. */
export function expandGlob(pattern: string, names: readonly string[]): string[] {
  const re = compile(pattern);
  return re ? names.filter((n) => re.test(n)) : [];
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
