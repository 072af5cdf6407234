// docs/image-features.md, decision 5: `fetch_artifact: ((x))` with x given on the command line.
// -v gives strings, so the strings "true"/"false" are accepted as the get step accepts them at run
// time (src/config/fetch-artifact.ts); anything else is refused naming the param, the value's type
// and its file:line:column, and set-pipeline sends nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.ts';
import { capture } from '../support/cli.ts';
import { jetway, startCliServer, PASSWORD, type CliServer } from './client-support.ts';
import { fetchesArtifact } from '../../src/engine/steps/params.ts';

const dir = mkdtempSync(join(tmpdir(), 'jetway-fetch-artifact-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// the get's param on line 9, column 30; the put's implicit get on line 11, column 34
const pipeline = file(
  'pipeline.yml',
  'resources:\n- name: repo\n  type: mock\n  source: {}\njobs:\n- name: j\n  plan:\n  - get: repo\n    params: {fetch_artifact: ((x))}\n  - put: repo\n    get_params: {fetch_artifact: ((x))}\n',
);

const refused = (got: string): string[] => [
  `${pipeline}:9:30: error: jobs.j.plan.do[0].get(repo).params.fetch_artifact: fetch_artifact must be a boolean (true or false), got ${got} (write fetch_artifact: true or false)`,
  `${pipeline}:11:34: error: jobs.j.plan.do[1].put(repo).get_params.fetch_artifact: fetch_artifact must be a boolean (true or false), got ${got} (write fetch_artifact: true or false)`,
];

const ROWS: { name: string; flags: string[]; fetch?: boolean; refused?: string[] }[] = [
  { name: '-v x=true', flags: ['-v', 'x=true'], fetch: true },
  { name: '-v x=false', flags: ['-v', 'x=false'], fetch: false },
  { name: '-l with x: "true" (a quoted string in a vars file)', flags: ['-l', file('vars-true.yml', 'x: "true"\n')], fetch: true },
  { name: '-l with x: false (a boolean in a vars file)', flags: ['-l', file('vars-false.yml', 'x: false\n')], fetch: false },
  { name: '-v x=yes', flags: ['-v', 'x=yes'], refused: refused('a string ("yes")') },
  { name: '-v x=True (not the spelling the get step accepts)', flags: ['-v', 'x=True'], refused: refused('a string ("True")') },
  { name: '-y x=1', flags: ['-y', 'x=1'], refused: refused('a number (1)') },
  { name: '-l with x: ~', flags: ['-l', file('vars-null.yml', 'x: ~\n')], refused: refused('null') },
];

for (const row of ROWS) {
  test(`validate-pipeline ${row.name}: ${row.refused ? 'refused naming the param and the type' : 'accepted'}`, async () => {
    const io = capture();
    const code = await runCli(['validate-pipeline', '-c', pipeline, ...row.flags], io);
    if (row.refused === undefined) {
      assert.equal(code, 0, io.out);
      assert.match(io.out, /looks good \(0 error\(s\), 0 warning\(s\)\)\n$/);
    } else {
      assert.equal(code, 1);
      assert.deepEqual(io.out.trim().split('\n'), [...row.refused, `${pipeline} is invalid: 2 error(s), 0 warning(s)`]);
    }
  });
}

let s: CliServer;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
});
after(async () => {
  await s.close();
});

/** The saved pipeline's get step params, as the server holds them (undefined when nothing was saved). */
async function savedGetParams(name: string): Promise<Record<string, unknown> | undefined> {
  const res = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/${name}/config`, headers: s.api.auth() });
  if (res.statusCode === 404) return undefined;
  const config = (res.json() as { config: { jobs: { plan: { params?: Record<string, unknown> }[] }[] } }).config;
  return config.jobs[0]?.plan[0]?.params;
}

for (const [i, row] of ROWS.entries()) {
  test(`set-pipeline ${row.name}: ${row.refused ? 'refused before anything is sent' : 'saved, and its get downloads as the value says'}`, async () => {
    const name = `fa-${i}`;
    const r = await jetway('set-pipeline', '-t', 'ci', '-p', name, '-c', pipeline, ...row.flags, '-n');
    if (row.refused === undefined) {
      assert.equal(r.code, 0, r.err);
      const params = await savedGetParams(name);
      assert.ok(params, 'the pipeline was saved');
      // what the get step reads at run time from the saved value
      assert.equal(fetchesArtifact(params), row.fetch);
    } else {
      assert.equal(r.code, 1);
      assert.deepEqual(r.err.trim().split('\n'), [...row.refused, `error: ${pipeline} is invalid: 2 error(s); nothing was sent`]);
      assert.equal(await savedGetParams(name), undefined);
    }
  });
}
