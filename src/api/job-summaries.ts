// GET /api/v1/jobs (atc.JobSummary, the dashboard's one request for every job): each job's
// builds read every time, its groups, inputs and outputs kept per pipeline config version.
// Those come from the config alone (job_inputs, job_outputs and the groups are written when a
// pipeline is set, and setting it bumps its version), so the version read with the pipeline is
// their invalidation: a thousand pipelines' 19,000 input rows are read once per config, not per
// request (issue 23).
import { jobSummariesOfPipelines, jobViewsOfPipelines, type BuildSummaryView, type JobSummaryView, type PipelineView } from '../db/views.ts';
import type { Queryable } from '../db/database.ts';
import { jobGroups } from './queries.ts';
import type * as wire from './wire.ts';

/** What a job's summary takes from its pipeline's config. */
interface JobShape {
  groups?: string[];
  inputs?: wire.JobInputSummary[];
  outputs?: wire.JobOutput[];
}

interface PipelineShapes {
  version: number;
  jobs: Map<number, JobShape>;
}

/** Pipelines whose shapes are kept (the oldest entry goes first): ~1 KB a pipeline of 10 jobs. */
export const MAX_KEPT_PIPELINES = 10_000;

export class JobSummaries {
  private readonly shapes = new Map<number, PipelineShapes>();

  constructor(
    private readonly db: Queryable,
    private readonly maxPipelines = MAX_KEPT_PIPELINES,
  ) {}

  /** The active jobs of the pipelines, pipeline by pipeline in the order given. */
  async list(pipelines: readonly PipelineView[]): Promise<wire.JobSummary[]> {
    const jobs = await jobSummariesOfPipelines(
      this.db,
      pipelines.map((p) => p.id),
    );
    // a new config, or a job the kept shapes do not know (the pipeline was set again since)
    const stale = pipelines.filter((p) => {
      const kept = this.shapes.get(p.id);
      return kept?.version !== p.version || (jobs.get(p.id) ?? []).some((j) => !kept.jobs.has(j.id));
    });
    const shapes = new Map([...pipelines.map((p) => [p.id, this.shapes.get(p.id)] as const), ...(await this.refresh(stale, jobs))]);
    return pipelines.flatMap((p) => (jobs.get(p.id) ?? []).map((job) => summaryJson(job, p, shapes.get(p.id)?.jobs.get(job.id) ?? {})));
  }

  /** How many pipelines' shapes are kept (tests). */
  get size(): number {
    return this.shapes.size;
  }

  /** Reads the pipelines' shapes, keeps them (the oldest kept go past the bound) and returns them. */
  private async refresh(pipelines: readonly PipelineView[], jobs: ReadonlyMap<number, readonly JobSummaryView[]>): Promise<Map<number, PipelineShapes>> {
    const fresh = new Map<number, PipelineShapes>();
    if (pipelines.length === 0) return fresh;
    const views = await jobViewsOfPipelines(
      this.db,
      pipelines.map((p) => p.id),
    );
    for (const p of pipelines) {
      const shapes = new Map<number, JobShape>();
      for (const job of jobs.get(p.id) ?? []) {
        const shape = shapeOf(views.get(job.id) ?? { inputs: [], outputs: [] });
        const groups = jobGroups(p, job.name);
        if (groups.length > 0) shape.groups = groups;
        shapes.set(job.id, shape);
      }
      fresh.set(p.id, { version: p.version, jobs: shapes });
      this.shapes.delete(p.id); // re-inserted last: the oldest entries go first
      this.shapes.set(p.id, { version: p.version, jobs: shapes });
    }
    for (const id of this.shapes.keys()) {
      if (this.shapes.size <= this.maxPipelines) break;
      this.shapes.delete(id);
    }
    return fresh;
  }
}

function shapeOf(v: { inputs: readonly { name: string; resource: string; trigger: boolean; passed: string | null }[]; outputs: readonly wire.JobOutput[] }): JobShape {
  const byName = new Map<string, wire.JobInputSummary>();
  for (const row of v.inputs) {
    let input = byName.get(row.name);
    if (!input) {
      input = { name: row.name, resource: row.resource };
      if (row.trigger) input.trigger = true;
      byName.set(row.name, input);
    }
    if (row.passed) (input.passed ??= []).push(row.passed);
  }
  const shape: JobShape = {};
  if (byName.size > 0) shape.inputs = [...byName.values()];
  if (v.outputs.length > 0) shape.outputs = v.outputs.map((o) => ({ name: o.name, resource: o.resource }));
  return shape;
}

/** atc.JobSummary, Go's omitempty: empty fields left out. */
function summaryJson(job: JobSummaryView, p: PipelineView, shape: JobShape): wire.JobSummary {
  const build = (b: BuildSummaryView | null): wire.BuildSummary | undefined => {
    if (!b) return undefined;
    const out: wire.BuildSummary = { id: b.id, name: b.name, status: b.status as wire.BuildStatus };
    if (b.startTime) out.start_time = b.startTime;
    if (b.endTime) out.end_time = b.endTime;
    out.team_name = p.team;
    out.pipeline_id = p.id;
    out.pipeline_name = p.name;
    if (p.instanceVars) out.pipeline_instance_vars = p.instanceVars;
    out.job_name = job.name;
    return out;
  };
  const out: wire.JobSummary = { id: job.id, name: job.name, team_name: p.team, pipeline_id: p.id, pipeline_name: p.name };
  if (p.instanceVars) out.pipeline_instance_vars = p.instanceVars;
  if (job.paused) out.paused = true;
  if (job.pausedBy) out.paused_by = job.pausedBy;
  if (job.pausedAt) out.paused_at = job.pausedAt;
  if (job.hasNewInputs) out.has_new_inputs = true;
  if (shape.groups) out.groups = shape.groups;
  const finished = build(job.finishedBuild);
  if (finished) out.finished_build = finished;
  const next = build(job.nextBuild);
  if (next) out.next_build = next;
  const transition = build(job.transitionBuild);
  if (transition) out.transition_build = transition;
  if (shape.inputs) out.inputs = shape.inputs;
  if (shape.outputs) out.outputs = shape.outputs;
  return out;
}
