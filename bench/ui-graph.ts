// ui_graph_render_ms: the time Debian's chromium takes to draw the pipeline graph of a generated
// pipeline of 100 jobs and 50 resources (test/support/generated-pipeline.ts), goal under 200 ms
// (issue 22): the web UI's own graph module (src/ui/app/graph-view.ts, bundled by esbuild with
// the UI's stylesheet) lays it out, builds the SVG, and the browser styles, lays out and paints
// it (timed until the frame after). The median of warm draws, each a new graph; the first,
// cold draw (the layout code not yet compiled by V8) is given beside it, the layout's own share
// (ui_graph_layout_ms: layoutPipeline alone, the median of the same runs), and the time of a
// fixed loop in the same page (ui_graph_reference_loop_ms), which shows how busy the machine was.
// On a busy machine the wall time mostly measures waiting for a core: ui_graph_render_cpu_ms is
// the renderer main thread's CPU time per warm draw (chromium's trace, each task's thread
// duration), the figure to compare across runs at different loads.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { uiSourceDir } from '../src/ui/bundle.ts';
import { generatedPipeline } from '../test/support/generated-pipeline.ts';
import { median, type BenchContext, type BenchResult } from './harness.ts';

const CHROMIUM = process.env.JETWAY_CHROMIUM ?? '/usr/bin/chromium';

/** The jobs as the API lists them, with a mix of statuses and a running build. */
function wireJobs(): unknown[] {
  const statuses = ['succeeded', 'failed', 'errored', 'succeeded', 'aborted'];
  return generatedPipeline().jobs.map((j, i) => ({
    id: i + 1,
    name: j.name,
    team_name: 'main',
    pipeline_id: 1,
    pipeline_name: 'generated',
    groups: [],
    inputs: j.inputs.map((x) => ({ name: x.name, resource: x.resource, trigger: x.trigger, ...(x.passed ? { passed: [...x.passed] } : {}) })),
    outputs: j.outputs.map((o) => ({ name: o.name, resource: o.resource })),
    finished_build: { id: i + 1, name: '1', status: statuses[i % statuses.length], team_name: 'main', api_url: '', containers_created: {} },
    ...(i % 17 === 0 ? { next_build: { id: 1000 + i, name: '2', status: 'started', team_name: 'main', api_url: '', containers_created: {} } } : {}),
  }));
}

function wireResources(): unknown[] {
  return generatedPipeline().resources.map((name, i) => ({
    name,
    pipeline_id: 1,
    pipeline_name: 'generated',
    team_name: 'main',
    type: 'mock',
    ...(i % 11 === 0 ? { build: { id: i, name: '1', status: 'errored' } } : {}),
    ...(i % 13 === 0 ? { pinned_version: { version: 'v1' } } : {}),
  }));
}

export async function benchUiGraph(ctx: BenchContext): Promise<BenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install-test-deps.sh (or set JETWAY_CHROMIUM)`);
  const { build } = await import('esbuild');
  const bundled = await build({
    stdin: {
      contents: "import { PipelineGraph } from './graph-view.ts';\nimport { layoutPipeline } from './graph-layout.ts';\n(globalThis as any).JetwayGraph = PipelineGraph;\n(globalThis as any).JetwayLayout = layoutPipeline;\n",
      resolveDir: uiSourceDir(),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    minify: true,
  });
  const js = bundled.outputFiles[0]!.text;
  const css = readFileSync(join(uiSourceDir(), 'style.css'), 'utf8');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent(`<!doctype html><html><head><style>${css}</style></head><body><main id="main"></main></body></html>`);
    await page.addScriptTag({ content: js });
    const runs = ctx.quick ? 4 : 12;
    ctx.progress(`drawing the graph of 100 jobs and 50 resources ${runs} times in chromium`);
    const draw = (first: number, count: number) => page.evaluate(
      async ({ jobs, resources, first, count }) => {
        type Graph = { element: { getBoundingClientRect(): unknown; remove(): void }; update(ref: unknown, jobs: unknown, resources: unknown): void };
        const g = globalThis as unknown as {
          JetwayGraph: new () => Graph;
          JetwayLayout: (jobs: unknown) => unknown;
          document: { getElementById(id: string): { append(x: unknown): void } };
          performance: { now(): number };
          requestAnimationFrame(f: () => void): void;
        };
        const out: number[] = [];
        const layout: number[] = [];
        // the layout alone (after the first draw, whose layout is the cold one)
        for (let i = 0; i < (first === 0 ? 0 : count); i++) {
          const l0 = g.performance.now();
          g.JetwayLayout(jobs);
          layout.push(g.performance.now() - l0);
        }
        for (let i = 0; i < count; i++) {
          const t0 = g.performance.now();
          const graph = new g.JetwayGraph();
          g.document.getElementById('main').append(graph.element);
          graph.update({ team: 'main', pipeline: 'generated' }, jobs, resources);
          graph.element.getBoundingClientRect(); // style and layout now
          // and the frame that paints it
          await new Promise<void>((resolve) => g.requestAnimationFrame(() => setTimeout(resolve, 0)));
          out.push(g.performance.now() - t0);
          graph.element.remove();
        }
        return { out, layout };
      },
      { jobs: wireJobs(), resources: wireResources(), first, count },
    );
    const cold = await draw(0, 1);
    // the warm draws under chromium's trace, for their CPU time
    const traceDir = await mkdtemp(join(tmpdir(), 'jw-bench-trace-'));
    let times: Awaited<ReturnType<typeof draw>>;
    let cpuPerDraw: number;
    try {
      const tracePath = join(traceDir, 'trace.json');
      await browser.startTracing(page, { path: tracePath, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
      times = await draw(1, runs - 1);
      await browser.stopTracing();
      cpuPerDraw = mainThreadCpuMs(readFileSync(tracePath, 'utf8')) / (runs - 1);
    } finally {
      await rm(traceDir, { recursive: true, force: true });
    }
    // the same page's time for a fixed loop: on a busy machine (other processes on the 2 cores) it
    // says how much slower everything ran (about 10 ms on an idle one)
    const reference = await page.evaluate('(() => { const t = performance.now(); let x = 0; for (let i = 0; i < 1e7; i++) x += i % 7; return performance.now() - t + (x < 0 ? 1 : 0); })()');
    const warm = times.out;
    const value = median(warm);
    return {
      key: 'ui_graph_render_ms',
      title: 'pipeline graph of 100 jobs, 50 resources drawn in chromium (goal < 200 ms)',
      value,
      unit: 'ms',
      samples: warm,
      extra: {
        ui_graph_render_cold_ms: Math.round(cold.out[0]! * 100) / 100,
        ui_graph_render_cpu_ms: Math.round(cpuPerDraw * 100) / 100,
        ui_graph_layout_ms: Math.round(median(times.layout) * 100) / 100,
        ui_graph_reference_loop_ms: Math.round(Number(reference) * 100) / 100,
      },
    };
  } finally {
    await browser.close();
  }
}

/** The CPU time (ms) of the renderer's main thread in a chromium trace: its top-level tasks' thread durations. */
function mainThreadCpuMs(traceJson: string): number {
  type TraceEvent = { name: string; ph: string; pid: number; tid: number; tdur?: number; args?: { name?: string } };
  const parsed = JSON.parse(traceJson) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  // the page's renderer: the main thread that did the most work
  let most = 0;
  for (const m of mains) {
    const cpu = events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.pid === m.pid && e.tid === m.tid).reduce((s, e) => s + (e.tdur ?? 0), 0);
    most = Math.max(most, cpu);
  }
  return most / 1000;
}
