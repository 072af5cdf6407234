// Talking to the web node's API from the browser: the session (a bearer token kept in
// localStorage), JSON requests, and the build event stream read with fetch (EventSource cannot
// send the Authorization header). A 401 from any request ends the session and hands the
// server's reason to onUnauthorized, which sends the user back to the login page. URLs are
// relative to the page, so the UI also works behind a proxy that serves Jetway under a path.
import type { EventEnvelope, TokenResponse } from '../../api/wire.ts';
import { SseParser } from '../../api/sse-parser.ts';

const SESSION_KEY = 'jetway.session';

export interface Session {
  token: string;
  username: string;
  teams: string[];
  /** ISO time the token expires */
  expiry: string;
}

export function loadSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.username !== 'string' || !Array.isArray(s.teams) || typeof s.expiry !== 'string') return undefined;
    if (Date.parse(s.expiry) <= Date.now()) return undefined;
    return { token: s.token, username: s.username, teams: s.teams.map(String), expiry: s.expiry };
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session): void {
  localStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession(): void {
  localStorage.removeItem(SESSION_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error body: `{"error": …}` or `{"errors": […]}`. */
async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown; errors?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (Array.isArray(body.errors)) return body.errors.map(String).join('; ');
  } catch {
    // not JSON: the status says it
  }
  return `${res.status} ${res.statusText}`.trim();
}

/** Exchanges a user name and password for a session (the password goes nowhere else). */
export async function login(username: string, password: string): Promise<Session> {
  const res = await fetch('api/v1/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  const t = (await res.json()) as TokenResponse;
  return { token: t.access_token, username: t.username, teams: t.teams, expiry: t.expiry };
}

/**
 * Revokes a token (`DELETE /api/v1/token`), so a copy of it stops working before it expires.
 * Best effort: a failure is ignored (the caller forgets the token anyway, and it expires).
 */
export async function revokeToken(token: string): Promise<void> {
  try {
    // keepalive: the request outlives the page when logging out is the last thing the user does
    await fetch('api/v1/token', { method: 'DELETE', headers: { Authorization: `Bearer ${token}` }, keepalive: true });
  } catch {
    // offline, or the server is gone: nothing more to do
  }
}

export interface StreamHandlers {
  /** the events of one chunk of the stream, in order */
  onEvents(events: EventEnvelope[]): void;
}

export class Api {
  /**
   * Without a session the requests go without a token: public pipelines (expose-pipeline) can be
   * read so, and a 401 means that the page needs a login.
   */
  constructor(
    readonly session: Session | undefined,
    private readonly onUnauthorized: (reason: string) => void,
  ) {}

  get loggedIn(): boolean {
    return this.session !== undefined;
  }

  private authorization(): Record<string, string> {
    return this.session ? { Authorization: `Bearer ${this.session.token}` } : {};
  }

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { ...this.authorization(), Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    if (res.status === 401) {
      const reason = await errorMessage(res);
      this.onUnauthorized(reason);
      throw new ApiError(401, reason);
    }
    if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
    return res;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await (await this.request('GET', path, undefined, signal)).json()) as T;
  }

  /** A PUT/POST/DELETE; the JSON answer, if there is one. */
  async send<T = unknown>(method: 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T | undefined> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    return text === '' ? undefined : (JSON.parse(text) as T);
  }

  /**
   * Follows a build's events from after lastEventId until the stream's `end` (true) or until
   * it breaks or is aborted (false); the caller resumes from the last event it got.
   */
  async streamEvents(buildId: number, lastEventId: number, handlers: StreamHandlers, signal: AbortSignal): Promise<boolean> {
    const headers: Record<string, string> = { ...this.authorization(), Accept: 'text/event-stream' };
    if (lastEventId >= 0) headers['Last-Event-ID'] = String(lastEventId);
    const res = await fetch(`api/v1/builds/${buildId}/events`, { headers, signal });
    if (res.status === 401) {
      const reason = await errorMessage(res);
      this.onUnauthorized(reason);
      throw new ApiError(401, reason);
    }
    if (!res.ok || !res.body) throw new ApiError(res.status, await errorMessage(res));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return false;
        const events: EventEnvelope[] = [];
        let ended = false;
        for (const m of parser.push(value)) {
          if (m.event === 'end') ended = true;
          else if (m.event === 'event') events.push(JSON.parse(m.data) as EventEnvelope);
        }
        if (events.length > 0) handlers.onEvents(events);
        if (ended) return true;
      }
    } finally {
      // the server holds an ended stream open until the client goes: let it go
      await reader.cancel().catch(() => undefined);
    }
  }
}
