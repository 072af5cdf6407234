// The API's error codes as data (src/api/errors.ts): the table itself, its documentation
// (docs/api-errors.md), and how the other layers' errors map onto it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import Fastify, { errorCodes } from 'fastify';
import { UnauthorizedError } from '../../src/checker/checker.ts';
import { ConflictError, DbError, InvalidConfigError, NotFoundError, StaleConfigVersionError } from '../../src/db/errors.ts';
import { PageAnchorNotFoundError } from '../../src/db/keyset.ts';
import { API_ERRORS, ApiError, apiErrorOf, bodyOf, installErrorHandlers, notFound, STALE_CONFIG_PREFIX } from '../../src/api/errors.ts';
import { ContainerChoiceError } from '../../src/api/intercept-protocol.ts';
import { packagePath } from '../../src/package.ts';

const codes = Object.keys(API_ERRORS) as (keyof typeof API_ERRORS)[];

test('every code is JW_ and upper case, and each has its own meaning', () => {
  assert.ok(codes.length > 0);
  for (const code of codes) assert.match(code, /^JW_[A-Z]+(_[A-Z]+)*$/, code);
  assert.equal(new Set(codes.map((c) => c.toLowerCase())).size, codes.length, 'codes are unique');
  const meanings = codes.map((c) => API_ERRORS[c].message);
  for (const [i, m] of meanings.entries()) assert.ok(m.trim().length > 0, `${codes[i]} says what it means`);
  assert.equal(new Set(meanings).size, meanings.length, 'no two codes mean the same');
});

test('every status is an HTTP error status', () => {
  for (const code of codes) {
    const { status } = API_ERRORS[code];
    assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
    assert.ok(STATUS_CODES[status], `${code}: ${status} is a status node knows`);
  }
  for (const code of codes.filter((c) => c.endsWith('_NOT_FOUND'))) assert.equal(API_ERRORS[code].status, 404, code);
});

test('docs/api-errors.md has a row for every code, with its status, and no other', () => {
  const doc = readFileSync(packagePath('docs', 'api-errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `(JW_[A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => ({ code: m[1]!, status: Number(m[2]), meaning: m[3]!.trim() }));
  const documented = rows.map((r) => r.code);
  assert.equal(new Set(documented).size, documented.length, 'each code has one row');
  assert.deepEqual([...documented].sort(), [...codes].sort(), 'the documented codes are the table’s');
  for (const r of rows) {
    assert.equal(r.status, API_ERRORS[r.code as keyof typeof API_ERRORS].status, `${r.code}: the documented status`);
    assert.ok(r.meaning.length > 0, `${r.code}: a meaning`);
  }
});

test('an ApiError is answered with its code’s status, the code in its body', () => {
  const e = notFound('JW_PIPELINE_NOT_FOUND', 'pipeline main/demo');
  assert.equal(e.statusCode, 404);
  assert.deepEqual(bodyOf(e), { error: 'pipeline main/demo not found', code: 'JW_PIPELINE_NOT_FOUND' });
  const list = new ApiError('JW_INVALID_CONFIG', 'invalid pipeline config', ['jobs: required'], { warnings: [{ type: 'pipeline', message: 'w' }] });
  assert.equal(list.statusCode, 400);
  assert.deepEqual(bodyOf(list), { errors: ['jobs: required'], warnings: [{ type: 'pipeline', message: 'w' }], code: 'JW_INVALID_CONFIG' });
});

test("the other layers' errors map to their codes; an unexpected one to none", () => {
  const req = { headers: { 'content-type': 'image/png' } };
  const mapped = (err: unknown) => {
    const e = apiErrorOf(err, req);
    return e && { code: e.code, status: e.statusCode, message: e.message, ...(e.list ? { list: e.list } : {}) };
  };
  const stale = new StaleConfigVersionError('main/demo', 1, 2);
  assert.deepEqual(mapped(stale), { code: 'JW_STALE_CONFIG_VERSION', status: 409, message: `${STALE_CONFIG_PREFIX}: ${stale.message}` });
  assert.deepEqual(mapped(new NotFoundError('team x not found')), { code: 'JW_NOT_FOUND', status: 404, message: 'team x not found' });
  assert.deepEqual(mapped(new ConflictError('a team named x already exists')), { code: 'JW_CONFLICT', status: 409, message: 'a team named x already exists' });
  assert.deepEqual(mapped(new InvalidConfigError('job a: unknown resource r')), {
    code: 'JW_INVALID_CONFIG',
    status: 400,
    message: 'job a: unknown resource r',
    list: ['job a: unknown resource r'],
  });
  assert.deepEqual(mapped(new DbError('refused')), { code: 'JW_STORAGE_ERROR', status: 500, message: 'refused' });
  assert.deepEqual(mapped(new PageAnchorNotFoundError('to', 'version', 7)), { code: 'JW_INVALID_PAGE', status: 400, message: 'to: version 7 not found' });
  assert.deepEqual(mapped(new UnauthorizedError('invalid webhook token')), { code: 'JW_INVALID_WEBHOOK_TOKEN', status: 401, message: 'invalid webhook token' });
  assert.deepEqual(mapped(new ContainerChoiceError(400, 'several')), { code: 'JW_CONTAINER_AMBIGUOUS', status: 400, message: 'several' });
  assert.deepEqual(mapped(new ContainerChoiceError(404, 'none')), { code: 'JW_CONTAINER_NOT_FOUND', status: 404, message: 'none' });
  // fastify's own client errors
  assert.deepEqual(mapped(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()), { code: 'JW_UNSUPPORTED_MEDIA_TYPE', status: 415, message: "unsupported Content-Type 'image/png'" });
  assert.deepEqual(mapped(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY()), { code: 'JW_EMPTY_BODY', status: 400, message: 'the request body is empty; expected JSON' });
  assert.equal(mapped(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY())?.code, 'JW_INVALID_JSON');
  assert.equal(mapped(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())?.code, 'JW_BODY_TOO_LARGE');
  assert.equal(mapped(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH())?.code, 'JW_BAD_REQUEST');
  assert.equal(mapped(new Error('boom')), undefined);
});

test('the handlers answer with the code: an unknown route, a failure, a client error', async () => {
  const app = Fastify();
  installErrorHandlers(app);
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.post('/echo', async (req) => req.body);
  try {
    const route = await app.inject({ method: 'GET', url: '/nope?x=1' });
    assert.equal(route.statusCode, 404);
    assert.deepEqual(route.json(), { error: 'no route GET /nope', code: 'JW_ROUTE_NOT_FOUND' });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(boom.statusCode, 500);
    // the message stays in the log (it may be the database's text): the body names the request
    assert.deepEqual(boom.json(), { error: "internal error (request req-2): the server's log says why", code: 'JW_INTERNAL_ERROR' });
    const json = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{' });
    assert.equal(json.statusCode, 400);
    assert.equal(json.json<{ code: string }>().code, 'JW_INVALID_JSON');
    assert.match(json.json<{ error: string }>().error, /^the request body is not valid JSON: /);
  } finally {
    await app.close();
  }
});
