import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute, pipelineApiPath, routeHash, type Route } from '../../src/ui/app/routes.ts';

const cases: [string, Route][] = [
  ['', { page: 'dashboard' }],
  ['#/', { page: 'dashboard' }],
  ['#/login', { page: 'login' }],
  ['#/pipelines/hello', { page: 'pipeline', pipeline: 'hello' }],
  ['#/pipelines/hello/jobs/unit', { page: 'job', pipeline: 'hello', job: 'unit' }],
  ['#/pipelines/hello/resources/source-code', { page: 'resource', pipeline: 'hello', resource: 'source-code' }],
  ['#/builds/42', { page: 'build', id: 42 }],
  ['#/pipelines/my%20pipe/jobs/a%2Fb', { page: 'job', pipeline: 'my pipe', job: 'a/b' }],
  ['#/builds/abc', { page: 'not-found', path: '/builds/abc' }],
  ['#/pipelines/hello/jobs', { page: 'not-found', path: '/pipelines/hello/jobs' }],
  ['#/pipelines/%E0%A4%A', { page: 'not-found', path: '/pipelines/%E0%A4%A' }],
];

for (const [hash, route] of cases) {
  test(`route ${JSON.stringify(hash)}`, () => {
    assert.deepEqual(parseRoute(hash), route);
  });
}

test('routeHash is the inverse of parseRoute, names encoded', () => {
  const routes: Route[] = [
    { page: 'dashboard' },
    { page: 'pipeline', pipeline: 'my pipe' },
    { page: 'job', pipeline: 'p', job: 'a/b?c' },
    { page: 'resource', pipeline: 'p', resource: 'r#1' },
    { page: 'build', id: 7 },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(routeHash(r)), r);
  assert.equal(routeHash({ page: 'job', pipeline: 'hello', job: 'unit' }), '#/pipelines/hello/jobs/unit');
  assert.equal(pipelineApiPath('main', 'a b'), '/teams/main/pipelines/a%20b');
});
