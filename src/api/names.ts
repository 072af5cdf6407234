// Names that reach the API become paths (artifact and task directories, cache keys) and URLs
// (the links the API and the UI build). A name holding `/`, `\`, a `..` segment or a control
// character (NUL included, which Postgres refuses in text) could climb out of a directory or
// split a URL, so such names are refused wherever they are given; every other character is kept
// as Concourse keeps it (identifier rules are only warnings there).

/** Longest name accepted (Concourse keeps names in `text` columns; a bound keeps errors short). */
export const MAX_NAME_LENGTH = 1024;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** Why a name cannot be used as a path segment or URL segment, or undefined when it can. */
export function unsafeNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  const control = CONTROL.exec(name);
  if (control) return `must not contain control characters (found U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
  if (name.includes('/') || name.includes('\\')) return "must not contain '/' or '\\'";
  if (name === '.' || name === '..') return `must not be '${name}'`;
  return undefined;
}

/** Whether a string holds a NUL character, which Postgres refuses in text and jsonb. */
export const hasNul = (s: string): boolean => s.includes('\u0000');
