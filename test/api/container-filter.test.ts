// Concourse's ListContainers filters (atc/api/containerserver/list.go createContainerLocatorFromRequest)
// as src/api/container-filter.ts reads and matches them: the queries are those fly intercept's
// locators send (fly/commands/hijack.go stepContainerLocator, checkContainerLocator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerFilterFrom, containerMatches } from '../../src/api/container-filter.ts';
import { ApiError } from '../../src/api/errors.ts';
import type { TeamContainer } from '../../src/api/wire.ts';

const unit: TeamContainer = {
  id: 'h-unit',
  worker_name: 'pod-unit',
  state: 'created',
  type: 'task',
  step_name: 'unit',
  build_id: 41,
  build_name: '7',
  pipeline_id: 3,
  pipeline_name: 'app',
  job_id: 9,
  job_name: 'test',
  working_directory: '/tmp/build/x',
};
const instanced: TeamContainer = { ...unit, id: 'h-inst', pipeline_instance_vars: { branch: 'main', n: 1 } };
const check: TeamContainer = { id: 'h-check', worker_name: 'pod-check', state: 'created', type: 'check', step_name: 'repo', build_id: 50, build_name: '1', pipeline_id: 3, pipeline_name: 'app' };
const oneOff: TeamContainer = { id: 'h-oneoff', worker_name: 'pod-x', state: 'created', type: 'task', step_name: 'one-off', build_id: 60, build_name: '60' };
const all = [unit, instanced, check, oneOff];

for (const [what, query, ids] of [
  ['no query: every container', {}, ['h-unit', 'h-inst', 'h-check', 'h-oneoff']],
  ['fly intercept -j app/test: pipeline and job', { pipeline_name: 'app', job_name: 'test' }, ['h-unit', 'h-inst']],
  ['-j app/test -s unit -b 7', { pipeline_name: 'app', job_name: 'test', step_name: 'unit', build_name: '7' }, ['h-unit', 'h-inst']],
  ['-j app/test -b 8: another build', { pipeline_name: 'app', job_name: 'test', build_name: '8' }, []],
  ['-j other/test: another pipeline', { pipeline_name: 'other', job_name: 'test' }, []],
  ['-b 60 (a global build id)', { build_id: '60' }, ['h-oneoff']],
  ['--step-type get: no get containers', { build_id: '41', type: 'get' }, []],
  ['-s unit --step-type task -a 1: attempt not matched', { build_id: '41', step_name: 'unit', type: 'task', attempt: '1' }, ['h-unit', 'h-inst']],
  ['instance vars as JSON', { pipeline_name: 'app', vars: '{"n":1,"branch":"main"}', job_name: 'test' }, ['h-inst']],
  ['instance vars as vars.k', { pipeline_name: 'app', 'vars.branch': '"main"', 'vars.n': '1', job_name: 'test' }, ['h-inst']],
  ['other instance vars', { pipeline_name: 'app', vars: '{"branch":"dev"}', job_name: 'test' }, []],
  ['fly intercept -c app/repo: a check container by resource', { type: 'check', resource_name: 'repo', pipeline_name: 'app' }, ['h-check']],
  ['-c app/other: another resource', { type: 'check', resource_name: 'other', pipeline_name: 'app' }, []],
  ['ids: pipeline_id and job_id', { pipeline_id: '3', job_id: '9' }, ['h-unit', 'h-inst']],
  ['an unknown parameter filters nothing', { foo: 'bar' }, ['h-unit', 'h-inst', 'h-check', 'h-oneoff']],
] as const) {
  test(`containers filter: ${what}`, () => {
    const filter = containerFilterFrom(query);
    assert.deepEqual(all.filter((c) => containerMatches(c, filter)).map((c) => c.id), ids);
  });
}

for (const [query, message] of [
  [{ type: 'volume' }, 'unrecognized containerType: volume'],
  [{ build_id: 'abc' }, "non-numeric 'build_id' param (abc)"],
  [{ job_id: '1.5' }, "non-numeric 'job_id' param (1.5)"],
  [{ pipeline_name: 'app', vars: '{oops' }, 'query parameter vars is not valid JSON: {oops'],
] as const) {
  test(`containers filter refuses ${JSON.stringify(query)}: ${message}`, () => {
    assert.throws(() => containerFilterFrom(query), (err: unknown) => err instanceof ApiError && err.message.includes(message));
  });
}
