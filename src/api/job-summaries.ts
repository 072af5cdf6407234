// GET /api/v1/jobs (atc.JobSummary, the dashboard's one request for every job): each job's
// builds read every time, its groups, inputs and outputs kept per pipeline config version
// (config-views.ts): a thousand pipelines' 19,000 input rows are read once per config.
import { jobSummariesOfPipelines, type BuildSummaryView, type JobSummaryView, type PipelineView } from '../db/views.ts';
import type { Queryable } from '../db/database.ts';
import { JobConfigViews, MAX_KEPT_PIPELINES, type JobConfigRows } from './config-views.ts';
import { inputsByName, jobGroups } from './queries.ts';
import type * as wire from './wire.ts';

/** What a job's summary takes from its pipeline's config. */
interface JobShape {
  groups?: string[];
  inputs?: wire.JobInputSummary[];
  outputs?: wire.JobOutput[];
}

export class JobSummaries {
  private readonly shapes: JobConfigViews<JobShape>;

  constructor(
    private readonly db: Queryable,
    maxPipelines = MAX_KEPT_PIPELINES,
  ) {
    this.shapes = new JobConfigViews(db, shapeOf, maxPipelines);
  }

  /** The active jobs of the pipelines, pipeline by pipeline in the order given. */
  async list(pipelines: readonly PipelineView[]): Promise<wire.JobSummary[]> {
    const jobs = await jobSummariesOfPipelines(
      this.db,
      pipelines.map((p) => p.id),
    );
    const shapes = await this.shapes.of(pipelines, jobs);
    return pipelines.flatMap((p) => (jobs.get(p.id) ?? []).map((job) => summaryJson(job, p, shapes.get(job.id) ?? {})));
  }

  /** How many pipelines' shapes are kept (tests). */
  get size(): number {
    return this.shapes.size;
  }
}

function shapeOf(p: PipelineView, job: string, v: JobConfigRows): JobShape {
  const inputs = inputsByName(v.inputs, (row): wire.JobInputSummary => (row.trigger ? { name: row.name, resource: row.resource, trigger: true } : { name: row.name, resource: row.resource }));
  const shape: JobShape = {};
  const groups = jobGroups(p, job);
  if (groups.length > 0) shape.groups = groups;
  if (inputs.length > 0) shape.inputs = inputs;
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
