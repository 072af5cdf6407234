// What a pipeline's jobs take from its config alone (their inputs, outputs and groups: job_inputs,
// job_outputs and the groups are written when the pipeline is set, and setting it bumps its
// version), kept per pipeline config version: the version read with the pipeline is the
// invalidation. The job lists the UI and fly poll read those rows once per config, not per
// request (issue 23). Each user keeps what it derives from the rows (`derive`).
import { jobViewsOfPipelines, type JobInputView, type JobOutputView, type PipelineView } from '../db/views.ts';
import type { Queryable } from '../db/database.ts';

export interface JobConfigRows {
  inputs: readonly JobInputView[];
  outputs: readonly JobOutputView[];
}

/** Pipelines kept (the least recently refreshed go first): ~1 KB a pipeline of 10 jobs. */
export const MAX_KEPT_PIPELINES = 10_000;

interface Kept<T> {
  version: number;
  jobs: Map<number, T>;
}

export class JobConfigViews<T> {
  private readonly kept = new Map<number, Kept<T>>();

  constructor(
    private readonly db: Queryable,
    /** what a job's entry is, from its pipeline, name and config rows */
    private readonly derive: (p: PipelineView, job: string, rows: JobConfigRows) => T,
    private readonly maxPipelines = MAX_KEPT_PIPELINES,
  ) {}

  /**
   * Each listed job's entry, by job id, for the pipelines' current versions. `jobs`: the active
   * jobs of each pipeline as just read; a job the kept entries do not know (the pipeline was set
   * again between the reads) refreshes its pipeline too.
   */
  async of(pipelines: readonly PipelineView[], jobs: ReadonlyMap<number, readonly { id: number; name: string }[]>): Promise<Map<number, T>> {
    const out = new Map<number, T>();
    const stale: PipelineView[] = [];
    for (const p of pipelines) {
      const kept = this.kept.get(p.id);
      const listed = jobs.get(p.id) ?? [];
      if (kept?.version !== p.version || listed.some((j) => !kept.jobs.has(j.id))) stale.push(p);
      else for (const j of listed) out.set(j.id, kept.jobs.get(j.id)!);
    }
    if (stale.length === 0) return out;
    const rows = await jobViewsOfPipelines(
      this.db,
      stale.map((p) => p.id),
    );
    for (const p of stale) {
      const entries = new Map<number, T>();
      for (const j of jobs.get(p.id) ?? []) {
        const entry = this.derive(p, j.name, rows.get(j.id) ?? { inputs: [], outputs: [] });
        entries.set(j.id, entry);
        out.set(j.id, entry);
      }
      this.kept.delete(p.id); // re-inserted last: the oldest entries go first
      this.kept.set(p.id, { version: p.version, jobs: entries });
    }
    for (const id of this.kept.keys()) {
      if (this.kept.size <= this.maxPipelines) break;
      this.kept.delete(id);
    }
    return out;
  }

  /** A job's kept entry for the pipeline's current version, if kept (a read that keeps nothing). */
  peek(p: PipelineView, jobId: number): T | undefined {
    const kept = this.kept.get(p.id);
    return kept?.version === p.version ? kept.jobs.get(jobId) : undefined;
  }

  /** How many pipelines are kept (tests). */
  get size(): number {
    return this.kept.size;
  }
}
