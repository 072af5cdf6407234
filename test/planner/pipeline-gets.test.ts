// completePipelineGets (src/planner/planner.ts): the gets of a plan sent to CreatePipelineBuild
// that name only a pipeline resource, planned as the pipeline's jobs plan them. One row per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completePipelineGets } from '../../src/planner/planner.ts';
import type { Resource, ResourceType } from '../../src/config/schema.ts';

const resources = [
  { name: 'repo', type: 'git', source: { uri: 'https://example.com/r.git' } },
  { name: 'art', type: 's3-custom', source: { bucket: 'b' } },
] as unknown as Resource[];
const resourceTypes = [{ name: 's3-custom', type: 'registry-image', source: { repository: 'example/s3' } }] as unknown as ResourceType[];
const get = (g: Record<string, unknown>, id = '2') => ({ id, get: g });

const rows: { name: string; plan: unknown; check: (out: { plan: unknown; errors: string[] }) => void }[] = [
  {
    name: "a base type's get: its type, source and version, the base type as its image, the step's id kept",
    plan: { id: '1', do: [get({ name: 'repo', resource: 'repo', version: { ref: 'abc' } })] },
    check: ({ plan, errors }) => {
      assert.deepEqual(errors, []);
      assert.deepEqual(plan, { id: '1', do: [{ id: '2', get: { name: 'repo', type: 'git', resource: 'repo', source: { uri: 'https://example.com/r.git' }, version: { ref: 'abc' }, image: { base_type: 'git' } } }] });
    },
  },
  {
    name: "a custom type's get carries the type's image check and get plans",
    plan: get({ name: 'a', resource: 'art', version: { v: '1' } }),
    check: ({ plan, errors }) => {
      assert.deepEqual(errors, []);
      const g = (plan as { get: { type: string; image: { get_plan?: unknown; check_plan?: unknown } } }).get;
      assert.equal(g.type, 's3-custom');
      assert.ok(g.image.get_plan && g.image.check_plan, JSON.stringify(g.image));
    },
  },
  {
    name: 'a get with its own type is left as it is (a one-off get with its source inline)',
    plan: get({ name: 'x', resource: 'repo', type: 'mock', source: {}, version: { v: '1' } }),
    check: ({ plan, errors }) => {
      assert.deepEqual(errors, []);
      assert.deepEqual(plan, get({ name: 'x', resource: 'repo', type: 'mock', source: {}, version: { v: '1' } }));
    },
  },
  {
    name: 'a resource the pipeline does not have is an error naming it and its place; nothing is completed',
    plan: { id: '1', do: [get({ name: 'repo', resource: 'repo', version: { ref: 'a' } }), get({ name: 'n', resource: 'nope', version: { v: '1' } }, '3')] },
    check: ({ plan, errors }) => {
      assert.deepEqual(errors, ["plan.do[1].get.resource: the pipeline has no resource 'nope'"]);
      assert.equal((plan as { do: { get: { type?: string } }[] }).do[0]?.get.type, undefined);
    },
  },
  {
    name: 'a get without a version is an error (the build fetches what it is told)',
    plan: get({ name: 'repo', resource: 'repo' }),
    check: ({ errors }) => assert.deepEqual(errors, ["plan.get.version: a get of pipeline resource 'repo' needs the version to fetch"]),
  },
  {
    name: 'uploads and tasks are untouched',
    plan: { id: '1', in_parallel: { steps: [{ id: '2', artifact_input: { artifact_id: 7, name: 'src' } }] } },
    check: ({ plan, errors }) => {
      assert.deepEqual(errors, []);
      assert.deepEqual(plan, { id: '1', in_parallel: { steps: [{ id: '2', artifact_input: { artifact_id: 7, name: 'src' } }] } });
    },
  },
];
for (const row of rows) test(`completePipelineGets: ${row.name}`, () => row.check(completePipelineGets(row.plan, resources, resourceTypes)));
