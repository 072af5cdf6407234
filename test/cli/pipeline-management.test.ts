// archive-pipeline, order-pipelines, expose-pipeline and hide-pipeline, and how `pipelines` and
// `set-pipeline` treat archived pipelines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setPromptInput } from '../../src/cli/client/common.ts';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';

let s: CliServer;
let file: string;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  for (const name of ['alpha', 'bravo', 'charlie']) {
    assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', name, '-c', file, '-n')).code, 0);
  }
});
after(async () => {
  setPromptInput(undefined);
  await s.close();
});

type Pipeline = { name: string; paused: boolean; public: boolean; archived: boolean };

async function pipeline(name: string): Promise<Pipeline> {
  const res = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/${name}`, headers: s.api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Pipeline;
}

async function listed(...flags: string[]): Promise<string[]> {
  const r = await jetway('pipelines', '-t', 'ci', '--json', ...flags);
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out) as Pipeline[]).map((p) => p.name);
}

test('archive-pipeline asks first (no: nothing changes); -n archives without asking', async () => {
  setPromptInput(Readable.from(['n\n']));
  const no = await jetway('archive-pipeline', '-t', 'ci', '-p', 'charlie');
  setPromptInput(undefined);
  assert.equal(no.code, 1);
  assert.equal(no.out, "archive pipeline 'charlie'? [yN]: ");
  assert.equal(no.err, 'bailing out\n');
  assert.equal((await pipeline('charlie')).archived, false);

  assert.equal((await jetway('unpause-pipeline', '-t', 'ci', '-p', 'charlie')).code, 0);
  setPromptInput(Readable.from(['y\n']));
  const yes = await jetway('archive-pipeline', '-t', 'ci', '-p', 'charlie');
  setPromptInput(undefined);
  assert.equal(yes.code, 0, yes.err);
  assert.equal(yes.out, "archive pipeline 'charlie'? [yN]: archived 'charlie'\n");
  const charlie = await pipeline('charlie');
  assert.deepEqual([charlie.archived, charlie.paused], [true, true]);

  const n = await jetway('archive-pipeline', '-t', 'ci', '-p', 'bravo', '-n');
  assert.equal(n.code, 0, n.err);
  assert.equal(n.out, "archived 'bravo'\n");
  assert.equal((await pipeline('bravo')).archived, true);
});

test('pipelines hides archived pipelines unless --include-archived, which adds an archived column', async () => {
  assert.deepEqual(await listed(), ['alpha']);
  assert.deepEqual(await listed('--all'), ['alpha']);
  const json = await jetway('pipelines', '-t', 'ci', '--json', '--include-archived');
  const all = JSON.parse(json.out) as Pipeline[];
  assert.deepEqual(
    all.map((p) => [p.name, p.archived]),
    [
      ['alpha', false],
      ['bravo', true],
      ['charlie', true],
    ],
  );
  const table = await jetway('pipelines', '-t', 'ci', '--include-archived');
  assert.equal(table.code, 0, table.err);
  const lines = table.out.trimEnd().split('\n');
  // fly/commands/pipelines.go: --include-archived adds the archived column before last updated
  assert.match(lines[0] ?? '', /^id {2}name {5}paused {2}public {2}archived {2}last updated$/);
  assert.match(lines[1] ?? '', /^\d+ +alpha {4}yes {5}no {6}no {8}\d{4}-/);
  assert.match(lines[3] ?? '', /^\d+ +charlie {2}yes {5}no {6}yes {7}\d{4}-/);
  const plain = await jetway('pipelines', '-t', 'ci');
  assert.doesNotMatch(plain.out, /archived|bravo|charlie/);
});

test('an archived pipeline cannot be unpaused or triggered: exit 1 with the server message', async () => {
  const unpause = await jetway('unpause-pipeline', '-t', 'ci', '-p', 'charlie');
  assert.equal(unpause.code, 1);
  assert.equal(unpause.err, "error: pipeline 'charlie' is archived; set it again to unarchive it (HTTP 409)\n");
  const trigger = await jetway('trigger-job', '-t', 'ci', '-j', 'charlie/unit');
  assert.equal(trigger.code, 1);
  assert.match(trigger.err, /job unit belongs to an archived pipeline \(HTTP 409\)/);
});

test('set-pipeline unarchives an archived pipeline, even with an unchanged config; it stays paused', async () => {
  // an archived pipeline's config is not served, as Concourse's: the CLI sets it as a new one
  const config = await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/charlie/config', headers: s.api.auth() });
  assert.equal(config.statusCode, 404);
  assert.match(config.body, /pipeline main\/charlie not found/);
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'charlie', '-c', file, '-n');
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.startsWith('pipeline charlie is archived: setting it again unarchives it (it stays paused)\nchanges to pipeline charlie:\n'), r.out);
  assert.ok(r.out.endsWith('\nconfiguration updated\n'), r.out);
  assert.equal((await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/charlie/config', headers: s.api.auth() })).statusCode, 200);
  const charlie = await pipeline('charlie');
  assert.deepEqual([charlie.archived, charlie.paused], [false, true]);
  assert.deepEqual(await listed(), ['alpha', 'charlie']);
  // not archived: unchanged means nothing to do
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'charlie', '-c', file, '-n')).out, 'no changes to apply\n');
});

test('order-pipelines: -p repeated puts those first, in order; --alphabetical orders them all', async () => {
  const r = await jetway('order-pipelines', '-t', 'ci', '-p', 'charlie', '-p', 'bravo');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'ordered pipelines:\n  - charlie\n  - bravo\n');
  assert.deepEqual(await listed('--include-archived'), ['charlie', 'bravo', 'alpha']);
  assert.deepEqual(await listed(), ['charlie', 'alpha'], 'the listing follows the order');
  const table = await jetway('pipelines', '-t', 'ci');
  assert.deepEqual(
    table.out
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[1]),
    ['charlie', 'alpha'],
  );

  const abc = await jetway('order-pipelines', '-t', 'ci', '--alphabetical');
  assert.equal(abc.code, 0, abc.err);
  assert.equal(abc.out, 'ordered pipelines:\n  - alpha\n  - bravo\n  - charlie\n');
  assert.deepEqual(await listed('--include-archived'), ['alpha', 'bravo', 'charlie']);
});

test('order-pipelines with an unknown pipeline fails naming it, and changes nothing', async () => {
  const r = await jetway('order-pipelines', '-t', 'ci', '-p', 'charlie', '-p', 'nope');
  assert.equal(r.code, 1);
  assert.equal(r.err, "error: pipeline not found in team main: 'nope' (the order was not changed) (HTTP 400)\n");
  assert.deepEqual(await listed('--include-archived'), ['alpha', 'bravo', 'charlie']);
});

test('expose-pipeline and hide-pipeline change public', async () => {
  const exposed = await jetway('expose-pipeline', '-t', 'ci', '-p', 'alpha');
  assert.equal(exposed.code, 0, exposed.err);
  assert.equal(exposed.out, "exposed 'alpha'\n");
  assert.equal((await pipeline('alpha')).public, true);
  assert.equal((await pipeline('charlie')).public, false);
  const hidden = await jetway('hide-pipeline', '-t', 'ci', '-p', 'alpha');
  assert.equal(hidden.code, 0, hidden.err);
  assert.equal(hidden.out, "hid 'alpha'\n");
  assert.equal((await pipeline('alpha')).public, false);
});

test('a missing flag is a usage error naming it (exit 2); an unknown pipeline is exit 1 with the 404', async () => {
  for (const [argv, flag] of [
    [['archive-pipeline', '-t', 'ci', '-n'], '-p, --pipeline <name>'],
    [['expose-pipeline', '-t', 'ci'], '-p, --pipeline <name>'],
    [['hide-pipeline', '-t', 'ci'], '-p, --pipeline <name>'],
    [['order-pipelines', '-t', 'ci'], '-p, --pipeline <name> (or -a, --alphabetical)'],
  ] as const) {
    const r = await jetway(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err, `error: required option ${flag} not specified\n`, argv.join(' '));
  }
  const both = await jetway('order-pipelines', '-t', 'ci', '-p', 'alpha', '-a');
  assert.equal(both.code, 2);
  assert.match(both.err, /cannot be used together/);
  for (const cmd of ['archive-pipeline', 'expose-pipeline', 'hide-pipeline']) {
    const r = await jetway(cmd, '-t', 'ci', '-p', 'nope', ...(cmd === 'archive-pipeline' ? ['-n'] : []));
    assert.equal(r.code, 1, cmd);
    assert.equal(r.err, 'error: pipeline main/nope not found (HTTP 404)\n', cmd);
  }
  const noTarget = await jetway('expose-pipeline', '-t', 'unknown-target', '-p', 'alpha');
  assert.notEqual(noTarget.code, 0);
});
