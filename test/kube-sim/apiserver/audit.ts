// The audit log: one JSON line per request in the shape of a Kubernetes audit event
// (audit.k8s.io/v1 Event, level Request, stage ResponseComplete), appended to a file, and kept in
// memory for tests ("how many `create pods` with label X were there?").
import { appendFileSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

export type AuditVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface AuditObjectRef {
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  apiVersion?: string;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Request';
  auditID: string;
  stage: 'ResponseComplete';
  requestURI: string;
  verb: string;
  user: { username: string; groups?: string[] };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus: { metadata: Record<string, never>; code: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** Audit timestamps have microsecond precision (metav1.MicroTime). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface AuditFilter {
  verb?: string;
  resource?: string;
  subresource?: string | null;
  namespace?: string;
  name?: string;
  username?: string;
  code?: number;
  /** Every label here must be on the request object (create/update/patch). */
  labels?: Record<string, string>;
}

function labelsOf(obj: unknown): Record<string, string> {
  if (obj === null || typeof obj !== 'object') return {};
  const meta = (obj as { metadata?: unknown }).metadata;
  if (meta === null || typeof meta !== 'object') return {};
  const labels = (meta as { labels?: unknown }).labels;
  return labels !== null && typeof labels === 'object' ? (labels as Record<string, string>) : {};
}

export function matchesAudit(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.verb !== undefined && event.verb !== filter.verb) return false;
  if (filter.resource !== undefined && event.objectRef?.resource !== filter.resource) return false;
  if (filter.subresource !== undefined && (event.objectRef?.subresource ?? null) !== filter.subresource) return false;
  if (filter.namespace !== undefined && event.objectRef?.namespace !== filter.namespace) return false;
  if (filter.name !== undefined && event.objectRef?.name !== filter.name) return false;
  if (filter.username !== undefined && event.user.username !== filter.username) return false;
  if (filter.code !== undefined && event.responseStatus.code !== filter.code) return false;
  if (filter.labels) {
    const labels = labelsOf(event.requestObject);
    for (const [k, v] of Object.entries(filter.labels)) if (labels[k] !== v) return false;
  }
  return true;
}

export class AuditLog {
  private readonly entries: AuditEvent[] = [];
  private readonly waiters = new Set<() => void>();

  /** `path`: the JSON-lines file to append to (none: memory only). */
  constructor(readonly path?: string) {}

  record(event: Omit<AuditEvent, 'kind' | 'apiVersion' | 'level' | 'stage' | 'auditID'> & { auditID?: string }): AuditEvent {
    const full: AuditEvent = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Request', stage: 'ResponseComplete', auditID: event.auditID ?? randomUUID(), ...event };
    this.entries.push(full);
    if (this.path) appendFileSync(this.path, JSON.stringify(full) + '\n');
    for (const w of [...this.waiters]) w();
    return full;
  }

  /** All events so far, or those matching a filter. */
  events(filter: AuditFilter = {}): AuditEvent[] {
    return this.entries.filter((e) => matchesAudit(e, filter));
  }

  count(filter: AuditFilter = {}): number {
    return this.events(filter).length;
  }

  /** Resolves when an event matching `filter` is recorded (or already was). */
  waitFor(filter: AuditFilter, timeoutMs = 5000): Promise<AuditEvent> {
    const found = this.events(filter)[0];
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.entries.findLast((e) => matchesAudit(e, filter));
        if (hit) {
          cleanup();
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no audit event matching ${JSON.stringify(filter)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/** Reads an audit file written by the API server (for tests running the `kube-sim` command). */
export function readAuditFile(path: string, filter: AuditFilter = {}): AuditEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => matchesAudit(e, filter));
}
