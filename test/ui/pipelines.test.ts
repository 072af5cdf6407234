import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInstanceVars, groupByTeam, pipelineRef } from '../../src/ui/app/pipelines.ts';

const p = (team_name: string, name: string) => ({ team_name, name });

const groupCases: { name: string; pipelines: { team_name: string; name: string }[]; groups: { team: string; names: string[] }[] }[] = [
  { name: 'no pipelines, no teams', pipelines: [], groups: [] },
  { name: 'one team', pipelines: [p('main', 'a'), p('main', 'b')], groups: [{ team: 'main', names: ['a', 'b'] }] },
  {
    name: "teams and pipelines in the API's order",
    pipelines: [p('alpha', 'z'), p('alpha', 'a'), p('main', 'hello'), p('ops', 'hello')],
    groups: [
      { team: 'alpha', names: ['z', 'a'] },
      { team: 'main', names: ['hello'] },
      { team: 'ops', names: ['hello'] },
    ],
  },
  {
    name: "a team listed again joins its first place",
    pipelines: [p('ops', 'x'), p('main', 'y'), p('ops', 'z')],
    groups: [
      { team: 'ops', names: ['x', 'z'] },
      { team: 'main', names: ['y'] },
    ],
  },
];

for (const c of groupCases) {
  test(`groupByTeam: ${c.name}`, () => {
    assert.deepEqual(
      groupByTeam(c.pipelines).map((g) => ({ team: g.team, names: g.pipelines.map((x) => x.name) })),
      c.groups,
    );
  });
}

test('groupByTeam keeps the pipelines themselves', () => {
  const list = [p('main', 'a'), p('main', 'a')];
  const [group] = groupByTeam(list);
  assert.equal(group?.pipelines[0], list[0]);
  assert.equal(group?.pipelines[1], list[1]);
});

const varCases: [Record<string, unknown> | undefined, string][] = [
  [undefined, ''],
  [{}, ''],
  [{ branch: 'main' }, 'branch: main'],
  [{ branch: 'feature/a b', n: 2, on: true, none: null }, 'branch: feature/a b, n: 2, on: true, none: null'],
  [{ nested: { list: [1, 'x'] } }, 'nested: {"list":[1,"x"]}'],
];

for (const [vars, text] of varCases) {
  test(`formatInstanceVars ${JSON.stringify(vars)}`, () => {
    assert.equal(formatInstanceVars(vars), text);
  });
}

test("a listed pipeline's page: its team, and its vars when it is instanced", () => {
  assert.deepEqual(pipelineRef({ team_name: 'ops', name: 'hello' }), { team: 'ops', pipeline: 'hello' });
  assert.deepEqual(pipelineRef({ team_name: 'main', name: 'release', instance_vars: { branch: 'a' } }), { team: 'main', pipeline: 'release', vars: { branch: 'a' } });
  assert.deepEqual(pipelineRef({ team_name: 'main', name: 'release', instance_vars: {} }), { team: 'main', pipeline: 'release' });
});
