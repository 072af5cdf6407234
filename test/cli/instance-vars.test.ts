// Instanced pipelines from the command line: `-p name/key:value[,key:value]` and
// `-j name/key:value/job`, read as fly reads them (fly/commands/internal/flaghelpers/
// instance_vars_flag.go and its _test.go rows; job_flag.go, pipeline_flag.go), sent to the API as
// `?vars=<json>`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { instanceVarsFromFlags, parseInstanceVars, parseJobFlag, parsePipelineFlag, refString } from '../../src/cli/client/pipeline-ref.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliExit } from '../../src/cli/io.ts';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';

// ---------------------------------------------------------------- the parser (instance_vars_flag_test.go's rows)

for (const [flag, want] of [
  ['branch:master', { branch: 'master' }],
  ['branch:master,list:[1, "2"],other:{foo:bar: 123}', { branch: 'master', list: [1, '2'], other: { 'foo:bar': 123 } }],
  ['field1:{a: "{", b: "["},field2:hello', { field1: { a: '{', b: '[' }, field2: 'hello' }],
  ["field1:{a: '{', b: '['},field2:hello", { field1: { a: '{', b: '[' }, field2: 'hello' }],
  ['field1:,field2:"",field3:null', { field1: null, field2: '', field3: null }],
  ["field:[{a: '{', b: '['}, 1]", { field: [{ a: '{', b: '[' }, 1] }],
  ['field.0:0,field.1:1', { field: { '0': 0, '1': 1 } }],
  ['branch: master, other: 123', { branch: 'master', other: 123 }],
  ['"some.field:here":abc', { 'some.field:here': 'abc' }],
  [`field1:'foo,bar',field2:"value1:value2"`, { field1: 'foo,bar', field2: 'value1:value2' }],
  [`"my.field".subkey1."subkey:2":"my-value","my.field".other:'other-value'`, { 'my.field': { subkey1: { 'subkey:2': 'my-value' }, other: 'other-value' } }],
  ['enabled:yes', { enabled: true }],
] as const) {
  test(`instance vars ${flag} read as ${JSON.stringify(want)}`, () => {
    assert.deepEqual(parseInstanceVars(flag), want);
  });
}

for (const [flag, message] of [
  ['"my.field".:bad', /^invalid var '"my\.field"\.': empty field$/],
  ['hello:{bad: yaml', /^invalid value for key 'hello': /],
  ['no-colon', /^instance vars should be formatted as <key1:value1>\(,<key2:value2>\)$/],
] as const) {
  test(`instance vars ${flag} are refused: ${String(message)}`, () => {
    assert.throws(() => parseInstanceVars(flag), { message });
  });
}

// ---------------------------------------------------------------- how a pipeline is shown (atc/pipeline_test.go's String rows)

for (const [vars, want] of [
  [undefined, 'some-pipeline'],
  [{ 'field.1': { 'subfield:1': 1, 'subfield 2': ['1', 2, { k: 'v' }] }, other: 'field' }, 'some-pipeline/"field.1"."subfield 2":["1",2,{"k":"v"}],"field.1"."subfield:1":1,other:field'],
  [{ b: { foo: 1, bar: ['1', 2] }, a: 'hello.world' }, 'some-pipeline/a:hello.world,b.bar:["1",2],b.foo:1'],
  [{ colon: 'a:b', comma: 'a,b', space: 'a b', slash: 'a/b' }, 'some-pipeline/colon:"a:b",comma:"a,b",slash:"a/b",space:"a b"'],
  [{ int: '123', float: '4e+6', bool: 'true', weird_bool: 'yes', empty: '' }, 'some-pipeline/bool:"true",empty:"",float:"4e+6",int:"123",weird_bool:"yes"'],
  [{ int: 123, float: 123.456, bool: true, nil: null }, 'some-pipeline/bool:true,float:123.456,int:123,nil:null'],
] as const) {
  test(`a pipeline with vars ${JSON.stringify(vars)} is shown as ${want}`, () => {
    assert.equal(refString({ name: 'some-pipeline', instanceVars: vars }), want);
  });
}

const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CliExit);
    return err.message;
  }
  assert.fail('expected a usage error');
};

for (const [value, want] of [
  ['main', { name: 'main' }],
  ['main/branch:dev', { name: 'main', instanceVars: { branch: 'dev' } }],
  ['main/branch:feature/x', { name: 'main', instanceVars: { branch: 'feature/x' } }],
] as const) {
  test(`-p ${value} names ${JSON.stringify(want)} (pipeline_flag.go)`, () => {
    assert.deepEqual(parsePipelineFlag(value), want);
  });
}

for (const [value, want] of [
  ['p/unit', [{ name: 'p' }, 'unit']],
  ['p/branch:dev/unit', [{ name: 'p', instanceVars: { branch: 'dev' } }, 'unit']],
  ['p/branch:dev,n:2/unit', [{ name: 'p', instanceVars: { branch: 'dev', n: 2 } }, 'unit']],
] as const) {
  test(`-j ${value} names ${JSON.stringify(want)} (job_flag.go: the job after the last '/')`, () => {
    assert.deepEqual(parseJobFlag(value, '-j, --job', 'job'), want);
  });
}

for (const [value, message] of [
  ['unit', "error: -j, --job: argument format should be <pipeline>/<job> (got 'unit')"],
  ['p/', "error: -j, --job: argument format should be <pipeline>/<job> (got 'p/')"],
  ['p/nocolon/unit', 'error: -j, --job: instance vars should be formatted as <key1:value1>(,<key2:value2>)'],
  ['p/a:{x/unit', "error: -j, --job: invalid value for key 'a': "],
] as const) {
  test(`-j ${value} is refused naming the flag`, () => {
    assert.ok(usage(() => parseJobFlag(value, '-j, --job', 'job')).startsWith(message));
  });
}

// ---------------------------------------------------------------- set-pipeline -i (fly/commands/set_pipeline.go: YAMLVariablePairFlag, KVPairs.Expand)

for (const [flags, want] of [
  [['branch=main'], { branch: 'main' }],
  [['n=2', 'on=true', 'list=[1, "a"]'], { n: 2, on: true, list: [1, 'a'] }],
  [['a.b=1', 'a.c=x'], { a: { b: 1, c: 'x' } }],
  [['branch=main', 'branch=dev'], { branch: 'dev' }],
  [['empty='], { empty: null }],
  [['url=http://x/?a=b'], { url: 'http://x/?a=b' }],
] as const) {
  test(`set-pipeline -i ${flags.join(' -i ')} is ${JSON.stringify(want)}`, () => {
    assert.deepEqual(instanceVarsFromFlags(flags), want);
  });
}
test('set-pipeline without -i is not instanced', () => assert.equal(instanceVarsFromFlags([]), undefined));
for (const [flag, message] of [
  ['branch', "error: -i, --instance-var 'branch': expected NAME=VALUE"],
  ['=x', "error: -i, --instance-var '=x': expected NAME=VALUE"],
  ['a..b=1', "error: -i, --instance-var 'a..b=1': 'a..b' has an empty field"],
  ['a={x', "error: -i, --instance-var 'a={x': the value is not YAML ("],
] as const) {
  test(`set-pipeline -i ${flag} is refused naming the flag`, () => {
    assert.ok(usage(() => instanceVarsFromFlags([flag])).startsWith(message), usage(() => instanceVarsFromFlags([flag])));
  });
}

// ---------------------------------------------------------------- against a web node

let s: CliServer;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  for (const branch of ['main', 'dev']) {
    const res = await s.api.app.inject({
      method: 'PUT',
      url: `/api/v1/teams/main/pipelines/inst/config?vars=${encodeURIComponent(JSON.stringify({ branch }))}`,
      headers: { ...s.api.auth(), 'content-type': 'application/x-yaml' },
      payload: PIPELINE.replace('((repo_uri))', `git://${branch}`),
    });
    assert.equal(res.statusCode, 201, res.body);
  }
});
after(() => s.close());

const paused = async (branch: string): Promise<boolean> => {
  const res = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/inst?vars.branch=${encodeURIComponent(JSON.stringify(branch))}`, headers: s.api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { paused: boolean }).paused;
};

test('-p name/key:value picks one instance: get-pipeline shows its config, pause-pipeline pauses only it', async () => {
  const config = await jetway('get-pipeline', '-t', 'ci', '-p', 'inst/branch:dev', '--json');
  assert.equal(config.code, 0, config.err);
  assert.match(config.out, /git:\/\/dev/);
  assert.doesNotMatch(config.out, /git:\/\/main/);

  const before = [await paused('main'), await paused('dev')];
  const r = await jetway('unpause-pipeline', '-t', 'ci', '-p', 'inst/branch:dev');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "unpaused 'inst/branch:dev'\n");
  assert.deepEqual([await paused('main'), await paused('dev')], [before[0], false]);
});

test('-j name/key:value/job triggers the job of that instance; a plain name finds no pipeline', async () => {
  const r = await jetway('trigger-job', '-t', 'ci', '-j', 'inst/branch:main/unit');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^started inst\/branch:main\/unit #1\n/);
  const builds = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/inst/jobs/unit/builds?vars=${encodeURIComponent('{"branch":"main"}')}`, headers: s.api.auth() });
  assert.equal((builds.json() as unknown[]).length, 1);
  const other = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/inst/jobs/unit/builds?vars=${encodeURIComponent('{"branch":"dev"}')}`, headers: s.api.auth() });
  assert.equal((other.json() as unknown[]).length, 0);

  const plain = await jetway('jobs', '-t', 'ci', '-p', 'inst');
  assert.equal(plain.code, 1);
  assert.match(plain.err, /pipeline main\/inst not found/);
});

test('a bad instance var is a usage error naming the flag, and nothing is sent', async () => {
  const r = await jetway('pause-job', '-t', 'ci', '-j', 'inst/branch/unit');
  assert.equal(r.code, 2);
  assert.equal(r.err, 'error: -j, --job: instance vars should be formatted as <key1:value1>(,<key2:value2>)\n');
});

test('set-pipeline -i sets one instance, with its instance vars as vars of its config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jw-iv-'));
  const file = join(dir, 'p.yml');
  writeFileSync(file, 'jobs:\n- name: unit\n  plan:\n  - task: t\n    config:\n      platform: linux\n      run: {path: echo, args: [((branch)), ((deploy.region))]}\n');
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'sp', '-c', file, '-i', 'branch=feature', '-i', 'deploy.region=eu', '-n');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^creating pipeline sp\/branch:feature,deploy\.region:eu:\n/);
  assert.match(r.out, /#\/teams\/main\/pipelines\/sp\?vars\.branch=%22feature%22&vars\.deploy=%7B%22region%22%3A%22eu%22%7D\n/);
  assert.match(r.out, /jetway unpause-pipeline -t ci -p sp\/branch:feature,deploy.region:eu\n/);
  const vars = encodeURIComponent(JSON.stringify({ branch: 'feature', deploy: { region: 'eu' } }));
  const res = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/sp/config?vars=${vars}`, headers: s.api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.body, /"args":\["feature","eu"\]/);
  // the instance, not a plain pipeline of that name
  const plain = await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/sp', headers: s.api.auth() });
  assert.equal(plain.statusCode, 404);
  // setting it again with the same instance vars finds it
  const again = await jetway('set-pipeline', '-t', 'ci', '-p', 'sp', '-c', file, '-i', 'branch=feature', '-i', 'deploy.region=eu', '-n');
  assert.equal(again.out, 'no changes to apply\n');
});

// fly/commands/ordering_instanced_pipeline.go
test('order-instanced-pipelines -g GROUP -p key:value ... orders the instances; an unknown one changes nothing', async () => {
  const order = async (): Promise<string[]> => {
    const res = await s.api.app.inject({ url: '/api/v1/teams/main/pipelines', headers: s.api.auth() });
    return (res.json() as { name: string; instance_vars?: { branch: string } }[]).filter((p) => p.name === 'inst').map((p) => p.instance_vars?.branch ?? '');
  };
  const r = await jetway('order-instanced-pipelines', '-t', 'ci', '-g', 'inst', '-p', 'branch:dev', '-p', 'branch:main');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'ordered instanced pipelines:\n  - inst/branch:dev\n  - inst/branch:main\n');
  assert.deepEqual(await order(), ['dev', 'main']);
  const again = await jetway('oip', '-t', 'ci', '-g', 'inst', '-p', 'branch:main');
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(await order(), ['main', 'dev']);
  const unknown = await jetway('order-instanced-pipelines', '-t', 'ci', '-g', 'inst', '-p', 'branch:dev', '-p', 'branch:nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /pipeline main\/inst\{"branch":"nope"\} not found \(the order was not changed\)/);
  assert.deepEqual(await order(), ['main', 'dev']);
  const bad = await jetway('order-instanced-pipelines', '-t', 'ci', '-g', 'inst', '-p', 'branch');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^error: -p, --pipeline 'branch': /);
  const noGroup = await jetway('order-instanced-pipelines', '-t', 'ci', '-p', 'branch:dev');
  assert.equal(noGroup.code, 2);
  assert.match(noGroup.err, /required option -g, --group <name> not specified/);
});
