// Two tenants on one web node, as the security review used them: team `a` (alice, owner) and
// team `b` (bob, member), with admin the owner of team main. `as(user, …)` sends a request
// with the user's token.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { LocalAuth, type ApiServerOptions } from '../../src/api/index.ts';
import { startApi, type TestApi } from '../api/helpers.ts';
import type { TestDatabase } from '../support/db.ts';

export const USERS = ['admin', 'alice', 'bob'] as const;
export type User = (typeof USERS)[number];

export interface Tenants {
  api: TestApi;
  as(user: User, method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTenants(extra: Partial<ApiServerOptions> = {}, database?: TestDatabase): Promise<Tenants> {
  const api = await startApi({ auth: new LocalAuth({ users: USERS.map((u) => `${u}:${u}-pw`), mainTeamUsers: ['admin'] }), ...extra }, database);
  const tokens = new Map<string, string>();
  const login = async (name: string): Promise<string> => {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: name, password: `${name}-pw` } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ access_token: string }>().access_token;
  };
  const as: Tenants['as'] = (user, method, url, payload, headers = {}) =>
    api.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${tokens.get(user) ?? ''}`, ...headers },
      ...(payload !== undefined ? { payload: payload as string } : {}),
    });
  tokens.set('admin', await login('admin'));
  for (const [team, role, user] of [['a', 'owner', 'alice'], ['b', 'member', 'bob']] as const) {
    const res = await as('admin', 'PUT', `/api/v1/teams/${team}`, { auth: { [role]: { users: [`local:${user}`] } } });
    assert.equal(res.statusCode, 201, res.body);
  }
  tokens.set('alice', await login('alice'));
  tokens.set('bob', await login('bob'));
  return { api, as, close: () => api.close() };
}
