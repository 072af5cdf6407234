// ANSI escape codes in build logs: colours and bold become CSS classes (the build page renders
// them, as Concourse does); every other escape sequence is dropped. Logs arrive in chunks that
// can split an escape sequence or a "\r\n", so the parser carries both across chunks. Pure.

export interface AnsiSegment {
  text: string;
  /** space-separated CSS classes (ansi-bold, ansi-fg-N, ansi-bg-N, ...), '' for plain text */
  classes: string;
}

interface Style {
  fg?: number;
  bg?: number;
  bold?: boolean;
  faint?: boolean;
  italic?: boolean;
  underline?: boolean;
}

const ESC = '\x1b';

function classesOf(s: Style): string {
  const out: string[] = [];
  if (s.bold) out.push('ansi-bold');
  if (s.faint) out.push('ansi-faint');
  if (s.italic) out.push('ansi-italic');
  if (s.underline) out.push('ansi-underline');
  if (s.fg !== undefined) out.push(`ansi-fg-${s.fg}`);
  if (s.bg !== undefined) out.push(`ansi-bg-${s.bg}`);
  return out.join(' ');
}

/** Applies one SGR sequence's parameters ("1;31", "38;5;208", "") to a style. */
function applySgr(style: Style, params: string): Style {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let s = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) s = {};
    else if (c === 1) s.bold = true;
    else if (c === 2) s.faint = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) s.bold = s.faint = undefined;
    else if (c === 23) s.italic = undefined;
    else if (c === 24) s.underline = undefined;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c === 39) s.fg = undefined;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c === 49) s.bg = undefined;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 38 || c === 48) {
      // 256 colours (5;n) keep the 16 basic ones; true colour (2;r;g;b) is not rendered
      const mode = codes[i + 1];
      if (mode === 5) {
        const n = codes[i + 2];
        if (n !== undefined && n < 16) {
          if (c === 38) s.fg = n;
          else s.bg = n;
        }
        i += 2;
      } else if (mode === 2) {
        i += 4;
      }
    }
  }
  return s;
}

/** Where the escape sequence starting at text[i] (an ESC) ends: the index after it, or -1 if the text ends first. */
function escapeEnd(text: string, i: number): number {
  const kind = text[i + 1];
  if (kind === undefined) return -1;
  if (kind === '[') {
    for (let j = i + 2; j < text.length; j++) {
      const code = text.charCodeAt(j);
      if (code >= 0x40 && code <= 0x7e) return j + 1;
    }
    return -1;
  }
  if (kind === ']') {
    // operating system command: ends with BEL or ESC \
    for (let j = i + 2; j < text.length; j++) {
      if (text[j] === '\x07') return j + 1;
      if (text[j] === ESC && text[j + 1] === '\\') return j + 2;
    }
    return -1;
  }
  return i + 2;
}

/** Turns log chunks into styled segments; one parser per log stream (per step). */
export class AnsiParser {
  private style: Style = {};
  private pending = '';

  /** The segments of a chunk; an incomplete escape sequence (or a final "\r") waits for the next chunk. */
  push(chunk: string): AnsiSegment[] {
    const text = this.pending + chunk;
    this.pending = '';
    const out: AnsiSegment[] = [];
    let plain = '';
    const flush = (): void => {
      if (plain === '') return;
      const classes = classesOf(this.style);
      const last = out.at(-1);
      if (last && last.classes === classes) last.text += plain;
      else out.push({ text: plain, classes });
      plain = '';
    };
    for (let i = 0; i < text.length; ) {
      const ch = text[i]!;
      if (ch === ESC) {
        const end = escapeEnd(text, i);
        if (end < 0) {
          this.pending = text.slice(i);
          break;
        }
        const seq = text.slice(i, end);
        if (seq.startsWith('\x1b[') && seq.endsWith('m')) {
          flush();
          this.style = applySgr(this.style, seq.slice(2, -1));
        }
        i = end;
        continue;
      }
      if (ch === '\r') {
        if (i + 1 === text.length) {
          this.pending = '\r';
          break;
        }
        // "\r\n" is a line end; a lone "\r" (progress output) starts a new line here
        plain += '\n';
        i += text[i + 1] === '\n' ? 2 : 1;
        continue;
      }
      const code = text.charCodeAt(i);
      if (code < 0x20 && ch !== '\n' && ch !== '\t') {
        i++; // other control characters (bell, backspace, ...) are not text
        continue;
      }
      plain += ch;
      i++;
    }
    flush();
    return out;
  }
}

/** The text without any escape sequence or control character but newlines and tabs. */
export function stripAnsi(text: string): string {
  const p = new AnsiParser();
  return p
    .push(text)
    .map((s) => s.text)
    .join('');
}
