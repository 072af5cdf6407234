import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPipeline, formatDiagnostic, type Diagnostic } from '../../src/config/index.ts';
import { jobInputs } from '../../src/config/steps.ts';

/** Diagnostics as `line:col path: message` so a test can assert place and text at once. */
function show(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.column} ${d.path}: ${d.message}`);
}
function errors(yaml: string): string[] {
  return show(loadPipeline(yaml).errors);
}
function warnings(yaml: string): Diagnostic[] {
  return loadPipeline(yaml).warnings;
}
function hasError(yaml: string, fragment: string): void {
  const es = errors(yaml);
  assert.ok(es.some((e) => e.includes(fragment)), `expected "${fragment}" in ${JSON.stringify(es)}`);
}

const R = 'resources:\n- name: repo\n  type: mock\n';
const J = 'jobs:\n- name: build\n  plan:\n  - get: repo\n';

test('a valid pipeline has no errors and returns the config unchanged in shape', () => {
  const result = loadPipeline(R + J);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.config, { resources: [{ name: 'repo', type: 'mock' }], jobs: [{ name: 'build', plan: [{ get: 'repo' }] }] });
});

test('unknown top-level keys are dropped silently; unknown keys below are errors with their position', () => {
  const result = loadPipeline(`${R}${J}meta: {a: 1}\n`);
  assert.deepEqual(result.errors, []);
  assert.equal(result.config && 'meta' in result.config, false);
  assert.deepEqual(errors(`resources:\n- name: repo\n  type: mock\n  sauce: {}\n${J}`), ['4:3 resources.repo: unknown fields ["sauce"]']);
  assert.deepEqual(errors(`${R}jobs:\n- name: build\n  plan:\n  - task: t\n    config:\n      platform: linux\n      bogus: 1\n  - get: repo\n`), [
    '10:7 jobs.build.plan.do[0].task(t).config: unknown fields ["bogus"]',
  ]);
});

test('wrong types are errors at the value, with what was expected', () => {
  assert.deepEqual(errors(`${R}jobs:\n- name: build\n  plan:\n  - get: repo\n    trigger: "yes"\n`), [
    '8:14 jobs.build.plan.do[0].get(repo).trigger: expected boolean, got string "yes"',
  ]);
  hasError(`${R}jobs:\n- name: build\n  plan:\n  - get: repo\n    version: 3\n`, `expected string or a map, got number 3`);
  hasError(`${R}jobs:\n- name: build\n  plan:\n  - get: repo\n    passed: build\n`, 'expected a list, got string "build"');
});

// Concourse's VersionConfig (atc/steps.go) takes any string: `every` and `latest` mean what they
// say, any other string the default (latest)
for (const [version, want] of [
  ['every', 'every'],
  ['latest', 'latest'],
  ['first', 'latest'],
  ['"v1.2"', 'latest'],
  ['{ref: abc}', { ref: 'abc' }],
] as const) {
  test(`a get's version: ${version} is accepted and means ${JSON.stringify(want)}`, () => {
    const result = loadPipeline(`${R}jobs:\n- name: build\n  plan:\n  - get: repo\n    version: ${version}\n`);
    assert.deepEqual(show(result.errors), []);
    const job = result.config?.jobs?.[0];
    assert.ok(job);
    assert.deepEqual(jobInputs(job, ['build'])[0]?.version, want);
  });
}

test('YAML syntax errors and duplicate keys are diagnostics with positions', () => {
  assert.deepEqual(errors(`${R}jobs:\n- name: build\n  name: again\n  plan: [{get: repo}]\n`), [
    '6:3 : duplicate key (map keys must be unique)',
  ]);
  const syntax = loadPipeline('jobs: [\n');
  assert.equal(syntax.errors.length > 0, true);
  assert.match(syntax.errors[0]?.message ?? '', /^YAML: /);
  assert.equal(syntax.errors[0]?.line, 2);
});

test('every problem is reported in one run, in file order', () => {
  const yaml = `resources:
- name: repo
  type: mock
- name: unused
  type: mock
jobs:
- name: build
  plan:
  - get: repo
    trigerr: true
  - get: nope
  - task: t
  - put: repo
    attempts: 0
`;
  assert.deepEqual(errors(yaml), [
    "4:9 resources.unused.name: resource 'unused' is not used",
    '10:5 jobs.build.plan.do[0].get(repo): unknown fields ["trigerr"]',
    "11:10 jobs.build.plan.do[1].get(nope).get: unknown resource 'nope'",
    '12:5 jobs.build.plan.do[2].task(t): must specify either `file:` or `config:`',
    '14:15 jobs.build.plan.do[3].put(repo).attempts: must be greater than 0',
  ]);
});

test('identifiers: empty is an error, otherwise an invalid_identifier warning', () => {
  hasError(`resources:\n- name: ""\n  type: mock\n${J}`, 'identifier cannot be an empty string');
  const ws = warnings(`resources:\n- name: Repo_1\n  type: mock\njobs:\n- name: "123"\n  plan:\n  - get: Repo_1\n`);
  assert.deepEqual(
    ws.map((w) => [w.type, w.message]),
    [
      ['invalid_identifier', "'Repo_1' is not a valid identifier: must start with a lowercase letter or a number"],
      ['invalid_identifier', "'123' is not a valid identifier: cannot be just numbers"],
      ['invalid_identifier', "'Repo_1' is not a valid identifier: must start with a lowercase letter or a number"],
    ],
  );
  assert.equal(warnings(`resources:\n- name: a b\n  type: mock\njobs:\n- name: j\n  plan: [{get: a b}]\n`)[0]?.message.includes("illegal character ' '"), true);
});

test('groups: globs, unknown resources, duplicates and ungrouped jobs', () => {
  const yaml = `${R}${J}- name: other
  plan: [{get: repo}]
groups:
- name: g
  jobs: [bui*, "[", zzz]
  resources: [repo, ghost]
- name: g
  jobs: [build]
`;
  const es = errors(yaml);
  for (const f of [
    "invalid glob expression '[' for group 'g'",
    "no jobs match 'zzz' for group 'g'",
    "group 'g' has unknown resource 'ghost'",
    "group 'g' appears 2 times. Duplicate names are not allowed.",
    "job 'other' belongs to no group",
  ]) {
    assert.ok(es.some((e) => e.includes(f)), f);
  }
});

test('resources and resource types: names, types, duplicates', () => {
  hasError(`resources:\n- type: mock\n${J}`, 'resources[0] has no name');
  hasError(`resources:\n- name: repo\n${J}`, 'resources.repo: has no type');
  hasError(`resource_types:\n- name: t\n  type: mock\nprototypes:\n- name: t\n  type: mock\n${R}${J}`, "resource_types[0] and prototypes[0] have the same name ('t')");
  hasError(`resource_types:\n- name: t\n${R}${J}`, 'resource_types.t: has no type');
});

test('produces: only registry-image, only on resource types', () => {
  assert.deepEqual(errors(`resource_types:\n- name: t\n  type: registry-image\n  produces: registry-image\n${R}${J}`), []);
  assert.deepEqual(errors(`resource_types:\n- name: t\n  type: registry-image\n  produces: oci\n${R}${J}`), [
    "4:13 resource_types.t.produces: produces must be 'registry-image' (the only kind of artifact Jetway can use as an image), got 'oci'",
  ]);
  hasError(`prototypes:\n- name: p\n  type: mock\n  produces: registry-image\n${R}${J}`, 'unknown fields ["produces"]');
  hasError(`${R}- name: x\n  type: mock\n  produces: registry-image\n${J}`, 'unknown fields ["produces"]');
});

test('image references: tag or digest in repository, non-string tag; ports and vars are fine', () => {
  const res = (source: string, type = 'registry-image') =>
    `resources:\n- name: img\n  type: ${type}\n  source: ${source}\njobs:\n- name: j\n  plan: [{get: img}]\n`;
  assert.deepEqual(errors(res('{repository: "127.0.0.1:5000/team/app", tag: v1}')), []);
  assert.deepEqual(errors(res('{repository: ((registry))/team/app, tag: ((tag))}')), []);
  assert.deepEqual(errors(res('{repository: ((repo))}')), []);
  hasError(res('{repository: "alpine@sha256:abc"}'), "repository 'alpine@sha256:abc' carries a digest");
  hasError(res('{repository: "((registry))/app:v1"}'), 'carries a tag; write repository: ((registry))/app and tag: "v1"');
  assert.deepEqual(errors(res('{repository: alpine, tag: 3.19}')), [
    '4:37 resources.img.source.tag: tag must be a string, got a number (3.19); quote it in YAML: tag: "3.19" (YAML reads 3.10 as the number 3.1)',
  ]);
  // a mock resource's source is not an image reference
  assert.deepEqual(errors(res('{repository: "alpine:3.19"}', 'mock')), []);
  // a type that produces registry-image, and task image_resource
  hasError(
    `resource_types:\n- name: oci\n  type: registry-image\n  source: {repository: "x/y:1"}\n  produces: registry-image\n${R}jobs:\n- name: j\n  plan:\n  - get: repo\n  - task: t\n    config:\n      platform: linux\n      image_resource: {type: registry-image, source: {repository: "busybox:1"}}\n`,
    'jobs.j.plan.do[1].task(t).config.image_resource.source.repository: repository \'busybox:1\' carries a tag',
  );
  hasError(`resource_types:\n- name: oci\n  type: registry-image\n  source: {repository: "x/y:1"}\n${R}${J}`, "resource_types.oci.source.repository: repository 'x/y:1' carries a tag");
});

test('fetch_artifact: a boolean on get params and put get_params, an error in put params', () => {
  const j = (step: string) => `${R}jobs:\n- name: j\n  plan:\n  - ${step}\n`;
  assert.deepEqual(errors(j('{get: repo, params: {fetch_artifact: false}}')), []);
  assert.deepEqual(errors(j('{get: repo, params: {fetch_artifact: ((fetch))}}')), []);
  assert.deepEqual(errors(j('{get: repo, params: {fetch_artifact: 1}}')), [
    '7:42 jobs.j.plan.do[0].get(repo).params.fetch_artifact: fetch_artifact must be a boolean (true or false), got a number (1) (write fetch_artifact: true or false)',
  ]);
  hasError(j('{put: repo, get_params: {fetch_artifact: "yes"}}'), 'get_params.fetch_artifact: fetch_artifact must be a boolean (true or false), got a string ("yes")');
  hasError(j('{put: repo, params: {fetch_artifact: true}}'), 'fetch_artifact is a get step param');
});

// decision 5: set-pipeline's vars (`-v fa=true` gives a string) are read by the get step's own rule,
// so what set-pipeline accepts runs, and what the get step would refuse is refused before it is saved
const FETCH_VAR: { name: string; vars: Record<string, unknown>; saved?: unknown; error?: string }[] = [
  { name: '-v fa=true: the string "true" is accepted and saved as written', vars: { fa: 'true' }, saved: 'true' },
  { name: '-v fa=false: the string "false" is accepted', vars: { fa: 'false' }, saved: 'false' },
  { name: '-y fa=true: a boolean is accepted', vars: { fa: true }, saved: true },
  { name: 'no value for fa: checked when the get resolves it', vars: {}, saved: '((fa))' },
  { name: '-v fa=yes: another string is an error naming the param and the type', vars: { fa: 'yes' }, error: 'got a string ("yes")' },
  { name: '-y fa=1: a number is an error naming the param and the type', vars: { fa: 1 }, error: 'got a number (1)' },
  { name: '-y fa={a: 1}: a map is an error naming the param and the type', vars: { fa: { a: 1 } }, error: 'got a map' },
];
for (const row of FETCH_VAR) {
  test(`fetch_artifact: ((fa)) at set-pipeline, ${row.name}`, () => {
    const result = loadPipeline(`${R}jobs:\n- name: j\n  plan:\n  - get: repo\n    params: {fetch_artifact: ((fa)), depth: 1}\n`, { vars: row.vars });
    if (row.error === undefined) {
      assert.deepEqual(show(result.errors), []);
      assert.deepEqual(result.config?.jobs?.[0]?.plan?.[0], { get: 'repo', params: { fetch_artifact: row.saved, depth: 1 } });
    } else {
      assert.deepEqual(show(result.errors), [
        `8:30 jobs.j.plan.do[0].get(repo).params.fetch_artifact: fetch_artifact must be a boolean (true or false), ${row.error} (write fetch_artifact: true or false)`,
      ]);
      assert.equal(result.config, undefined);
    }
  });
}

// docs/image-features.md, decisions 6 and 9: a produces type builds image references from source.repository
test('produces: registry-image: a resource, type or image_resource of that type without a repository is a warning with its place', () => {
  const types = (defaults = '') => `resource_types:
- name: oci
  type: registry-image
  source: {repository: reg.test/oci}
  produces: registry-image${defaults}
- name: wrapped
  type: oci
  source: {tag: v1}
`;
  const yaml = (defaults = '', bundleSource = '{tag: v1}') => `${types(defaults)}resources:
- name: bundle
  type: oci
  source: ${bundleSource}
- name: bare
  type: oci
- name: whole
  type: oci
  source: ((bundle_source))
- name: fine
  type: oci
  source: {repository: reg.test/fine}
- name: by-var
  type: oci
  source: {repository: ((repo))}
- name: not-an-image
  type: wrapped
jobs:
- name: j
  plan:
  - get: bundle
  - get: bare
  - get: whole
  - get: fine
  - get: by-var
  - get: not-an-image
  - task: t
    config:
      platform: linux
      image_resource: {type: oci, source: {tag: v2}}
      run: {path: "true"}
`;
  const shown = (y: string): string[] => warnings(y).map((w) => `${w.line}:${w.column} ${w.path} ${w.type}: ${w.message}`);
  const tail = "declares produces: registry-image: its image reference is built from source.repository, so fetching it will fail";
  assert.deepEqual(errors(yaml()), []);
  assert.deepEqual(shown(yaml()), [
    `8:11 resource_types.wrapped.source pipeline: resource type 'wrapped' has no repository in its source, but its type 'oci' ${tail}`,
    `12:11 resources.bundle.source pipeline: resource 'bundle' has no repository in its source, but its type 'oci' ${tail}`,
    `13:3 resources.bare pipeline: resource 'bare' has no repository in its source, but its type 'oci' ${tail}`,
    `38:43 jobs.j.plan.do[6].task(t).config.image_resource.source pipeline: the image_resource of task 't' has no repository in its source, but its type 'oci' ${tail}`,
  ]);
  // the type's defaults give the repository: nothing to warn about
  assert.deepEqual(shown(yaml('\n  defaults: {repository: reg.test/default}')), []);
  assert.deepEqual(shown(yaml('\n  defaults: ((oci_defaults))')), []);
  // defaults without a repository give none: the same warnings (a survivor of validate.ts's mutation sample)
  assert.deepEqual(shown(yaml('\n  defaults: {tag: v9}')).length, 4);
});

test('jobs: at least one, names, retention', () => {
  hasError(R, 'jobs: pipeline must contain at least one job');
  hasError(`${R}jobs:\n- plan: [{get: repo}]\n`, 'jobs[0] has no name');
  hasError(`${R}${J}- name: build\n  plan: [{get: repo}]\n`, "jobs[0] and jobs[1] have the same name ('build')");
  const retention = `${R}jobs:\n- name: j\n  build_logs_to_retain: 3\n  build_log_retention: {builds: 2, minimum_succeeded_builds: 5, days: -1}\n  plan: [{get: repo}]\n`;
  const es = errors(retention);
  assert.ok(es.some((e) => e.includes("can't use both build_log_retention and build_logs_to_retain")));
  assert.ok(es.some((e) => e.includes('days cannot be negative')));
  assert.ok(es.some((e) => e.includes('min_success_builds (5) cannot be greater than builds (2)')));
  assert.deepEqual(warnings(retention).map((w) => w.type), ['deprecated_field']);
});

test('passed: unknown jobs, globs, jobs that never touch the resource, cycles', () => {
  const yaml = `${R}- name: other
  type: mock
jobs:
- name: a
  plan: [{get: other}]
- name: b
  plan:
  - get: repo
    passed: [a, nope, "x*"]
  - get: other
    passed: [a]
`;
  assert.deepEqual(errors(yaml), [
    "12:14 jobs.b.plan.do[0].get(repo).passed[0]: job 'a' does not interact with resource 'repo'",
    "12:17 jobs.b.plan.do[0].get(repo).passed[1]: no matching job(s) for 'nope'",
    "12:23 jobs.b.plan.do[0].get(repo).passed[2]: no matching job(s) for 'x*'",
  ]);
  hasError(`${R}jobs:\n- name: a\n  plan: [{get: repo, passed: [a]}]\n`, "pipeline contains a cycle that starts at Job 'a'");
});

test('steps: repeated get names, task config checks, set_pipeline/load_var files, across, run prototypes', () => {
  const yaml = `${R}prototypes:
- name: proto
  type: mock
jobs:
- name: j
  plan:
  - get: repo
  - get: repo
  - task: t
    image: repo
    config:
      image_resource: {type: mock}
      inputs: [{path: x}]
      outputs: [{}]
  - set_pipeline: p
  - load_var: v
  - across: []
    do: []
  - across:
    - {var: x, max_in_flight: 0}
    - {var: x}
    run: hello
    type: proto
  - run: hi
    type: nope
`;
  const es = errors(yaml);
  for (const f of [
    "plan.do[1].get(repo): repeated name 'repo'",
    "task(t).config: missing 'platform'",
    'input in position 0 is missing a name',
    'output in position 0 is missing a name',
    'plan.do[3].set_pipeline(p): no file specified',
    'plan.do[4].load_var(v): no file specified',
    'plan.do[5].do.across: no vars specified',
    'max_in_flight must be greater than 0, got 0',
    "repeated var name 'x'",
    "plan.do[7].run(hi).type: unknown prototype 'nope'",
  ]) {
    assert.ok(es.some((e) => e.includes(f)), `${f} in ${JSON.stringify(es)}`);
  }
  assert.deepEqual(
    warnings(yaml).map((w) => w.type),
    ['pipeline'],
  );
});

test('warnings: var_shadowed for a local var declared again, hermetic', () => {
  const yaml = `${R}jobs:
- name: j
  plan:
  - get: repo
  - load_var: v
    file: repo/v
  - across: [{var: v, values: [1]}]
    task: t
    hermetic: true
    file: repo/t.yml
`;
  assert.deepEqual(
    warnings(yaml).map((w) => `${w.line}:${w.column} ${w.path} ${w.type}: ${w.message}`),
    [
      "10:20 jobs.j.plan.do[2].task(t).across[0].var var_shadowed: shadows local var 'v'",
      '12:15 jobs.j.plan.do[2].task(t).hermetic pipeline: hermetic is only supported by the containerd runtime',
    ],
  );
});

test('timeouts and durations use Go syntax; check_every also accepts never', () => {
  assert.deepEqual(errors(`resources:\n- name: repo\n  type: mock\n  check_every: never\n  check_timeout: 1h30m\n${J}`), []);
  hasError(`resources:\n- name: repo\n  type: mock\n  check_every: 5 minutes\n${J}`, "invalid duration '5 minutes'");
  hasError(`${R}jobs:\n- name: j\n  plan:\n  - do: [{get: repo}]\n    timeout: 10x\n`, "jobs.j.plan.do[0].do.timeout: invalid duration '10x'");
});

test('display: background_image must be an http(s) or relative URL', () => {
  assert.deepEqual(errors(`${R}${J}display: {background_image: /img.png}\n`), []);
  hasError(`${R}${J}display: {background_image: "ftp://x/img.png"}\n`, 'background_image scheme must be http, https or relative');
});

test('var sources: types, duplicates, dependency cycles', () => {
  const yaml = `${R}${J}var_sources:
- {name: a, type: vault, config: {x: ((b:y))}}
- {name: b, type: dummy, config: {x: ((a:y))}}
- {name: c, type: kubernetes}
- {name: c, type: nosuch}
`;
  const es = errors(yaml);
  for (const f of [
    'credential manager type kubernetes is not supported in pipeline yet',
    'unknown credential manager type: nosuch',
    "var_sources[2] and var_sources[3] have the same name ('c')",
    'could not resolve inter-dependent var sources: a, b',
  ]) {
    assert.ok(es.some((e) => e.includes(f)), f);
  }
});

test('formatDiagnostic prints file:line:col: severity: path: message', () => {
  const d = loadPipeline(`${R}jobs:\n- name: j\n  plan: [{get: nope}]\n`, { file: 'p.yml' }).errors;
  assert.deepEqual(d.map(formatDiagnostic), [
    "p.yml:2:9: error: resources.repo.name: resource 'repo' is not used",
    "p.yml:6:16: error: jobs.j.plan.do[0].get(nope).get: unknown resource 'nope'",
  ]);
});

test('anchors and aliases: positions point into the anchored text', () => {
  const yaml = `${R}jobs:\n- name: a\n  plan:\n  - &g {get: repo, bogus: 1}\n- name: b\n  plan:\n  - *g\n`;
  const es = errors(yaml);
  assert.deepEqual(es, ['7:20 jobs.a.plan.do[0].get(repo): unknown fields ["bogus"]', '7:20 jobs.b.plan.do[0].get(repo): unknown fields ["bogus"]']);
});

// load_var names in scopes as Concourse's StepValidator keeps them (atc/step_validator.go
// declareLocalVar): the job's plan is one scope, each across step opens one with its vars
const LV = (name: string) => `{load_var: ${name}, file: f/${name}.json}`;
for (const [what, plan, want] of [
  ['two load_vars of one name in a plan', `[${LV('v')}, ${LV('v')}]`, ["error: repeated var name 'v'"]],
  ['two load_vars of different names', `[${LV('v')}, ${LV('w')}]`, []],
  ['a load_var inside an across of the same var', `[{across: [{var: v, values: [1]}], do: [${LV('v')}]}]`, ["error: repeated var name 'v'"]],
  ['a load_var inside an across that shadows an outer load_var', `[${LV('v')}, {across: [{var: w, values: [1]}], do: [${LV('v')}]}]`, ["warning: shadows local var 'v'"]],
  ['the same load_var in two sibling across steps', `[{across: [{var: a, values: [1]}], do: [${LV('v')}]}, {across: [{var: b, values: [1]}], do: [${LV('v')}]}]`, []],
] as const) {
  test(`load_var scopes: ${what}`, () => {
    const result = loadPipeline(`${R}jobs:\n- name: lv\n  plan: ${plan}\n`);
    const found = [
      ...result.errors.filter((d) => /repeated var name/.test(d.message)).map((d) => `error: ${d.message}`),
      ...result.warnings.filter((d) => /shadows local var/.test(d.message)).map((d) => `warning: ${d.message}`),
    ];
    assert.deepEqual(found, want);
  });
}
