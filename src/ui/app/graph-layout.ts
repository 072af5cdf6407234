// The pipeline graph's layout, as Concourse draws a pipeline (docs/web-ui.md): jobs and
// resources as boxes in layers, left to right, joined by the lines versions flow along. A `get`
// without `passed` comes from the resource's input box, left of the first job that gets it; a
// `get` with `passed` comes from each passed job shown through a box of that resource after the
// passed job (its output box when the job puts the resource), one box and line per resource, as
// Concourse's web/public/index.mjs draws them; a `put` goes to the resource's output box, right
// of the job. Edges of inputs that trigger are solid, the others dashed.
//
// A layered (Sugiyama) layout: layers by longest path (sources as late as they can go, so a
// resource sits just left of its first job), long edges cut into virtual nodes one per layer,
// crossings reduced by barycenter sweeps and adjacent transpositions (the best order seen is
// kept), then y coordinates pulled towards each node's neighbours. Pure: no DOM, so the node
// tests table-test it and the page only draws what it returns.

export interface GraphInput {
  name: string;
  resource: string;
  trigger: boolean;
  passed?: readonly string[];
}

export interface GraphJob {
  name: string;
  inputs: readonly GraphInput[];
  outputs: readonly { name: string; resource: string }[];
}

export type GraphNodeKind = 'job' | 'input' | 'output';

export interface GraphNode {
  /**
   * `job:<name>`, `input:<resource>`, `output:<resource>`, and `passed:<job>:<resource>` for the
   * box a version of the resource passes through from the job to the jobs that name it in
   * `passed` (kind `output` when the job puts the resource, else `input`)
   */
  id: string;
  kind: GraphNodeKind;
  /** the job's or the resource's name */
  name: string;
  layer: number;
  /** the position within its layer, top to bottom */
  order: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export type GraphEdgeKind = 'get' | 'passed' | 'put';

export interface GraphEdge {
  /** `<source id>-><target id>` */
  id: string;
  source: string;
  target: string;
  kind: GraphEdgeKind;
  /** the resources whose versions flow along it */
  resources: string[];
  /** a `get` that triggers the job (drawn solid; the others dashed); puts are solid */
  trigger: boolean;
  /** from the source's right side to the target's left side, through a point per layer crossed */
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** the node ids of each layer, in order (virtual nodes left out) */
  layers: string[][];
  /** how many pairs of edge segments cross between adjacent layers */
  crossings: number;
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** a box's width for its label (default: 7 px a character and padding) */
  measure?: (text: string, kind: GraphNodeKind) => number;
  /** barycenter sweeps (down and up) at most; default 8 */
  sweeps?: number;
}

export const JOB_HEIGHT = 30;
export const RESOURCE_HEIGHT = 22;
const LAYER_GAP = 72;
const NODE_GAP = 14;
const VIRTUAL_GAP = 6;
const PADDING = 16;

const defaultMeasure = (text: string, kind: GraphNodeKind): number => Math.max(kind === 'job' ? 60 : 40, text.length * 7 + (kind === 'job' ? 24 : 16));

interface Vertex {
  id: string;
  kind: GraphNodeKind | 'virtual';
  name: string;
  layer: number;
  width: number;
  height: number;
  preds: Vertex[];
  succs: Vertex[];
  /** index in its layer */
  pos: number;
  y: number;
}

interface RawEdge {
  source: string;
  target: string;
  kind: GraphEdgeKind;
  resources: string[];
  trigger: boolean;
}

/** The graph's nodes and edges before layout: what the config says, for the jobs shown. */
export function graphEdges(jobs: readonly GraphJob[]): { nodes: { id: string; kind: GraphNodeKind; name: string }[]; edges: RawEdge[] } {
  const shown = new Set(jobs.map((j) => j.name));
  const nodes = new Map<string, { id: string; kind: GraphNodeKind; name: string }>();
  const edges = new Map<string, RawEdge>();
  const node = (kind: GraphNodeKind, name: string, id = `${kind}:${name}`): string => {
    if (!nodes.has(id)) nodes.set(id, { id, kind, name });
    return id;
  };
  const puts = new Set(jobs.flatMap((j) => j.outputs.map((o) => `${j.name}\n${o.resource}`)));
  /** The box a resource's versions pass through from a job (Concourse's output or constrained-input node). */
  const passedNode = (from: string, resource: string): string =>
    node(puts.has(`${from}\n${resource}`) ? 'output' : 'input', resource, `passed:${from}:${resource}`);
  const passedFrom = new Set<string>();
  for (const j of jobs) {
    for (const input of j.inputs) for (const p of input.passed ?? []) if (shown.has(p) && p !== j.name) passedFrom.add(`${p}\n${input.resource}`);
  }
  const edge = (source: string, target: string, kind: GraphEdgeKind, resource: string, trigger: boolean): void => {
    const id = `${source}->${target}`;
    const known = edges.get(id);
    if (known) {
      if (!known.resources.includes(resource)) known.resources.push(resource);
      known.trigger ||= trigger;
      if (kind === 'passed') known.kind = 'passed';
      return;
    }
    edges.set(id, { source, target, kind, resources: [resource], trigger });
  };
  for (const j of jobs) node('job', j.name);
  for (const j of jobs) {
    const target = `job:${j.name}`;
    for (const input of j.inputs) {
      const upstream = (input.passed ?? []).filter((p) => shown.has(p) && p !== j.name);
      // passed jobs that are not shown (another group): the version comes from the resource, as far as this graph says
      if (upstream.length === 0) edge(node('input', input.resource), target, 'get', input.resource, input.trigger);
      for (const p of upstream) {
        const box = passedNode(p, input.resource);
        // job -> box (solid), unless the job's put already leads there
        if (!puts.has(`${p}\n${input.resource}`)) edge(`job:${p}`, box, 'passed', input.resource, true);
        edge(box, target, 'passed', input.resource, input.trigger);
      }
    }
    for (const o of j.outputs) edge(target, passedFrom.has(`${j.name}\n${o.resource}`) ? passedNode(j.name, o.resource) : node('output', o.resource), 'put', o.resource, true);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Lays out the graph of the jobs given (a group's, or all of a pipeline's). */
export function layoutPipeline(jobs: readonly GraphJob[], opts: LayoutOptions = {}): GraphLayout {
  const measure = opts.measure ?? defaultMeasure;
  const { nodes, edges: raw } = graphEdges(jobs);
  const byId = new Map<string, Vertex>();
  for (const n of nodes) {
    byId.set(n.id, {
      ...n,
      layer: 0,
      width: measure(n.name, n.kind),
      height: n.kind === 'job' ? JOB_HEIGHT : RESOURCE_HEIGHT,
      preds: [],
      succs: [],
      pos: 0,
      y: 0,
    });
  }
  const edges = cutCycles(raw, nodes.map((n) => n.id));
  for (const e of edges) {
    byId.get(e.source)!.succs.push(byId.get(e.target)!);
    byId.get(e.target)!.preds.push(byId.get(e.source)!);
  }
  assignLayers([...byId.values()]);
  splitResources(byId, edges);

  // long edges become chains of virtual vertices, one per layer crossed
  const chains = new Map<RawEdge, Vertex[]>();
  let virtualCount = 0;
  for (const e of edges) {
    const s = byId.get(e.source)!;
    const t = byId.get(e.target)!;
    const chain: Vertex[] = [s];
    if (t.layer - s.layer > 1) {
      s.succs = s.succs.filter((x) => x !== t);
      t.preds = t.preds.filter((x) => x !== s);
      let prev = s;
      for (let l = s.layer + 1; l < t.layer; l++) {
        const v: Vertex = { id: `virtual:${virtualCount++}`, kind: 'virtual', name: '', layer: l, width: 0, height: 0, preds: [prev], succs: [], pos: 0, y: 0 };
        prev.succs.push(v);
        chain.push(v);
        prev = v;
      }
      prev.succs.push(t);
      t.preds.push(prev);
    }
    chain.push(t);
    chains.set(e, chain);
  }

  const all = [...byId.values(), ...[...chains.values()].flatMap((c) => c.filter((v) => v.kind === 'virtual'))];
  const layerCount = all.reduce((m, v) => Math.max(m, v.layer + 1), 0);
  const layers: Vertex[][] = Array.from({ length: layerCount }, () => []);
  for (const v of initialOrder(jobs, byId, all)) layers[v.layer]!.push(v);
  layers.forEach(numberLayer);

  const crossings = reduceCrossings(layers, opts.sweeps ?? 8);
  const layerWidth = layers.map((l) => l.reduce((m, v) => Math.max(m, v.width), 0));
  const layerX: number[] = [];
  let right = PADDING;
  for (const w of layerWidth) {
    layerX.push(right);
    right += w + LAYER_GAP;
  }
  placeY(layers);
  // a virtual vertex sits in the middle of its layer's column
  const xOf = (v: Vertex): number => layerX[v.layer]! + (v.kind === 'virtual' ? layerWidth[v.layer]! / 2 : 0);

  const outNodes: GraphNode[] = [];
  for (const layer of layers) {
    for (const v of layer) {
      if (v.kind === 'virtual') continue;
      outNodes.push({ id: v.id, kind: v.kind, name: v.name, layer: v.layer, order: v.pos, x: xOf(v), y: v.y, width: v.width, height: v.height });
    }
  }
  const outEdges: GraphEdge[] = edges.map((e) => {
    const chain = chains.get(e)!;
    const points = chain.map((v, i) => ({ x: xOf(v) + (i === 0 ? v.width : 0), y: v.y + v.height / 2 }));
    return { id: `${e.source}->${e.target}`, source: e.source, target: e.target, kind: e.kind, resources: e.resources, trigger: e.trigger, points };
  });
  const bottom = all.reduce((m, v) => Math.max(m, v.y + v.height), 0);
  return {
    nodes: outNodes,
    edges: outEdges,
    layers: layers.map((l) => l.filter((v) => v.kind !== 'virtual').map((v) => v.id)),
    crossings,
    width: Math.max(right - LAYER_GAP + PADDING, 2 * PADDING),
    height: bottom + PADDING,
  };
}

/** Edges that close a cycle (a config the validator refuses; cut here so the layout still ends) are left out. */
function cutCycles(edges: RawEdge[], ids: string[]): RawEdge[] {
  const out = new Map<string, RawEdge[]>();
  for (const e of edges) {
    const list = out.get(e.source);
    if (list) list.push(e);
    else out.set(e.source, [e]);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const back = new Set<RawEdge>();
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    for (const e of out.get(id) ?? []) {
      const s = state.get(e.target);
      if (s === 'visiting') back.add(e);
      else if (s === undefined) visit(e.target);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  return edges.filter((e) => !back.has(e));
}

/**
 * Longest path from the sources; then every source (a resource's input box, a job without
 * inputs) moves right, to just before the first node it feeds.
 */
function assignLayers(vertices: Vertex[]): void {
  const done = new Set<Vertex>();
  const layerOf = (v: Vertex): number => {
    if (done.has(v)) return v.layer;
    v.layer = v.preds.reduce((m, p) => Math.max(m, layerOf(p) + 1), 0);
    done.add(v);
    return v.layer;
  };
  for (const v of vertices) layerOf(v);
  for (const v of vertices) {
    if (v.preds.length === 0 && v.succs.length > 0) v.layer = Math.max(0, Math.min(...v.succs.map((s) => s.layer)) - 1);
  }
}

/**
 * A resource whose versions go to jobs of several layers gets an input box left of each of those
 * layers (`input:<resource>`, then `input:<resource>@<layer>`), and one put by jobs of several
 * layers an output box right of each (`output:<resource>@<layer>`), so that a resource sits next
 * to the jobs that use it instead of sending lines across the graph. Edges are retargeted in place.
 */
function splitResources(byId: Map<string, Vertex>, edges: RawEdge[]): void {
  const touching = new Map<string, RawEdge[]>();
  for (const e of edges) {
    for (const end of [e.source, e.target]) {
      const list = touching.get(end);
      if (list) list.push(e);
      else touching.set(end, [e]);
    }
  }
  for (const v of [...byId.values()]) {
    // a passed box belongs to its one job
    if (v.kind === 'job' || v.id.startsWith('passed:')) continue;
    const input = v.kind === 'input';
    const side = (x: Vertex): Vertex[] => (input ? x.succs : x.preds);
    const layers = [...new Set(side(v).map((s) => s.layer))].sort((a, b) => a - b);
    if (layers.length === 0) continue;
    v.layer = input ? layers[0]! - 1 : layers[0]! + 1;
    for (const l of layers.slice(1)) {
      const id = `${v.id}@${input ? l - 1 : l + 1}`;
      const moved = side(v).filter((s) => s.layer === l);
      const clone: Vertex = { ...v, id, layer: input ? l - 1 : l + 1, preds: input ? [] : moved, succs: input ? moved : [], pos: 0, y: 0 };
      byId.set(id, clone);
      if (input) {
        v.succs = v.succs.filter((s) => s.layer !== l);
        for (const s of moved) s.preds = s.preds.map((p) => (p === v ? clone : p));
        for (const e of touching.get(v.id) ?? []) if (e.source === v.id && moved.some((s) => s.id === e.target)) e.source = id;
      } else {
        v.preds = v.preds.filter((s) => s.layer !== l);
        for (const s of moved) s.succs = s.succs.map((p) => (p === v ? clone : p));
        for (const e of touching.get(v.id) ?? []) if (e.target === v.id && moved.some((s) => s.id === e.source)) e.target = id;
      }
    }
  }
}

/**
 * The first order: a depth-first walk from the jobs in the config's order, each job's inputs
 * before it and its outputs after it, so that related boxes start close.
 */
function initialOrder(jobs: readonly GraphJob[], byId: Map<string, Vertex>, all: Vertex[]): Vertex[] {
  const seen = new Set<Vertex>();
  const order: Vertex[] = [];
  const visit = (v: Vertex): void => {
    if (seen.has(v)) return;
    seen.add(v);
    for (const p of v.preds) if (p.kind !== 'job') visit(p);
    order.push(v);
    for (const s of v.succs) visit(s);
  };
  for (const j of jobs) {
    const v = byId.get(`job:${j.name}`);
    if (v) visit(v);
  }
  for (const v of all) visit(v);
  return order;
}

function numberLayer(layer: Vertex[]): void {
  layer.forEach((v, i) => (v.pos = i));
}

/**
 * Crossings between two adjacent layers' edges (from upper's vertices to their successors in
 * lower): pairs whose ends are in opposite orders, counted with a Fenwick tree over the lower
 * positions (Barth, Jünger and Mutzel's accumulator), no allocation but the tree. It runs after
 * every half sweep, so it is the layout's hottest loop.
 */
function crossingsBetween(upper: Vertex[], lowerSize: number): number {
  const tree = new Int32Array(lowerSize + 1);
  let count = 0;
  let seen = 0;
  // upper is in position order; each vertex's successors in position order
  for (const v of upper) {
    const ends = v.succs.length > 1 ? v.succs.map((s) => s.pos).sort((a, b) => a - b) : v.succs.map((s) => s.pos);
    for (const p of ends) {
      // edges seen so far whose lower end is right of p cross this one
      let atMost = 0;
      for (let i = p + 1; i > 0; i -= i & -i) atMost += tree[i]!;
      count += seen - atMost;
      for (let i = p + 1; i <= lowerSize; i += i & -i) tree[i]!++;
      seen++;
    }
  }
  return count;
}

function totalCrossings(layers: Vertex[][]): number {
  let n = 0;
  for (let i = 0; i + 1 < layers.length; i++) n += crossingsBetween(layers[i]!, layers[i + 1]!.length);
  return n;
}

/** Barycenter sweeps down and up, each followed by transpositions; keeps the best order seen. Returns its crossings. */
function reduceCrossings(layers: Vertex[][], sweeps: number): number {
  let best = totalCrossings(layers);
  let bestOrder = layers.map((l) => [...l]);
  const sortBy = (layer: Vertex[], neighbours: (v: Vertex) => Vertex[]): void => {
    const key = new Map<Vertex, number>();
    for (const v of layer) {
      const ns = neighbours(v);
      // a vertex without neighbours on that side keeps its place
      key.set(v, ns.length === 0 ? v.pos : ns.reduce((s, n) => s + n.pos, 0) / ns.length);
    }
    layer.sort((a, b) => key.get(a)! - key.get(b)! || a.pos - b.pos);
    numberLayer(layer);
  };
  // each half sweep (down, then up) is followed by transpositions and counted: an up sweep
  // can undo what the down sweep gained, so the best order is kept from either; two sweeps
  // without a gain end it
  for (let sweep = 0, stale = 0; sweep < sweeps && best > 0 && stale < 2; sweep++) {
    const gained = best;
    for (const down of [true, false]) {
      if (down) for (let i = 1; i < layers.length; i++) sortBy(layers[i]!, (v) => v.preds);
      else for (let i = layers.length - 2; i >= 0; i--) sortBy(layers[i]!, (v) => v.succs);
      transpose(layers);
      const c = totalCrossings(layers);
      if (c < best) {
        best = c;
        bestOrder = layers.map((l) => [...l]);
      }
    }
    stale = best < gained ? 0 : stale + 1;
  }
  for (let i = 0; i < layers.length; i++) {
    layers[i] = bestOrder[i]!;
    numberLayer(layers[i]!);
  }
  return best;
}

/** Crossings among the edges of u and v (u above v) with the layers either side. */
function pairCrossings(u: Vertex, v: Vertex): number {
  let n = 0;
  for (const side of ['preds', 'succs'] as const) {
    for (const a of u[side]) for (const b of v[side]) if (a.pos > b.pos) n++;
  }
  return n;
}

/** Swaps neighbours in a layer while that removes crossings. */
function transpose(layers: Vertex[][]): void {
  for (let round = 0, improved = true; improved && round < 4; round++) {
    improved = false;
    for (const layer of layers) {
      for (let i = 0; i + 1 < layer.length; i++) {
        const u = layer[i]!;
        const v = layer[i + 1]!;
        if (pairCrossings(u, v) > pairCrossings(v, u)) {
          layer[i] = v;
          layer[i + 1] = u;
          u.pos = i + 1;
          v.pos = i;
          improved = true;
        }
      }
    }
  }
}

/**
 * y coordinates: stacked in order, then a few rounds that move each vertex towards the middle of
 * its neighbours while keeping the order and the gaps.
 */
function placeY(layers: Vertex[][]): void {
  const gap = (a: Vertex, b: Vertex): number => (a.kind === 'virtual' || b.kind === 'virtual' ? VIRTUAL_GAP : NODE_GAP);
  for (const layer of layers) {
    let y = PADDING;
    for (const v of layer) {
      v.y = y;
      y += v.height + (layer[v.pos + 1] ? gap(v, layer[v.pos + 1]!) : 0);
    }
  }
  const centre = (v: Vertex): number => v.y + v.height / 2;
  // Each vertex as near as it can be to where it wants to be (least squares), order and gaps
  // kept: with offsets that turn the gaps into "z never decreases", pool adjacent violators.
  const settle = (layer: Vertex[], wanted: (v: Vertex) => number | undefined): void => {
    if (layer.length === 0) return;
    const offset: number[] = [];
    let o = 0;
    layer.forEach((v, i) => {
      if (i > 0) o += layer[i - 1]!.height + gap(layer[i - 1]!, v);
      offset.push(o);
    });
    const blocks: { sum: number; n: number }[] = [];
    layer.forEach((v, i) => {
      blocks.push({ sum: (wanted(v) ?? centre(v)) - v.height / 2 - offset[i]!, n: 1 });
      while (blocks.length > 1 && blocks.at(-2)!.sum / blocks.at(-2)!.n > blocks.at(-1)!.sum / blocks.at(-1)!.n) {
        const last = blocks.pop()!;
        blocks.at(-1)!.sum += last.sum;
        blocks.at(-1)!.n += last.n;
      }
    });
    let i = 0;
    for (const b of blocks) for (let k = 0; k < b.n; k++, i++) layer[i]!.y = b.sum / b.n + offset[i]!;
  };
  const mean = (ns: Vertex[]): number | undefined => (ns.length === 0 ? undefined : ns.reduce((s, n) => s + centre(n), 0) / ns.length);
  for (let round = 0; round < 4; round++) {
    for (let i = 1; i < layers.length; i++) settle(layers[i]!, (v) => mean(v.preds));
    for (let i = layers.length - 2; i >= 0; i--) settle(layers[i]!, (v) => mean(v.succs));
  }
  // the graph starts at the top
  const top = layers.flat().reduce((m, v) => Math.min(m, v.y), Infinity);
  if (Number.isFinite(top)) for (const v of layers.flat()) v.y = Math.round(v.y - top + PADDING);
}
