// A re-attachable process's output stream cut into the same chunks however it arrives (issue 17,
// docs/web-nodes.md "Re-attaching builds"): whole lines (with their '\n'), a line longer than
// MAX_CHUNK in pieces of MAX_CHUNK from its start, and at the end what is left. Each chunk comes
// with its byte offset in the stream, so a web node that reads the stream again from the start
// after a re-attach produces the same (offset, chunk) pairs, and the events keyed by them are
// saved once. Pure.

export const MAX_CHUNK = 64 * 1024;

export class LineChunks {
  private buf: Buffer = Buffer.alloc(0);
  /** the stream offset of buf[0] */
  private offset = 0;

  constructor(
    private readonly emit: (chunk: Buffer, offset: number) => void,
    private readonly max = MAX_CHUNK,
  ) {}

  push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    for (;;) {
      const nl = this.buf.indexOf(10);
      let cut: number;
      if (nl >= 0 && nl < this.max) cut = nl + 1;
      else if (this.buf.length >= this.max) cut = this.max;
      else break;
      this.take(cut);
    }
  }

  /** The stream ended: what is left, a last line without its '\n'. */
  end(): void {
    if (this.buf.length > 0) this.take(this.buf.length);
  }

  private take(n: number): void {
    const chunk = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    const at = this.offset;
    this.offset += n;
    this.emit(Buffer.from(chunk), at);
  }
}
