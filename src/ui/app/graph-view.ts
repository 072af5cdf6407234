// The pipeline graph on the page: the layout of graph-layout.ts drawn as SVG, as Concourse draws
// a pipeline. Job boxes are coloured by their latest finished build and pulse while a build runs
// or waits; resource boxes show a failing check and a pin; lines of inputs that trigger are
// solid, the others dashed. A click opens the job or resource (the boxes are links). Zoom with
// the wheel or the buttons (+, -, fit; the keys + - 0 too), pan by dragging. The layout is
// computed again only when the jobs' inputs and outputs change; statuses redraw the boxes, and
// the zoom stays where the user left it.
import type { Job, Resource } from '../../api/wire.ts';
import { h, svg } from './dom.ts';
import { layoutPipeline, type GraphLayout, type GraphNode, type GraphNodeKind } from './graph-layout.ts';
import { routeHash, type PipelineRef } from './routes.ts';
import { checkFailing as failing, graphJobStatus, jobIsRunning, statusClass, statusLabel } from './status.ts';

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** room for a resource box's marks (failing check, pin) */
const MARK_ROOM = 16;
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 3;

let canvas: CanvasRenderingContext2D | null | undefined;
const widths = new Map<string, number>();
/** A label's width as the page draws it (a canvas measures the font, once per label), and the box's padding. */
function measure(text: string, kind: GraphNodeKind): number {
  const key = `${kind === 'job' ? 'b' : 'r'}${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    canvas ??= document.createElement('canvas').getContext('2d');
    width = text.length * 7;
    if (canvas) {
      canvas.font = kind === 'job' ? `700 ${FONT}` : FONT;
      width = canvas.measureText(text).width;
    }
    if (widths.size < 10_000) widths.set(key, width);
  }
  return Math.ceil(width) + (kind === 'job' ? 24 : 16 + MARK_ROOM);
}

/** What decides the layout: the jobs' names, inputs and outputs. */
function structureKey(jobs: readonly Job[]): string {
  return JSON.stringify(jobs.map((j) => [j.name, j.inputs.map((i) => [i.resource, i.trigger, i.passed ?? []]), j.outputs.map((o) => o.resource)]));
}

function edgePath(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M${first.x},${first.y}`;
  let prev = first;
  for (const p of rest) {
    const dx = (p.x - prev.x) / 2;
    d += ` C${prev.x + dx},${prev.y} ${p.x - dx},${p.y} ${p.x},${p.y}`;
    prev = p;
  }
  return d;
}

export class PipelineGraph {
  readonly element: HTMLElement;
  private readonly svgEl: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private layout: GraphLayout | undefined;
  private key = '';
  private drawn = '';
  private view = { k: 1, x: 0, y: 0 };
  /** whether the user moved or zoomed the graph (else it is fitted again when it changes) */
  private moved = false;
  private dragged = false;

  constructor() {
    this.viewport = svg('g', { class: 'viewport' });
    this.svgEl = svg('svg', { class: 'graph', role: 'img', 'aria-label': 'pipeline graph', 'data-graph': true }, this.viewport);
    const controls = h(
      'div',
      { class: 'graph-controls', role: 'group', 'aria-label': 'zoom' },
      h('button', { type: 'button', title: 'zoom in (+)', 'aria-label': 'zoom in', onclick: () => this.zoomBy(1.25) }, '+'),
      h('button', { type: 'button', title: 'zoom out (-)', 'aria-label': 'zoom out', onclick: () => this.zoomBy(0.8) }, '−'),
      h('button', { type: 'button', title: 'fit the graph (0)', 'aria-label': 'fit the graph', onclick: () => this.fit() }, 'fit'),
    );
    this.element = h('div', { class: 'graph-frame' }, this.svgEl, controls);
    this.listen();
  }

  /** Draws the jobs given (a group's, or all) and the resources' marks; the layout only when it changed. */
  update(ref: PipelineRef, jobs: readonly Job[], resources: readonly Resource[]): void {
    const key = structureKey(jobs);
    const fresh = key !== this.key;
    if (fresh) {
      this.key = key;
      this.layout = layoutPipeline(jobs, { measure });
    }
    const drawn = JSON.stringify([key, ref, jobs.map((j) => [graphJobStatus(j), jobIsRunning(j)]), resources.map((r) => [r.name, failing(r), r.pinned_version !== undefined])]);
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    // A new layout is fitted before its boxes are added: the frame's size does not depend on
    // them, so reading it now is cheap, and the browser lays the boxes out once, already zoomed
    // (fitting after drawing laid the whole SVG out twice; docs/web-ui.md, Speed).
    const fitted = fresh && !this.moved && this.fit();
    this.draw(ref, jobs, resources);
    if (fresh && !this.moved && !fitted) requestAnimationFrame(() => this.fit());
  }

  private draw(ref: PipelineRef, jobs: readonly Job[], resources: readonly Resource[]): void {
    const layout = this.layout;
    if (!layout) return;
    const jobByName = new Map(jobs.map((j) => [j.name, j]));
    const resourceByName = new Map(resources.map((r) => [r.name, r]));
    const edges = layout.edges.map((e) =>
      svg(
        'path',
        {
          class: `edge edge-${e.kind} ${e.trigger ? 'trigger' : 'no-trigger'}`,
          d: edgePath(e.points),
          'data-edge': e.id,
          'data-source': e.source,
          'data-target': e.target,
          'data-trigger': String(e.trigger),
        },
        svg('title', null, `${e.resources.join(', ')}${e.trigger ? '' : ' (does not trigger)'}`),
      ),
    );
    const nodes = layout.nodes.map((n) => (n.kind === 'job' ? this.jobNode(ref, n, jobByName.get(n.name)) : this.resourceNode(ref, n, resourceByName.get(n.name))));
    this.viewport.replaceChildren(svg('g', { class: 'edges' }, edges), svg('g', { class: 'nodes' }, nodes));
    this.svgEl.setAttribute('data-width', String(layout.width));
    this.svgEl.setAttribute('data-height', String(layout.height));
  }

  private jobNode(ref: PipelineRef, n: GraphNode, job: Job | undefined): SVGGElement {
    const status = job ? graphJobStatus(job) : 'no-builds';
    const running = job ? jobIsRunning(job) : false;
    return svg(
      'g',
      {
        class: `node job ${statusClass(status)}${running ? ' running' : ''}`,
        transform: `translate(${n.x},${n.y})`,
        'data-node': n.id,
        'data-job': n.name,
        'data-layer': n.layer,
        'data-status': status,
        'data-running': running ? 'true' : undefined,
      },
      svg(
        'a',
        { href: routeHash({ page: 'job', ...ref, job: n.name }), 'aria-label': `job ${n.name}: ${statusLabel(status)}${running ? ', running' : ''}` },
        svg('title', null, `${n.name}: ${statusLabel(status)}${running ? ' (a build is running)' : ''}`),
        svg('rect', { width: n.width, height: n.height, rx: 2 }),
        svg('text', { x: 12, y: n.height / 2, 'dominant-baseline': 'central' }, n.name),
      ),
    );
  }

  private resourceNode(ref: PipelineRef, n: GraphNode, r: Resource | undefined): SVGGElement {
    const isFailing = r ? failing(r) : false;
    const pinned = r?.pinned_version !== undefined;
    const notes = [isFailing ? 'its check is failing' : '', pinned ? 'pinned' : ''].filter((s) => s !== '');
    return svg(
      'g',
      {
        class: `node resource ${n.kind}${isFailing ? ' check-failing' : ''}${pinned ? ' pinned' : ''}`,
        transform: `translate(${n.x},${n.y})`,
        'data-node': n.id,
        'data-resource': n.name,
        'data-layer': n.layer,
        'data-check': isFailing ? 'failing' : undefined,
        'data-pinned': pinned ? 'true' : undefined,
      },
      svg(
        'a',
        { href: routeHash({ page: 'resource', team: ref.team, pipeline: ref.pipeline, ...(ref.vars ? { vars: ref.vars } : {}), resource: n.name }), 'aria-label': `resource ${n.name}${notes.length > 0 ? `: ${notes.join(', ')}` : ''}` },
        svg('title', null, `${n.name}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`),
        svg('rect', { width: n.width, height: n.height, rx: 2 }),
        svg('text', { x: 8, y: n.height / 2, 'dominant-baseline': 'central' }, n.name),
        isFailing ? svg('g', { class: 'mark check-mark', transform: `translate(${n.width - 10},${n.height / 2})` }, svg('circle', { r: 6 }), svg('text', { 'text-anchor': 'middle', 'dominant-baseline': 'central' }, '!')) : null,
        pinned && !isFailing ? svg('g', { class: 'mark pin-mark', transform: `translate(${n.width - 10},${n.height / 2})` }, svg('circle', { r: 4 })) : null,
      ),
    );
  }

  // ---------------------------------------------------------------- zoom and pan

  private apply(): void {
    const { k, x, y } = this.view;
    this.viewport.setAttribute('transform', `translate(${x},${y}) scale(${k})`);
    this.svgEl.setAttribute('data-zoom', k.toFixed(3));
  }

  /** Shows the whole graph, at most at its natural size; false when the frame has no size yet (not on the page). */
  fit(): boolean {
    const layout = this.layout;
    const box = this.svgEl.getBoundingClientRect();
    if (!layout || box.width === 0 || box.height === 0) return false;
    const k = Math.max(MIN_ZOOM, Math.min(1, box.width / layout.width, box.height / layout.height));
    this.view = { k, x: (box.width - layout.width * k) / 2, y: Math.max(0, (box.height - layout.height * k) / 2) };
    this.moved = false;
    this.apply();
    return true;
  }

  /** Zooms by factor around a point of the frame (default its middle). */
  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const box = this.svgEl.getBoundingClientRect();
    const p = at ?? { x: box.width / 2, y: box.height / 2 };
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.k * factor));
    const ratio = k / this.view.k;
    this.view = { k, x: p.x - (p.x - this.view.x) * ratio, y: p.y - (p.y - this.view.y) * ratio };
    this.moved = true;
    this.apply();
  }

  private listen(): void {
    this.svgEl.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const box = this.svgEl.getBoundingClientRect();
        this.zoomBy(Math.exp(-e.deltaY * 0.0015), { x: e.clientX - box.left, y: e.clientY - box.top });
      },
      { passive: false },
    );
    this.svgEl.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      const start = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y };
      this.dragged = false;
      const move = (m: PointerEvent): void => {
        const dx = m.clientX - start.x;
        const dy = m.clientY - start.y;
        if (!this.dragged && Math.hypot(dx, dy) < 4) return;
        this.dragged = true;
        this.svgEl.classList.add('dragging');
        this.view = { ...this.view, x: start.vx + dx, y: start.vy + dy };
        this.moved = true;
        this.apply();
      };
      const up = (): void => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
        this.svgEl.classList.remove('dragging');
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    });
    // a drag that ends on a box does not open it
    this.svgEl.addEventListener(
      'click',
      (e) => {
        if (!this.dragged) return;
        e.preventDefault();
        e.stopPropagation();
        this.dragged = false;
      },
      true,
    );
  }
}
