// The Dockerfile builds what `jetway images push` builds: the same Node version, the web node's
// entry point, command, user and environment, the helper's busybox applets, one target per
// built-in resource type, and Jetway's files written by the same code (scripts/image-files.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HELPER_APPLETS, RESOURCE_TYPES, WEB_CMD, WEB_ENTRYPOINT, WEB_USER, WEB_ENV } from '../../src/packaging/images.ts';
import { NODE_DISTRIBUTION } from '../../src/packaging/node-dist.ts';

const dockerfile = readFileSync('Dockerfile', 'utf8');

/** The instructions of a stage (`FROM … AS name` up to the next FROM), continuation lines joined. */
function stage(name: string): string[] {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${name}$`).test(l));
  assert.ok(start >= 0, `the Dockerfile has no stage ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '));
  return lines.slice(start, end < 0 ? undefined : end).filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

function instruction(lines: string[], keyword: string): string | undefined {
  return lines.find((l) => l.startsWith(`${keyword} `))?.slice(keyword.length + 1);
}

test('the Dockerfile takes the Node version jetway images push pins', () => {
  assert.match(dockerfile, new RegExp(`^ARG NODE_VERSION=${NODE_DISTRIBUTION.version.replace(/\./g, '\\.')}$`, 'm'));
  for (const from of dockerfile.split('\n').filter((l) => l.startsWith('FROM node:'))) assert.match(from, /^FROM node:\$\{NODE_VERSION\}-/);
});

test('the web target: same entry point, command, user, environment and files as jetway/jetway', () => {
  const web = stage('web');
  assert.deepEqual(JSON.parse(instruction(web, 'ENTRYPOINT') ?? 'null'), [...WEB_ENTRYPOINT]);
  assert.deepEqual(JSON.parse(instruction(web, 'CMD') ?? 'null'), [...WEB_CMD]);
  assert.equal(instruction(web, 'USER'), WEB_USER);
  assert.equal(instruction(web, 'ENV'), WEB_ENV.join(' '));
  assert.equal(instruction(web, 'COPY'), '--from=build /out/web/opt/jetway /opt/jetway');
  assert.match(stage('build').join('\n'), /RUN npx tsx scripts\/image-files\.ts \/out/);
});

test("the helper target checks for exactly the applets the runtime runs", () => {
  const run = instruction(stage('helper'), 'RUN') ?? '';
  const applets = /for applet in ([a-z0-9 ]+);/.exec(run)?.[1]?.split(' ') ?? [];
  assert.deepEqual(applets, [...HELPER_APPLETS]);
});

for (const type of RESOURCE_TYPES) {
  test(`the ${type}-resource target: the resource bundle and /opt/resource of ${type}`, () => {
    const lines = stage(`${type}-resource`);
    assert.equal(lines[0], `FROM resource-base AS ${type}-resource`);
    assert.ok(lines.includes(`COPY --from=build /out/${type}-resource/opt/resource /opt/resource`), lines.join('\n'));
  });
}

test("the web node's bundle has the entry points of the jetway command's own bundle (src/cli/bundle.ts)", () => {
  const entryNames = (file: string): string[] => {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.trim().startsWith('entryPoints:')) ?? '';
    return [...line.matchAll(/(\w+|'[\w-]+'):\s*(?:packagePath|loadWorker)\b/g)].map((m) => (m[1] ?? '').replace(/'/g, '')).sort();
  };
  assert.ok(entryNames('src/cli/bundle.ts').includes('jetway'), 'src/cli/bundle.ts names its entry points');
  assert.deepEqual(entryNames('src/packaging/images.ts'), entryNames('src/cli/bundle.ts'));
});
