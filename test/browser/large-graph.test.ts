// A pipeline of 100 jobs and 50 resources (the benchmark's, test/support/generated-pipeline.ts,
// made a valid config)
// in a real browser against a real web node: every box and line the layout makes is drawn, the
// graph is fitted to the frame, the wheel zooms, dragging pans and does not open a box, and a
// click opens a job (issue 22: zoom and pan, usable for 100 jobs; its speed is npm run bench's
// ui_graph_render_ms).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { layoutPipeline, type GraphJob } from '../../src/ui/app/graph-layout.ts';
import { skipWithoutChromium as skip, startBrowserNode, type BrowserNode } from '../support/browser.ts';
import { generatedPipeline } from '../support/generated-pipeline.ts';

const USER = 'dev';
const PASSWORD = 'correct-horse-battery';
const generated = generatedPipeline();
/**
 * The generated jobs, each also getting (without trigger) every resource a later job names it
 * for in `passed`: the generator does not make them, and a valid config needs them.
 */
const jobs: GraphJob[] = generated.jobs.map((job) => {
  const named = new Set(generated.jobs.flatMap((j) => j.inputs.filter((i) => i.passed?.includes(job.name)).map((i) => i.resource)));
  const has = new Set([...job.inputs, ...job.outputs].map((x) => x.resource));
  return { ...job, inputs: [...job.inputs, ...[...named].filter((r) => !has.has(r)).map((r) => ({ name: r, resource: r, trigger: false }))] };
});
/** the jobs as a pipeline's config; left paused, so nothing runs */
const CONFIG = stringify({
  resources: generated.resources.map((name) => ({ name, type: 'mock' })),
  jobs: jobs.map((j) => ({
    name: j.name,
    plan: [
      ...j.inputs.map((i) => ({ get: i.name, ...(i.resource !== i.name ? { resource: i.resource } : {}), trigger: i.trigger, ...(i.passed ? { passed: [...i.passed] } : {}) })),
      ...j.outputs.map((o) => ({ put: o.name, ...(o.resource !== o.name ? { resource: o.resource } : {}) })),
    ],
  })),
});

let web: BrowserNode;
let page: Page;

before(async () => {
  if (skip) return;
  web = await startBrowserNode({ name: 'ui-large-graph', localUsers: [`${USER}:${PASSWORD}`], mainTeamUsers: [USER], timeoutMs: 30_000 });
  ({ page } = web);
  await page.setViewportSize({ width: 1400, height: 900 });
  await web.api('PUT', '/teams/main/pipelines/large/config', CONFIG);
});

after(async () => {
  if (skip) return;
  await web?.stop();
});

const graph = () => page.locator('svg[data-graph]');
const zoom = async () => Number(await graph().getAttribute('data-zoom'));
const translation = async (): Promise<[number, number]> => {
  const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec((await page.locator('svg[data-graph] > g.viewport').getAttribute('transform')) ?? '');
  assert.ok(m, 'the viewport has a translation');
  return [Number(m[1]), Number(m[2])];
};

test('a 100-job pipeline: every box and line drawn, fitted to the frame, zoomed by the wheel, panned by dragging, a job opened by a click', { skip }, async () => {
  await page.goto(`${web.node.url}/#/teams/main/pipelines/large`);
  await page.getByLabel('username').fill(USER);
  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  await page.locator('g[data-job]').nth(99).waitFor();

  const expected = layoutPipeline(jobs);
  const drawnNodes = await page.locator('svg[data-graph] g[data-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node') ?? '').sort());
  assert.deepEqual(drawnNodes, expected.nodes.map((n) => n.id).sort());
  assert.equal(await page.locator('g[data-job]').count(), 100);
  const drawnEdges = await page.locator('svg[data-graph] path[data-edge]').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge') ?? '').sort());
  assert.deepEqual(drawnEdges, expected.edges.map((e) => e.id).sort());

  // fitted: the whole graph inside the frame, made smaller to get there
  const frame = await graph().boundingBox();
  const drawing = await page.locator('svg[data-graph] > g.viewport').boundingBox();
  assert.ok(frame && drawing);
  assert.ok((await zoom()) < 1, 'a 100-job graph is shrunk to fit');
  assert.ok(drawing.x >= frame.x - 1 && drawing.y >= frame.y - 1, 'the drawing starts inside the frame');
  assert.ok(drawing.x + drawing.width <= frame.x + frame.width + 1 && drawing.y + drawing.height <= frame.y + frame.height + 1, 'the drawing ends inside the frame');

  // the wheel zooms in around the pointer
  const fitted = await zoom();
  await page.mouse.move(frame.x + frame.width / 2, frame.y + frame.height / 2);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction(`Number(document.querySelector('svg[data-graph]')?.getAttribute('data-zoom')) > ${fitted}`);

  // dragging from a job's box moves the drawing by the drag, and does not open the job
  const zoomed = await zoom();
  const [x0, y0] = await translation();
  const box = await page.locator('g[data-job="job-000"] rect').first().boundingBox();
  assert.ok(box, 'job-000 is drawn');
  const url = page.url();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 30, { steps: 5 });
  await page.mouse.up();
  const [x1, y1] = await translation();
  assert.ok(Math.abs(x1 - x0 - 60) < 1 && Math.abs(y1 - y0 - 30) < 1, `panned by the drag: (${x0}, ${y0}) -> (${x1}, ${y1})`);
  assert.equal(await zoom(), zoomed, 'panning keeps the zoom');
  assert.equal(page.url(), url, 'a drag that ends on a box does not open it');

  // fit again (0), then a click on the last job opens its page
  await page.keyboard.press('0');
  assert.equal(await zoom(), fitted);
  await page.locator('g[data-job="job-099"] a').click();
  await page.waitForURL(/#\/teams\/main\/pipelines\/large\/jobs\/job-099$/);
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /^job-099\b/);
});
