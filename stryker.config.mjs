// Mutation testing of the pure cores (docs/mutation-testing.md): `npm run mutate` for all of them,
// `npm run mutate -- --mutate src/images/reference.ts` (a file or a glob, comma-separated) for some.
// Not part of `npm test`.
//
// The tap runner runs each test file as its own `node --import tsx` process (node's test runner
// prints TAP when piped); with per-test coverage (per file here) a mutant reruns only the files
// that reach it. Each group of modules lists the fast unit tests that decide about it (no
// Postgres, registry or cluster); a run takes the tests of the groups it mutates.
import process from 'node:process';

const GROUPS = [
  {
    // image references and fetch_artifact (docs/image-features.md, decisions 5 and 9): their own unit tests
    modules: ['src/engine/steps/params.ts', 'src/config/fetch-artifact.ts', 'src/images/reference.ts'],
    tests: ['test/engine/steps/params.test.ts', 'test/images/reference.test.ts', 'test/engine/image-reference.test.ts'],
  },
  {
    // the image seam (decisions 1-4, 7, 9-12): through the steps that use it
    modules: ['src/engine/image/*.ts'],
    // (put.test.ts and task.test.ts reach it too, but would double the run for few extra kills;
    // image-files.test.ts names the fetched image's files in errors; images-registry.test.ts
    // starts a real registry, for the one mutant only a registry tells)
    tests: ['test/engine/image-reference.test.ts', 'test/engine/steps/images.test.ts', 'test/engine/steps/get.test.ts', 'test/engine/steps/image-files.test.ts', 'test/engine/steps/images-registry.test.ts'],
  },
  { modules: ['src/config/validate.ts'], tests: ['test/config/validate.test.ts', 'test/config/fixtures.test.ts'] },
  {
    modules: ['src/scheduler/algorithm/**/*.ts'],
    // cursor.test.ts decides the rerun ordering (isNewerBuild/isOlderBuild); its last rows also
    // start a Postgres of their own, a few seconds for each mutant that reaches them
    tests: ['test/scheduler/algorithm-memory.test.ts', 'test/scheduler/decisions.test.ts', 'test/scheduler/grouping.test.ts', 'test/scheduler/cursor.test.ts'],
  },
  { modules: ['src/runtime/kubernetes/pod-spec.ts'], tests: ['test/runtime/kubernetes/pod-spec.test.ts'] },
];

/** The `--mutate` of the command line, if any (Stryker lets it override `mutate` below). */
function mutateArgument() {
  const i = process.argv.findIndex((a) => a === '--mutate' || a === '-m' || a.startsWith('--mutate='));
  if (i < 0) return undefined;
  const value = process.argv[i].startsWith('--mutate=') ? process.argv[i].slice('--mutate='.length) : process.argv[i + 1];
  return value?.split(',').filter(Boolean);
}

/** The folder part of a glob, up to its first wildcard. */
const stem = (glob) => glob.split(/[*?[{]/)[0];
const touches = (group, patterns) => patterns.some((p) => group.modules.some((m) => stem(p).startsWith(stem(m)) || stem(m).startsWith(stem(p))));
const asked = mutateArgument();
const groups = asked ? GROUPS.filter((g) => touches(g, asked)) : GROUPS;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  plugins: ['@stryker-mutator/tap-runner'],
  testRunner: 'tap',
  tap: { testFiles: [...new Set((groups.length > 0 ? groups : GROUPS).flatMap((g) => g.tests))], nodeArgs: ['--import', 'tsx'], forceBail: true },
  coverageAnalysis: 'perTest',
  mutate: GROUPS.flatMap((g) => g.modules),
  // the sandbox and the reports live under tmp/, which git ignores
  tempDirName: 'tmp/stryker',
  cleanTempDir: true,
  // a rerun tests only the mutants whose code or tests changed since the last run
  incremental: true,
  incrementalFile: 'tmp/mutation/stryker-incremental.json',
  ignorePatterns: ['dist', 'tmp', '.jetway', 'bench', 'deploy', 'examples'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'tmp/mutation/mutation.html' },
  jsonReporter: { fileName: 'tmp/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  concurrency: 2,
  timeoutMS: 30000,
  thresholds: { high: 90, low: 70, break: null },
};
