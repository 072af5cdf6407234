// Errors the API answers with, and the mapping of storage-layer errors to HTTP statuses.
// Every error body is JSON: `{"error": "…"}`, or `{"errors": ["…"]}` for a list of problems
// (an invalid pipeline config or request body). Never a stack trace.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ZodError } from 'zod';
import { ConflictError, DbError, InvalidConfigError, NotFoundError, StaleConfigVersionError } from '../db/errors.ts';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** When set, the body is `{"errors": list}` instead of `{"error": message}`. */
    readonly list?: string[],
    /** Extra fields of the JSON body. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, `${what} not found`);
export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const forbidden = (message: string): ApiError => new ApiError(403, message);
export const unauthorized = (message: string): ApiError => new ApiError(401, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
/** A route whose collaborator (checker, engine, artifact store) this server was started without. */
export const unavailable = (message: string): ApiError => new ApiError(503, message);

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

interface ErrorBody {
  error?: string;
  errors?: string[];
  [k: string]: unknown;
}

function bodyOf(err: ApiError): ErrorBody {
  return err.list ? { errors: err.list, ...err.extra } : { error: err.message, ...err.extra };
}

/** Installs the error and not-found handlers that give every failure a JSON body. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0] ?? ''}` });
  });
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    if (error instanceof ApiError) return reply.code(error.statusCode).send(bodyOf(error));
    if (error instanceof StaleConfigVersionError) {
      return reply.code(409).send({ error: `${STALE_CONFIG_PREFIX}: ${error.message}` });
    }
    if (error instanceof NotFoundError) return reply.code(404).send({ error: error.message });
    if (error instanceof ConflictError) return reply.code(409).send({ error: error.message });
    if (error instanceof InvalidConfigError) return reply.code(400).send({ errors: [error.message] });
    if (error instanceof DbError) return reply.code(500).send({ error: error.message });
    const fe = error as FastifyError;
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      let message = fe.message;
      if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        message = `unsupported Content-Type '${req.headers['content-type'] ?? ''}'`;
      } else if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        message = 'the request body is empty; expected JSON';
      } else if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
        message = `the request body is not valid JSON: ${fe.message}`;
      }
      return reply.code(fe.statusCode).send({ error: message });
    }
    req.log.error({ err: { message: error.message, name: error.name } }, 'request failed');
    return reply.code(500).send({ error: `internal error: ${error.message}` });
  });
}
