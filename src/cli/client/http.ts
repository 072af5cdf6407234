// The CLI's HTTP client for the Jetway API: bearer token, JSON in and out, readable errors
// (the server's message and the status; a server that cannot be reached is named by URL), and
// a reader for the build event stream.
import { Readable } from 'node:stream';
import { SseParser } from '../../api/sse-parser.ts';
import type { EventEnvelope } from '../../api/wire.ts';
import { CliExit } from '../io.ts';
import type { Target } from './targets.ts';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: string | Record<string, unknown>;
  contentType?: string;
  headers?: Record<string, string>;
  /** Statuses that are not errors (default: 2xx). */
  accept?: (status: number) => boolean;
  /** Ends the request (a timeout, for calls that must not hang the command). */
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T>(): T;
}

/** An answer as it came: any status, the body as bytes (`jetway curl`). */
export interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

/** `{"error": m}` → m; `{"errors": [a, b]}` → "a\nb"; otherwise the text. */
export function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; errors?: unknown };
    if (Array.isArray(body.errors)) return body.errors.map(String).join('\n');
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON
  }
  return text.trim() || '(no message)';
}

function connectionError(url: string, err: unknown): CliExit {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new CliExit(1, `error: could not reach the Jetway server at ${url}: ${reason}`);
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
    /** The target's name, for hints in messages. */
    readonly targetName?: string,
  ) {}

  static forTarget(name: string, target: Target): ApiClient {
    return new ApiClient(target.api, target.token?.value, name);
  }

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const url = this.url(path);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    const text = await res.text();
    const accept = opts.accept ?? ((s: number) => s >= 200 && s < 300);
    if (!accept(res.status)) {
      let message = serverMessage(text);
      if (res.status === 401 && this.targetName) message += `\n(log in again: jetway login -t ${this.targetName})`;
      throw new ApiRequestError(res.status, message);
    }
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  }

  private authHeaders(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
  }

  private async failure(res: Response): Promise<ApiRequestError> {
    let message = serverMessage(await res.text());
    if (res.status === 401 && this.targetName) message += `\n(log in again: jetway login -t ${this.targetName})`;
    return new ApiRequestError(res.status, message);
  }

  /**
   * Sends one request with exactly these headers (plus the token) and body, and returns the
   * answer whatever its status: for `jetway curl`, which shows what the server said.
   */
  async raw(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
    let res: Response;
    try {
      res = await fetch(this.url(path), { method, headers: this.authHeaders(headers), ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  /** POSTs a stream (an artifact tarball) as the body; the answer is JSON. */
  async upload(path: string, body: Readable, contentType: string): Promise<ApiResponse> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method: 'POST',
        headers: this.authHeaders({ accept: 'application/json', 'content-type': contentType }),
        body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit);
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    if (!res.ok) throw await this.failure(res);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
  }

  /** GETs a binary body (an artifact tarball) as a stream. */
  async download(path: string): Promise<Readable> {
    let res: Response;
    try {
      res = await fetch(this.url(path), { headers: this.authHeaders({ accept: 'application/octet-stream' }) });
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    if (!res.ok || !res.body) throw await this.failure(res);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request('GET', path)).json<T>();
  }

  /**
   * Reads a build's event stream: calls onEvent for each `event: event` message (its id and
   * parsed envelope; one at a time, each after the previous one's promise settled) until
   * onEvent returns true, `event: end` arrives, or the stream ends.
   */
  async streamEvents(
    buildId: number,
    onEvent: (id: number, envelope: EventEnvelope) => boolean | void | Promise<boolean | void>,
  ): Promise<void> {
    const url = this.url(`/api/v1/builds/${buildId}/events`);
    const controller = new AbortController();
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'text/event-stream', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        signal: controller.signal,
      });
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    if (!res.ok || !res.body) throw new ApiRequestError(res.status, serverMessage(await res.text()));
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          if (message.event === 'end') return;
          if (message.event === 'event' && message.data !== '') {
            const envelope = JSON.parse(message.data) as EventEnvelope;
            if ((await onEvent(Number(message.id ?? -1), envelope)) === true) return;
          }
        }
      }
    } finally {
      controller.abort();
    }
  }
}
