import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInstanceVars, groupByTeam, matchesSearch, parseDashboardSearch, pipelineRef, type SearchedPipeline } from '../../src/ui/app/pipelines.ts';

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

// ---------------------------------------------------------------- the dashboard's search

const card = (over: Partial<SearchedPipeline> = {}): SearchedPipeline => ({ team: 'main', name: 'hello', vars: '', status: 'succeeded', running: false, ...over });

const searches: { name: string; text: string; pipeline: SearchedPipeline; matches: boolean }[] = [
  { name: 'an empty search matches everything', text: '  ', pipeline: card(), matches: true },
  { name: 'part of the name matches, whatever its case', text: 'HEL', pipeline: card(), matches: true },
  { name: 'a word the name lacks does not', text: 'hel world', pipeline: card(), matches: false },
  { name: 'instance vars match as words', text: 'feature', pipeline: card({ name: 'release', vars: 'branch: feature/x' }), matches: true },
  { name: 'team: names the team', text: 'team:ops', pipeline: card({ team: 'ops' }), matches: true },
  { name: "team: leaves other teams' pipelines out", text: 'team:ops', pipeline: card(), matches: false },
  { name: 'two team: terms match either team', text: 'team:ops team:main', pipeline: card(), matches: true },
  { name: 'status: names the colour', text: 'status:failed', pipeline: card({ status: 'failed' }), matches: true },
  { name: 'status: leaves other colours out', text: 'status:failed', pipeline: card({ status: 'errored' }), matches: false },
  { name: 'status:running matches a pipeline with a build running', text: 'status:running', pipeline: card({ running: true }), matches: true },
  { name: 'status:running leaves idle pipelines out', text: 'status:running', pipeline: card(), matches: false },
  { name: 'every kind of term together', text: 'team:main status:paused hel', pipeline: card({ status: 'paused' }), matches: true },
  { name: 'an empty team: is a word, not a filter', text: 'team:', pipeline: card(), matches: false },
];

for (const s of searches) {
  test(`dashboard search: ${s.name}`, () => {
    assert.equal(matchesSearch(parseDashboardSearch(s.text), s.pipeline), s.matches);
  });
}
