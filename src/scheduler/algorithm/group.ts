import type { Candidate, Resolution, Resolver } from './resolvers.ts';
import {
  NO_SATISFIABLE_BUILDS,
  pinnedVersionNotFound,
  type AlgorithmInput,
  type BuildCursor,
  type OutputConstraints,
  type VersionsStore,
} from './types.ts';

interface BuildEntry {
  id: number;
  hasNext: boolean;
}

async function* tagged(builds: AsyncIterable<BuildCursor>, hasNext: boolean): AsyncGenerator<BuildEntry> {
  for await (const b of builds) yield { id: b.id, hasNext };
}

/**
 * `unusedBuilds(J, c, C?)` of docs/concourse-semantics.md §4.3: builds newer than the cursor (oldest first, not filtered by
 * C, tagged hasNext) followed by the cursor build and older ones (newest first, filtered by C).
 */
export async function* unusedBuilds(
  store: VersionsStore,
  jobId: number,
  cursor: BuildCursor,
  constraints?: OutputConstraints,
): AsyncGenerator<BuildEntry> {
  yield* tagged(store.newerBuilds(jobId, cursor), true);
  yield* tagged(store.olderBuilds(jobId, cursor, constraints), false);
}

function vouch(old: Candidate | null, digest: string, jobId: number, buildId: number, hasNext: boolean): Candidate {
  const vouchedBy = new Set(old?.vouchedBy ?? []);
  vouchedBy.add(jobId);
  return {
    digest,
    vouchedBy,
    sourceBuildIds: [...(old?.sourceBuildIds ?? []), buildId],
    hasNext: (old?.hasNext ?? false) || hasNext,
  };
}

/**
 * Inputs linked by shared passed jobs, resolved together by a backtracking search over the
 * builds of the passed jobs (§4.3 "Group").
 */
export class GroupResolver implements Resolver {
  readonly inputs: readonly AlgorithmInput[];
  private readonly candidates: (Candidate | null)[];
  private doomed: (Candidate | null)[];
  private readonly pins: (string | null)[];
  private readonly orderedJobs: number[][];
  /** Lazily cached: job -> last used build of that job (pipes of the build using the latest version). */
  private lastUsed: Map<number, BuildCursor> | null = null;

  constructor(
    private readonly store: VersionsStore,
    private readonly jobId: number,
    inputs: readonly AlgorithmInput[],
  ) {
    this.inputs = inputs;
    this.candidates = inputs.map(() => null);
    this.doomed = inputs.map(() => null);
    this.pins = inputs.map(() => null);
    this.orderedJobs = inputs.map((input) => [...input.passed].sort((a, b) => a - b));
  }

  async resolve(): Promise<Resolution> {
    for (const [i, input] of this.inputs.entries()) {
      if (!input.pinnedVersion) continue;
      const found = await this.store.findVersion(input.resourceId, input.pinnedVersion);
      if (!found) return { ok: false, failure: pinnedVersionNotFound(input.pinnedVersion) };
      this.pins[i] = found.digest;
    }

    if (!(await this.tryResolve())) return { ok: false, failure: NO_SATISFIABLE_BUILDS };

    const candidates = new Map<string, Candidate>();
    for (const [i, input] of this.inputs.entries()) {
      const candidate = this.candidates[i];
      if (!candidate) throw new Error(`group resolved without a candidate for input ${input.name}`);
      candidates.set(input.name, candidate);
    }
    return { ok: true, candidates };
  }

  private async tryResolve(): Promise<boolean> {
    for (let i = 0; i < this.inputs.length; i++) {
      if (!(await this.trySatisfy(i))) return false;
    }
    return true;
  }

  private async trySatisfy(i: number): Promise<boolean> {
    const current = this.candidates[i] ?? null;
    for (const job of this.orderedJobs[i] ?? []) {
      if (current !== null && current.vouchedBy.has(job)) continue;
      const builds = await this.candidateBuilds(i, current, job);
      if (builds === 'skip') continue;
      if (await this.tryJobBuilds(i, job, builds)) break;
      return false;
    }
    return true;
  }

  /** C: the current candidates of every input that has `job` in its passed set. */
  private constraints(job: number): OutputConstraints {
    const constraints: OutputConstraints = {};
    for (const [k, input] of this.inputs.entries()) {
      const candidate = this.candidates[k];
      if (!input.passed.has(job) || !candidate) continue;
      const key = String(input.resourceId);
      (constraints[key] ??= []).push(candidate.digest);
    }
    return constraints;
  }

  private async candidateBuilds(
    i: number,
    current: Candidate | null,
    job: number,
  ): Promise<AsyncIterable<BuildEntry> | 'skip'> {
    const input = this.inputs[i]!;
    const constraints = this.constraints(job);

    if (input.useEvery) {
      if (this.lastUsed === null) {
        const build = await this.store.latestBuildUsingLatestVersion(this.jobId, input.resourceId);
        if (build !== undefined) this.lastUsed = await this.store.buildPipes(build);
      }
      const related = new Map<number, BuildCursor>();
      for (const [passedJob, cursor] of this.lastUsed ?? []) {
        if (input.passed.has(passedJob)) related.set(passedJob, cursor);
      }
      const cursor = related.get(job);
      if (cursor) return unusedBuilds(this.store, job, cursor, current ? constraints : undefined);
      // Used before with other passed jobs but not this one: let an already-used job lead.
      if (current === null && related.size > 0) return 'skip';
    }

    if (current !== null) return tagged(this.store.successfulBuildsConstrained(job, constraints), false);
    return tagged(this.store.successfulBuilds(job), false);
  }

  private async tryJobBuilds(i: number, job: number, builds: AsyncIterable<BuildEntry>): Promise<boolean> {
    for await (const build of builds) {
      if (await this.tryBuildOutputs(i, job, build.id, build.hasNext)) return true;
    }
    return false;
  }

  private async tryBuildOutputs(i: number, job: number, buildId: number, hasNext: boolean): Promise<boolean> {
    const outputs = await this.store.buildOutputs(buildId);
    const restore = new Map<number, Candidate | null>();
    let mismatch = false;

    outer: for (const output of outputs) {
      for (let c = 0; c < this.inputs.length; c++) {
        if (restore.has(c)) continue; // already set from this build
        // Quirk kept from Go: `mismatch` reflects only the last evaluated candidate.
        mismatch = false;
        const input = this.inputs[c]!;
        if (input.resourceId !== output.resourceId || !input.passed.has(job)) continue;
        const candidate = this.candidates[c] ?? null;
        if (candidate !== null && candidate.digest !== output.digest) {
          mismatch = true;
          break outer;
        }
        if (await this.store.versionIsDisabled(input.resourceId, output.digest)) continue;
        if (input.pinnedVersion && this.pins[c] !== output.digest) continue;
        if (candidate === null && !(await this.store.versionExists(input.resourceId, output.digest))) break outer;
        restore.set(c, candidate);
        this.candidates[c] = vouch(candidate, output.digest, job, buildId, hasNext);
      }
    }

    const mine = this.candidates[i];
    if (mine && mine.vouchedBy.has(job) && !mismatch) {
      if (!this.candidatesAreDoomed()) {
        if (await this.tryResolve()) return true;
        this.doomed = [...this.candidates];
      }
    }

    for (const [c, old] of restore) this.candidates[c] = old;
    return false;
  }

  private candidatesAreDoomed(): boolean {
    return this.candidates.every((candidate, k) => {
      const doomed = this.doomed[k] ?? null;
      if (candidate === null || doomed === null) return candidate === doomed;
      return candidate.digest === doomed.digest;
    });
  }
}
