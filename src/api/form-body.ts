// OAuth2's token requests come form-encoded (RFC 6749 §4.3.2); both token endpoints take them.
import type { FastifyInstance } from 'fastify';

/** Parses application/x-www-form-urlencoded bodies into a string map, in this plugin scope only. */
export function acceptFormBodies(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
}
