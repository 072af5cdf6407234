// Starts the API on a fresh test database, with a pino logger whose lines the test can read.
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createApiServer, LocalAuth, type ApiServerOptions } from '../../src/api/index.ts';
import { LookupCache } from '../../src/api/lookup-cache.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

export interface TestApi {
  t: TestDatabase;
  app: FastifyInstance;
  logs: string[];
  /** A bearer token for user `admin`. */
  token: string;
  auth: (token?: string) => Record<string, string>;
  /** The server's lookup cache, listening already (heardUpTo: after a change made in SQL). */
  lookups: LookupCache;
  close: () => Promise<void>;
}

export const PASSWORD = 's3cret-passw0rd';

/**
 * `database`: a test database someone else owns (a test node's), which close() leaves alone;
 * by default a fresh one that close() drops.
 */
export async function startApi(extra: Partial<ApiServerOptions> = {}, database?: TestDatabase): Promise<TestApi> {
  const t = database ?? (await createTestDatabase());
  const logs: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  // listening before the first request, so that what a test counts does not depend on timing
  const ownLookups = extra.lookups === undefined;
  const lookups = extra.lookups ?? new LookupCache(extra.db ?? t.db, logger);
  await lookups.start();
  const app = createApiServer({
    db: t.db,
    auth: new LocalAuth({ users: [`admin:${PASSWORD}`, 'other:pw:with:colons'] }),
    logger,
    version: '0.1.0-test',
    externalUrl: 'http://jetway.example:8080',
    eventPollIntervalMs: 50,
    ...extra,
    lookups,
  });
  await app.ready();
  const res = await app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin', password: PASSWORD } });
  const token = (res.json() as { access_token: string }).access_token;
  const api: TestApi = {
    t,
    app,
    logs,
    token,
    auth: (tok?: string) => ({ authorization: `Bearer ${tok ?? api.token}` }),
    lookups,
    close: async () => {
      await app.close();
      if (ownLookups) await lookups.stop();
      if (!database) await t.drop();
    },
  };
  return api;
}

export const PIPELINE = `resources:
- name: repo
  type: mock
  source: {uri: ((repo_uri))}
- name: image
  type: mock
  source: {}
jobs:
- name: unit
  plan:
  - get: repo
    trigger: true
  - get: image
  - task: test
    config:
      platform: linux
      run: {path: echo, args: [hi]}
- name: ship
  plan:
  - get: repo
    passed: [unit]
`;
