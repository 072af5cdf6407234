// The build event stream's Server-Sent Events, read from a fetch body by both of the API's
// clients: the jetway command (src/cli/client/http.ts) and the web UI (src/ui/app/api.ts; the
// stream needs the Authorization header, which EventSource cannot send). Text in, messages out, as
// the SSE spec frames them: chunks may split lines and messages anywhere; lines end in LF, CRLF or
// CR; `:` lines are comments (keep-alives). Pure: no Node or DOM, so both bundles take it as is.

export interface SseMessage {
  /** the `event:` field ("message" when absent) */
  event: string;
  data: string;
  /** the `id:` field, when the message has one */
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  /** The messages a chunk of the stream completes. */
  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // a "\r" at the very end may be the first half of "\r\n": wait for more
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0 && this.event === '') return undefined;
      const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.id !== undefined) message.id = this.id;
      this.event = '';
      this.data = [];
      this.id = undefined;
      return message;
    }
    if (line.startsWith(':')) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
    return undefined;
  }
}
