// The web node serves the UI: the page at / without a token, its script and stylesheet under
// /ui/ with content types and cache headers, from dist/ui while that is fresh and otherwise
// built in memory from the sources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { startApi, type TestApi } from '../api/helpers.ts';
import { registerUi } from '../../src/ui/server.ts';
import { UI_SHARED_SOURCES, uiBundleIsFresh, uiSourceDir, writeUiBundle } from '../../src/ui/bundle.ts';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

const versionOf = (html: string): string => {
  const m = /src="ui\/app\.js\?v=([0-9a-f]+)"/.exec(html);
  assert.ok(m?.[1], `the page names its script with a version: ${html}`);
  return m[1];
};

test('the page is served at / without a token, with a strict content security policy', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
  assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  const version = versionOf(res.body);
  assert.match(res.body, new RegExp(`<link rel="stylesheet" href="ui/style\\.css\\?v=${version}">`));
});

test('the script and stylesheet: content types, immutable when asked by version, 304 on a matching ETag', async () => {
  const version = versionOf((await api.app.inject({ method: 'GET', url: '/' })).body);
  const js = await api.app.inject({ method: 'GET', url: `/ui/app.js?v=${version}` });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers['content-type']), /^text\/javascript; charset=utf-8/);
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(js.body, /api\/v1\/token/, 'the bundle is our UI');
  assert.doesNotMatch(js.body, /from\s*["']/, 'one self-contained script: no imports left');

  const css = await api.app.inject({ method: 'GET', url: `/ui/style.css?v=${version}` });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css; charset=utf-8/);
  assert.match(css.body, /status-succeeded/);

  const unversioned = await api.app.inject({ method: 'GET', url: '/ui/app.js' });
  assert.equal(unversioned.headers['cache-control'], 'no-cache', 'an old or missing version is revalidated');
  const again = await api.app.inject({ method: 'GET', url: '/ui/app.js', headers: { 'if-none-match': String(js.headers.etag) } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
});

test('the API keeps requiring a token, and unknown paths stay JSON 404s', async () => {
  // (the pipelines list answers without one: the public pipelines, test/api/public-pipelines.test.ts)
  const teams = await api.app.inject({ method: 'GET', url: '/api/v1/teams' });
  assert.equal(teams.statusCode, 401);
  const missing = await api.app.inject({ method: 'GET', url: '/ui/nothing.js' });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.body, /"error"/);
});

test('dist/ui while it is fresh; the sources built in memory when it is missing or stale; build errors are a 500', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-ui-'));
  // the UI's directory and the modules it shares with the API, laid out as in the checkout
  const sourceDir = join(dir, 'src', 'ui', 'app');
  const distDir = join(dir, 'dist');
  await cp(uiSourceDir(), sourceDir, { recursive: true });
  for (const shared of UI_SHARED_SOURCES) await cp(join(uiSourceDir(), shared), join(sourceDir, shared));
  const app = Fastify();
  registerUi(app, { sourceDir, distDir });
  try {
    const get = (url: string) => app.inject({ method: 'GET', url });

    // no dist: built in memory
    assert.equal(uiBundleIsFresh(distDir, sourceDir), false);
    const built = await get('/ui/app.js');
    assert.equal(built.statusCode, 200);
    assert.match(built.body, /api\/v1\/token/);

    // a fresh dist is served as written
    await writeUiBundle(distDir, sourceDir);
    assert.equal(uiBundleIsFresh(distDir, sourceDir), true);
    await writeFile(join(distDir, 'app.js'), '/* from dist */');
    const fromDist = await get('/ui/app.js');
    assert.equal(fromDist.body, '/* from dist */');
    assert.notEqual(fromDist.headers.etag, built.headers.etag, 'another content, another version');

    // a module the UI shares with the API, edited after the bundle: the dist is stale too
    const touched = new Date(Date.now() + 30_000);
    await utimes(join(sourceDir, '../../api/sse-parser.ts'), touched, touched);
    assert.equal(uiBundleIsFresh(distDir, sourceDir), false);

    // a source edited after the bundle: the dist is stale, the edit is built and served
    const future = new Date(Date.now() + 60_000);
    await writeFile(join(sourceDir, 'extra.ts'), 'export const marker = "edited-source-marker";\n');
    await writeFile(join(sourceDir, 'main.ts'), `import { marker } from './extra.ts';\nconsole.log(marker);\n`);
    await utimes(join(sourceDir, 'main.ts'), future, future);
    assert.equal(uiBundleIsFresh(distDir, sourceDir), false);
    assert.match((await get('/ui/app.js')).body, /edited-source-marker/);

    // a source that does not compile: a clear 500, and a fixed source is served again
    const later = new Date(Date.now() + 120_000);
    await writeFile(join(sourceDir, 'main.ts'), 'const = ;\n');
    await utimes(join(sourceDir, 'main.ts'), later, later);
    const broken = await get('/');
    assert.equal(broken.statusCode, 500);
    assert.match(broken.body, /the web UI could not be built/);
    const fixed = new Date(Date.now() + 180_000);
    await writeFile(join(sourceDir, 'main.ts'), 'console.log("fixed-marker");\n');
    await utimes(join(sourceDir, 'main.ts'), fixed, fixed);
    assert.match((await get('/ui/app.js')).body, /fixed-marker/);
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});
