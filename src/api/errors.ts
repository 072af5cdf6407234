// Errors the API answers with: a table of stable codes (the HTTP status each is answered with,
// and what it means; docs/api-errors.md lists them), the ApiError routes throw, and the mapping
// of the other layers' errors (storage, checker, intercept, fastify) to codes.
//
// Every error body is JSON (src/api/wire.ts, ErrorBody): `{"error": "…", "code": "JW_…"}`, or
// `{"errors": ["…"], "code": "JW_…"}` for a list of problems (an invalid pipeline config or
// request body). The messages are fly's where fly has one (`pipeline not found`); clients that
// need to tell errors apart read the code, which does not change when a message is reworded.
// Never a stack trace.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { UnauthorizedError } from '../checker/checker.ts';
import { ConflictError, DbError, InvalidConfigError, NotFoundError, StaleConfigVersionError } from '../db/errors.ts';
import { PageAnchorNotFoundError } from '../db/keyset.ts';
import { ContainerChoiceError } from './intercept-protocol.ts';
import type { ApiErrorCode, ErrorBody } from './wire.ts';

export interface ApiErrorSpec {
  /** the HTTP status the code is answered with */
  status: number;
  /** what the code means (not the message of an answer, which says what exactly went wrong) */
  message: string;
}

/** Every code, its status and its meaning. A code keeps its meaning once published. */
export const API_ERRORS = {
  JW_BAD_REQUEST: { status: 400, message: 'a path parameter, query parameter or header is malformed' },
  JW_INVALID_REQUEST: { status: 400, message: 'the request body or query failed validation; `errors` names each field' },
  JW_EMPTY_BODY: { status: 400, message: 'the route needs a request body and got none' },
  JW_INVALID_JSON: { status: 400, message: 'the request body is not valid JSON' },
  JW_INVALID_CONFIG: { status: 400, message: 'the pipeline config is invalid; `errors` lists the problems, `warnings` what a save would warn about' },
  JW_UNRESOLVED_CREDENTIALS: { status: 400, message: 'check_creds: vars of the config that no credential manager or var source resolves' },
  JW_INVALID_PLAN: { status: 400, message: 'the one-off build plan is invalid; `errors` lists the problems' },
  JW_INVALID_TEAM_NAME: { status: 400, message: 'the team name is not a valid identifier' },
  JW_INVALID_TEAM_AUTH: { status: 400, message: 'the team auth gives no role to anyone' },
  JW_VERSIONS_DB_TOO_LARGE: { status: 422, message: "the pipeline's versions DB is larger than the API serves in one response" },
  JW_INVALID_PIPELINE_ORDER: { status: 400, message: 'the ordering names pipelines the team does not have; nothing was reordered' },
  JW_INVALID_PAGE: { status: 400, message: 'the `from` or `to` of a page names no item of the list' },
  JW_INVALID_ARTIFACT: { status: 400, message: 'the uploaded artifact is not a tar archive (plain or gzipped)' },
  JW_CONTAINER_AMBIGUOUS: { status: 400, message: 'the build has several containers: choose one with step= (and type=)' },
  JW_UNAUTHORIZED: { status: 401, message: 'no bearer token, a malformed one, or one that is unknown, expired or revoked: log in again' },
  JW_INVALID_LOGIN: { status: 401, message: 'the user name or password is wrong' },
  JW_INVALID_WEBHOOK_TOKEN: { status: 401, message: 'the webhook token is missing (a wrong one is answered as an unknown resource)' },
  JW_FORBIDDEN: { status: 403, message: 'the user holds no role, or not a strong enough one, in the team (or is not an admin)' },
  JW_NOT_FOUND: { status: 404, message: 'something the request names does not exist' },
  JW_ROUTE_NOT_FOUND: { status: 404, message: 'no route has this method and path' },
  JW_FLY_NOT_SHIPPED: { status: 404, message: 'GET /api/v1/cli: this server ships no fly binaries (fly comes from Concourse\'s releases)' },
  JW_TEAM_NOT_FOUND: { status: 404, message: 'the team does not exist (or the user holds no role in it)' },
  JW_PIPELINE_NOT_FOUND: { status: 404, message: 'the pipeline (with these instance vars) does not exist in the team' },
  JW_JOB_NOT_FOUND: { status: 404, message: 'the pipeline has no such job' },
  JW_BUILD_NOT_FOUND: { status: 404, message: 'the build does not exist' },
  JW_BUILD_PLAN_NOT_FOUND: { status: 404, message: 'the build has no plan yet: it has not started' },
  JW_RESOURCE_NOT_FOUND: { status: 404, message: 'the pipeline has no such resource' },
  JW_RESOURCE_TYPE_NOT_FOUND: { status: 404, message: 'the pipeline has no such resource type' },
  JW_PROTOTYPE_NOT_FOUND: { status: 404, message: 'the pipeline has no such prototype' },
  JW_VERSION_NOT_FOUND: { status: 404, message: "the resource's current history has no such version" },
  JW_TASK_STEP_NOT_FOUND: { status: 404, message: 'the job has no task step of that name' },
  JW_ARTIFACT_NOT_FOUND: { status: 404, message: 'the team has no such artifact, or its content was removed' },
  JW_CONTAINER_NOT_FOUND: { status: 404, message: 'the build has no container (of that step) to intercept' },
  JW_CONFLICT: { status: 409, message: 'the request conflicts with the current state (a name taken, an archived pipeline, …)' },
  JW_STALE_CONFIG_VERSION: { status: 409, message: 'the pipeline changed since its config was read (X-Concourse-Config-Version): fetch it again' },
  JW_PINNED_IN_CONFIG: { status: 409, message: 'the resource is pinned in the pipeline config: change the config to change the pin' },
  JW_NOT_PINNED: { status: 409, message: 'the resource is not pinned, so it has no pin comment' },
  JW_MAIN_TEAM_PROTECTED: { status: 409, message: "team main is the web node's configuration: it cannot be set, renamed, replaced or destroyed" },
  JW_BODY_TOO_LARGE: { status: 413, message: "the request body is larger than the server's limit" },
  JW_URI_TOO_LONG: { status: 414, message: 'a path parameter is longer than the server accepts' },
  JW_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "the route does not take the request's Content-Type" },
  JW_CAUSALITY_TOO_LARGE: { status: 422, message: "the version's causality has more builds or inputs and outputs than are drawn (5000 builds, 25000 inputs and outputs)" },
  JW_TOO_MANY_LOGINS: { status: 429, message: 'too many failed logins (for the user from this address, from this address, or for the user): wait Retry-After seconds' },
  JW_INTERNAL_ERROR: { status: 500, message: 'the server failed; its log says why' },
  JW_STORAGE_ERROR: { status: 500, message: 'the database refused the change' },
  JW_INTERCEPT_UNSUPPORTED: { status: 501, message: 'the runtime keeps no containers to intercept (the local runtime), or there is no runtime' },
  JW_UNAVAILABLE: { status: 503, message: 'the route needs a part this server runs without (checker, engine, runtime, artifacts directory)' },
} as const satisfies { [C in ApiErrorCode]: ApiErrorSpec };

export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** When set, the body is `{"errors": list}` instead of `{"error": message}`. */
    readonly list?: string[],
    /** Extra fields of the JSON body. */
    readonly extra?: Omit<ErrorBody, 'code' | 'error' | 'errors'>,
  ) {
    super(message);
    this.statusCode = API_ERRORS[code].status;
  }
}

/** `<what> not found` (fly's wording), e.g. notFound('JW_PIPELINE_NOT_FOUND', 'pipeline main/demo'). */
export const notFound = (code: ApiErrorCode & `${string}NOT_FOUND`, what: string): ApiError => new ApiError(code, `${what} not found`);
export const badRequest = (message: string): ApiError => new ApiError('JW_BAD_REQUEST', message);
export const forbidden = (message: string): ApiError => new ApiError('JW_FORBIDDEN', message);
export const unauthorized = (message: string): ApiError => new ApiError('JW_UNAUTHORIZED', message);
/** A route whose collaborator (checker, engine, artifact store) this server was started without. */
export const unavailable = (message: string): ApiError => new ApiError('JW_UNAVAILABLE', message);

/** `field: message` for each issue of a zod error, field named by its dotted path. */
export function zodMessages(err: ZodError, prefix = 'body'): string[] {
  return err.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `${prefix}${path}: ${issue.message}`;
  });
}

export const STALE_CONFIG_PREFIX =
  'failed to save config: comparison with existing config failed during save ' +
  '(Concourse answers 500 here; Jetway answers 409 Conflict)';

export function bodyOf(err: ApiError): ErrorBody {
  const base = err.list ? { errors: err.list } : { error: err.message };
  return { ...base, ...err.extra, code: err.code };
}

// Fastify's own client errors (fastify/lib/errors.js) whose message is kept, by their codes.
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'JW_BODY_TOO_LARGE',
  FST_ERR_MAX_PARAM_LENGTH: 'JW_URI_TOO_LONG',
};

// Any other client error, by its status (one the table has no code for is answered 400).
const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'JW_BAD_REQUEST',
  404: 'JW_NOT_FOUND',
  409: 'JW_CONFLICT',
  413: 'JW_BODY_TOO_LARGE',
  414: 'JW_URI_TOO_LONG',
  415: 'JW_UNSUPPORTED_MEDIA_TYPE',
};

/** A client error of fastify's (a body parser's, the router's), in the API's words. */
function fastifyClientError(fe: FastifyError, req: Pick<FastifyRequest, 'headers'> & { routeOptions?: { bodyLimit?: number } }): ApiError {
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = req.routeOptions?.bodyLimit;
    return new ApiError('JW_BODY_TOO_LARGE', `the request body is larger than the server's limit${limit ? ` of ${limit} bytes (${+(limit / 1048576).toFixed(2)} MiB)` : ''}`);
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('JW_UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type '${req.headers['content-type'] ?? ''}'`);
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected JSON');
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError) return new ApiError('JW_INVALID_JSON', `the request body is not valid JSON: ${fe.message}`);
  return new ApiError(FASTIFY_CODES[fe.code] ?? CODE_BY_STATUS[fe.statusCode ?? 400] ?? 'JW_BAD_REQUEST', fe.message);
}

// SQLSTATE classes of a value the database cannot take (22: data exception — a NUL character, a
// number out of range, bad text; 54: program limit exceeded — too deep, too long): the request
// asked for it, so it is the client's error, but the database's text stays in the log.
const CLIENT_SQLSTATE = /^(22|54)/;

/**
 * A value the database refused (a pg error, known by its SQLSTATE `code` and `severity`) that
 * route checks did not catch first: 400 without the database's message.
 */
function databaseRejection(error: unknown): ApiError | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: unknown; severity?: unknown };
  if (typeof e.code !== 'string' || typeof e.severity !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined;
  if (!CLIENT_SQLSTATE.test(e.code)) return undefined;
  return badRequest(`a value of the request cannot be stored (SQLSTATE ${e.code}): check names, numbers and text for out-of-range values or NUL characters`);
}

/**
 * The API's answer to an error any layer threw: an ApiError as it is, the other layers'
 * expected failures mapped to their codes, and undefined for anything else (a server failure).
 */
export function apiErrorOf(error: unknown, req: Pick<FastifyRequest, 'headers'>): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof StaleConfigVersionError) return new ApiError('JW_STALE_CONFIG_VERSION', `${STALE_CONFIG_PREFIX}: ${error.message}`);
  if (error instanceof PageAnchorNotFoundError) return new ApiError('JW_INVALID_PAGE', error.message);
  if (error instanceof NotFoundError) return new ApiError('JW_NOT_FOUND', error.message);
  if (error instanceof ConflictError) return new ApiError('JW_CONFLICT', error.message);
  if (error instanceof InvalidConfigError) return new ApiError('JW_INVALID_CONFIG', error.message, [error.message]);
  if (error instanceof DbError) return new ApiError('JW_STORAGE_ERROR', error.message);
  if (error instanceof UnauthorizedError) return new ApiError('JW_INVALID_WEBHOOK_TOKEN', 'invalid webhook token');
  if (error instanceof ContainerChoiceError) return new ApiError(error.code, error.message);
  const rejected = databaseRejection(error);
  if (rejected) return rejected;
  const fe = error as Partial<FastifyError>;
  if (error instanceof Error && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return fastifyClientError(error as FastifyError, req);
  }
  return undefined;
}

/** Installs the error and not-found handlers that give every failure a JSON body with a code. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { error: `no route ${req.method} ${req.url.split('?')[0] ?? ''}`, code: 'JW_ROUTE_NOT_FOUND' };
    void reply.code(API_ERRORS.JW_ROUTE_NOT_FOUND.status).send(body);
  });
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    const known = apiErrorOf(error, req);
    if (known) {
      // the database's own text is kept for the operator, not the client
      if (known.code === 'JW_BAD_REQUEST' && databaseRejection(error)) req.log.warn({ err: error }, 'the database refused a value of the request');
      return reply.code(known.statusCode).send(bodyOf(known));
    }
    req.log.error({ err: error }, 'request failed');
    // the message stays in the log: it may be the database's text, or name the server's files
    const body: ErrorBody = { error: `internal error (request ${req.id}): the server's log says why`, code: 'JW_INTERNAL_ERROR' };
    return reply.code(API_ERRORS.JW_INTERNAL_ERROR.status).send(body);
  });
}
