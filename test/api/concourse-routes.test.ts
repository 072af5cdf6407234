// docs/concourse-compatibility.md's route table stays true: every Concourse route (atc/routes.go)
// marked `yes` is served by Jetway's API, and every route marked otherwise is not (adding one
// means updating the page). No database: a route that exists answers 401 or a database error
// before anything else, an unknown one answers JW_ROUTE_NOT_FOUND.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createApiServer, LocalAuth } from '../../src/api/index.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { silentLogger } from '../../src/log.ts';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'concourse-compatibility.md');

interface RouteRow {
  method: string;
  path: string;
  name: string;
  status: string;
}

function routeRows(): RouteRow[] {
  const rows: RouteRow[] = [];
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `(GET|PUT|POST|DELETE|PATCH) (\S+)` \| (\w+) \| ([^|]+) \|$/.exec(line);
    if (m) rows.push({ method: m[1]!, path: m[2]!, name: m[3]!, status: m[4]!.trim() });
  }
  return rows;
}

/** A concrete URL for a route pattern: ids become 1, names x. */
function urlOf(path: string): string {
  return path.replace(/:[a-z_]*id\b/g, '1').replace(/:[a-z_]+/g, 'x');
}

let db: PoolDatabase;
let app: FastifyInstance;
before(async () => {
  // nothing listens on port 1: a route that reaches the database fails at once
  db = new PoolDatabase({ url: 'postgres://nobody:nothing@127.0.0.1:1/none', logger: silentLogger });
  app = createApiServer({
    db,
    auth: new LocalAuth({ users: ['admin:pw'] }),
    logger: pino({ level: 'silent' }),
    version: '0.0.0-test',
    externalUrl: 'http://jetway.example',
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await db.close();
});

const rows = routeRows();

test("the page lists all 108 of Concourse's routes once", () => {
  assert.equal(rows.length, 108);
  assert.equal(new Set(rows.map((r) => `${r.method} ${r.path}`)).size, 108);
});

for (const row of rows) {
  const served = row.status.startsWith('yes');
  test(`${row.name} (${row.method} ${row.path}) is ${served ? 'served' : `not served (${row.status.split(':')[0]})`}`, async () => {
    const res = await app.inject({ method: row.method as 'GET', url: urlOf(row.path) });
    let code: string | undefined;
    try {
      code = (res.json() as { code?: string }).code;
    } catch {
      code = undefined;
    }
    const exists = !(res.statusCode === 404 && code === 'JW_ROUTE_NOT_FOUND');
    assert.equal(exists, served, served ? `${row.method} ${row.path} answered ${res.statusCode} ${code}` : `${row.method} ${row.path} exists now: mark it yes in docs/concourse-compatibility.md`);
  });
}
