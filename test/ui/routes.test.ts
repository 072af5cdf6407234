import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPipelineRoute, parseRoute, pipelineApiPath, routeHash, routePipeline, type Route } from '../../src/ui/app/routes.ts';

const BRANCH_A = '%7B%22branch%22%3A%22a%22%7D'; // {"branch":"a"}, all encoded

const cases: [string, Route][] = [
  ['', { page: 'dashboard' }],
  ['#/', { page: 'dashboard' }],
  ['#/login', { page: 'login' }],
  ['#/builds/42', { page: 'build', id: 42 }],
  // with the team, as Concourse's paths
  ['#/teams/main/pipelines/hello', { page: 'pipeline', team: 'main', pipeline: 'hello' }],
  ['#/teams/ops/pipelines/hello/jobs/unit', { page: 'job', team: 'ops', pipeline: 'hello', job: 'unit' }],
  ['#/teams/main/pipelines/hello/resources/source-code', { page: 'resource', team: 'main', pipeline: 'hello', resource: 'source-code' }],
  ['#/teams/my%20team/pipelines/my%20pipe/jobs/a%2Fb', { page: 'job', team: 'my team', pipeline: 'my pipe', job: 'a/b' }],
  ['#/teams/teams/pipelines/pipelines', { page: 'pipeline', team: 'teams', pipeline: 'pipelines' }],
  // the old, team-less hashes: no team (the user's first)
  ['#/pipelines/hello', { page: 'pipeline', pipeline: 'hello' }],
  ['#/pipelines/hello/jobs/unit', { page: 'job', pipeline: 'hello', job: 'unit' }],
  ['#/pipelines/hello/resources/source-code', { page: 'resource', pipeline: 'hello', resource: 'source-code' }],
  ['#/pipelines/my%20pipe/jobs/a%2Fb', { page: 'job', pipeline: 'my pipe', job: 'a/b' }],
  // instance vars: fully encoded, as printed (JSON punctuation bare), Concourse's vars.<name>
  [`#/teams/main/pipelines/release?vars=${BRANCH_A}`, { page: 'pipeline', team: 'main', pipeline: 'release', vars: { branch: 'a' } }],
  ['#/teams/main/pipelines/release/jobs/build?vars={%22branch%22:%22a%22}', { page: 'job', team: 'main', pipeline: 'release', vars: { branch: 'a' }, job: 'build' }],
  ['#/teams/main/pipelines/release/resources/src?vars.branch=%22a%22&vars.n=2', { page: 'resource', team: 'main', pipeline: 'release', vars: { branch: 'a', n: 2 }, resource: 'src' }],
  [`#/pipelines/release?vars=${BRANCH_A}`, { page: 'pipeline', pipeline: 'release', vars: { branch: 'a' } }],
  ['#/teams/main/pipelines/release?vars=%7B%7D', { page: 'pipeline', team: 'main', pipeline: 'release' }],
  ['#/teams/main/pipelines/release?other=1', { page: 'pipeline', team: 'main', pipeline: 'release' }],
  // group tabs (Concourse's ?group=, repeatable); on the pipeline's page only
  ['#/teams/main/pipelines/hello?group=build&group=deploy%20all', { page: 'pipeline', team: 'main', pipeline: 'hello', groups: ['build', 'deploy all'] }],
  [`#/teams/main/pipelines/release?vars=${BRANCH_A}&group=a`, { page: 'pipeline', team: 'main', pipeline: 'release', vars: { branch: 'a' }, groups: ['a'] }],
  ['#/teams/main/pipelines/hello?group=', { page: 'pipeline', team: 'main', pipeline: 'hello' }],
  ['#/teams/main/pipelines/hello/jobs/unit?group=a', { page: 'job', team: 'main', pipeline: 'hello', job: 'unit' }],
  // vars that are not a JSON object name no pipeline
  ['#/teams/main/pipelines/release?vars=%5B1%5D', { page: 'not-found', path: '/teams/main/pipelines/release?vars=%5B1%5D' }],
  ['#/teams/main/pipelines/release?vars={nope', { page: 'not-found', path: '/teams/main/pipelines/release?vars={nope' }],
  ['#/teams/main/pipelines/release?vars.branch=a', { page: 'not-found', path: '/teams/main/pipelines/release?vars.branch=a' }],
  [`#/teams/main/pipelines/release?vars=${BRANCH_A}&vars=${BRANCH_A}`, { page: 'not-found', path: `/teams/main/pipelines/release?vars=${BRANCH_A}&vars=${BRANCH_A}` }],
  // the rest is not found
  ['#/builds/abc', { page: 'not-found', path: '/builds/abc' }],
  ['#/pipelines/hello/jobs', { page: 'not-found', path: '/pipelines/hello/jobs' }],
  ['#/pipelines/%E0%A4%A', { page: 'not-found', path: '/pipelines/%E0%A4%A' }],
  ['#/teams/main', { page: 'not-found', path: '/teams/main' }],
  ['#/teams/main/pipelines', { page: 'not-found', path: '/teams/main/pipelines' }],
  ['#/teams/main/hello', { page: 'not-found', path: '/teams/main/hello' }],
  ['#/teams/main/pipelines/hello/jobs/unit/builds', { page: 'not-found', path: '/teams/main/pipelines/hello/jobs/unit/builds' }],
];

for (const [hash, route] of cases) {
  test(`route ${JSON.stringify(hash)}`, () => {
    assert.deepEqual(parseRoute(hash), route);
  });
}

const printed: [Route, string][] = [
  [{ page: 'pipeline', team: 'main', pipeline: 'hello' }, '#/teams/main/pipelines/hello'],
  [{ page: 'job', team: 'ops', pipeline: 'hello', job: 'unit' }, '#/teams/ops/pipelines/hello/jobs/unit'],
  [{ page: 'resource', team: 'a b', pipeline: 'c/d', resource: 'r#1' }, '#/teams/a%20b/pipelines/c%2Fd/resources/r%231'],
  [{ page: 'pipeline', pipeline: 'hello' }, '#/pipelines/hello'],
  [{ page: 'pipeline', team: 'main', pipeline: 'release', vars: { branch: 'a' } }, '#/teams/main/pipelines/release?vars={%22branch%22:%22a%22}'],
  [{ page: 'job', team: 'main', pipeline: 'release', vars: { branch: 'feature/x y', n: [1, 2] }, job: 'unit' }, '#/teams/main/pipelines/release/jobs/unit?vars={%22branch%22:%22feature/x%20y%22,%22n%22:[1,2]}'],
  [{ page: 'pipeline', team: 'main', pipeline: 'release', vars: {} }, '#/teams/main/pipelines/release'],
  [{ page: 'pipeline', team: 'main', pipeline: 'hello', groups: ['a b', 'c&d'] }, '#/teams/main/pipelines/hello?group=a%20b&group=c%26d'],
  [{ page: 'pipeline', team: 'main', pipeline: 'release', vars: { branch: 'a' }, groups: ['g'] }, '#/teams/main/pipelines/release?vars={%22branch%22:%22a%22}&group=g'],
];

for (const [route, hash] of printed) {
  test(`routeHash ${hash}`, () => {
    assert.equal(routeHash(route), hash);
  });
}

test('routeHash is the inverse of parseRoute, names and vars encoded', () => {
  const awkward = 'a/b?c#d&e=f%20g {"h"}: +1';
  const routes: Route[] = [
    { page: 'dashboard' },
    { page: 'login' },
    { page: 'build', id: 7 },
    { page: 'pipeline', team: 'main', pipeline: 'my pipe' },
    { page: 'job', team: 'ops', pipeline: 'p', job: 'a/b?c' },
    { page: 'resource', team: 'main', pipeline: 'p', resource: 'r#1' },
    { page: 'pipeline', pipeline: 'old' },
    { page: 'job', pipeline: 'old', job: 'unit' },
    { page: 'pipeline', team: awkward, pipeline: awkward, vars: { [awkward]: awkward } },
    { page: 'pipeline', team: 'main', pipeline: 'p', groups: [awkward, 'x'] },
    { page: 'job', team: 'main', pipeline: 'release', vars: { branch: 'a', nested: { list: [1, null, true, 'x,y:z'] }, '%2C': '%7B' }, job: awkward },
    { page: 'resource', team: 'main', pipeline: 'release', vars: { 'vars.x': '"', empty: '' }, resource: 'r' },
    { page: 'not-found', path: '/nowhere' },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(routeHash(r)), r, routeHash(r));
  // what the browser is given stays as it is: nothing a fragment would have escaped
  for (const r of routes) assert.doesNotMatch(routeHash(r), /[ "<>`]/);
});

test("an old hash's pipeline is in the user's first team; a team's stays in it", () => {
  const old = parseRoute('#/pipelines/hello/jobs/unit');
  assert.ok(isPipelineRoute(old));
  assert.deepEqual(routePipeline(old, 'ops'), { team: 'ops', pipeline: 'hello' });
  const withTeam = parseRoute(`#/teams/main/pipelines/release/jobs/unit?vars=${BRANCH_A}`);
  assert.ok(isPipelineRoute(withTeam));
  assert.deepEqual(routePipeline(withTeam, 'ops'), { team: 'main', pipeline: 'release', vars: { branch: 'a' } });
  assert.ok(!isPipelineRoute(parseRoute('#/builds/1')));
  assert.ok(!isPipelineRoute(parseRoute('#/')));
});

test('API paths of a pipeline: the team, the vars as ?vars=, after the query given', () => {
  assert.equal(pipelineApiPath({ team: 'main', pipeline: 'a b' }), '/teams/main/pipelines/a%20b');
  assert.equal(pipelineApiPath({ team: 'my team', pipeline: 'p' }, '/jobs/unit'), '/teams/my%20team/pipelines/p/jobs/unit');
  assert.equal(pipelineApiPath({ team: 'main', pipeline: 'p' }, '/jobs/unit/builds', { limit: '50' }), '/teams/main/pipelines/p/jobs/unit/builds?limit=50');
  assert.equal(pipelineApiPath({ team: 'main', pipeline: 'release', vars: { branch: 'a' } }), `/teams/main/pipelines/release?vars=${BRANCH_A}`);
  assert.equal(
    pipelineApiPath({ team: 'main', pipeline: 'release', vars: { branch: 'a&b=c' } }, '/resources/src/versions', { limit: '100' }),
    '/teams/main/pipelines/release/resources/src/versions?limit=100&vars=%7B%22branch%22%3A%22a%26b%3Dc%22%7D',
  );
  assert.equal(pipelineApiPath({ team: 'main', pipeline: 'release', vars: {} }, '/jobs'), '/teams/main/pipelines/release/jobs');
  // the API reads the vars back as they were
  const url = new URL(`http://x${pipelineApiPath({ team: 'main', pipeline: 'p', vars: { v: 'a+b c%' } }, '/jobs', { limit: '1' })}`);
  assert.deepEqual(JSON.parse(url.searchParams.get('vars') ?? ''), { v: 'a+b c%' });
  assert.equal(url.searchParams.get('limit'), '1');
});
