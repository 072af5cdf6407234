// Kubernetes `Status` objects (metav1.Status) and the error type the API server throws to answer
// with one. Reasons and messages follow k8s.io/apimachinery/pkg/api/errors so a client sees the
// same `code`, `reason` and `message` a real API server would give.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export function successStatus(details?: StatusDetails): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}), code: 200 };
}

/** Thrown inside request handling; the server answers with its Status (and headers). */
export class ApiError extends Error {
  constructor(
    readonly status: KubeStatus,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message ?? status.reason ?? 'error');
  }
  get code(): number {
    return this.status.code;
  }
}

/** `pods` -> kind `Pod` for details; the core group is "". */
function details(resource: string, name: string | undefined, extra: Partial<StatusDetails> = {}): StatusDetails {
  return { ...(name !== undefined ? { name } : {}), kind: resource, ...extra };
}

export const errors = {
  notFound(resource: string, name: string): ApiError {
    return new ApiError(failureStatus(404, 'NotFound', `${resource} "${name}" not found`, details(resource, name)));
  },
  alreadyExists(resource: string, name: string): ApiError {
    return new ApiError(failureStatus(409, 'AlreadyExists', `${resource} "${name}" already exists`, details(resource, name)));
  },
  conflict(resource: string, name: string, why: string): ApiError {
    return new ApiError(
      failureStatus(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, details(resource, name)),
    );
  },
  /** `kind` is the object's Kind (`Pod`), as in `Pod "x" is invalid: ...`. */
  invalid(kind: string, name: string, causes: StatusCause[]): ApiError {
    const parts = causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`);
    const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    return new ApiError(
      failureStatus(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, { name, group: '', kind, causes }),
    );
  },
  badRequest(message: string): ApiError {
    return new ApiError(failureStatus(400, 'BadRequest', message));
  },
  forbidden(message: string, resource: string, name?: string): ApiError {
    return new ApiError(failureStatus(403, 'Forbidden', message, details(resource, name, { group: '' })));
  },
  unauthorized(): ApiError {
    return new ApiError(failureStatus(401, 'Unauthorized', 'Unauthorized'));
  },
  methodNotAllowed(): ApiError {
    return new ApiError(failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  },
  tooManyRequests(retryAfterSeconds: number): ApiError {
    return new ApiError(
      failureStatus(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
      { 'Retry-After': String(retryAfterSeconds) },
    );
  },
  internal(message: string): ApiError {
    return new ApiError(
      failureStatus(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
    );
  },
  /** A watch from a compacted resourceVersion (sent as a watch ERROR event, as etcd3/the cacher do). */
  expired(requested: number, oldest: number): KubeStatus {
    return failureStatus(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
  },
  gone(message: string): ApiError {
    return new ApiError(failureStatus(410, 'Gone', message));
  },
  unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(failureStatus(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`));
  },
};
