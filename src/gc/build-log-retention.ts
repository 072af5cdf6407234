// A job's build_log_retention (Concourse's build log collector): which builds' logs (their
// events) are reaped. Pure; the collector applies it. The rules, newest build first:
//  - running builds are never reaped and do not count;
//  - `days`: a build that ended more than that many days ago is reaped;
//  - `builds`: the newest that many builds keep their logs, older ones are reaped;
//  - `minimum_succeeded_builds`: a succeeded build the `builds` rule would reap is kept while
//    fewer succeeded builds than that are kept, in place of the oldest kept build that did not
//    succeed (which is reaped instead), so at most `builds` keep their logs.
// `build_logs_to_retain: n` is the deprecated spelling of `build_log_retention: {builds: n}`.

export interface RetentionPolicy {
  builds: number;
  days: number;
  minimumSucceededBuilds: number;
}

export interface JobBuild {
  id: number;
  status: string;
  completed: boolean;
  endTime: Date | null;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0);

/** The policy a job config asks for, or undefined when it keeps every build's logs. */
export function retentionPolicy(jobConfig: { build_log_retention?: unknown; build_logs_to_retain?: unknown }): RetentionPolicy | undefined {
  const r = (jobConfig.build_log_retention ?? {}) as { builds?: unknown; days?: unknown; minimum_succeeded_builds?: unknown };
  const policy = {
    builds: count(r.builds) || count(jobConfig.build_logs_to_retain),
    days: count(r.days),
    minimumSucceededBuilds: count(r.minimum_succeeded_builds),
  };
  return policy.builds > 0 || policy.days > 0 ? policy : undefined;
}

/** The ids of the builds whose logs go, from a job's builds not reaped yet, newest first. */
export function buildsToReap(newestFirst: readonly JobBuild[], policy: RetentionPolicy, now: Date): number[] {
  const cutoff = now.getTime() - policy.days * 86_400_000;
  const reap: number[] = [];
  const keptNotSucceeded: number[] = [];
  let kept = 0;
  let keptSucceeded = 0;
  for (const build of newestFirst) {
    if (!build.completed) continue;
    if (policy.days > 0 && build.endTime !== null && build.endTime.getTime() < cutoff) {
      reap.push(build.id);
      continue;
    }
    const succeeded = build.status === 'succeeded';
    if (policy.builds === 0 || kept < policy.builds) {
      kept++;
      if (succeeded) keptSucceeded++;
      else keptNotSucceeded.push(build.id);
      continue;
    }
    if (succeeded && keptSucceeded < policy.minimumSucceededBuilds && keptNotSucceeded.length > 0) {
      // keep this succeeded build instead of the oldest kept one that did not succeed
      reap.push(keptNotSucceeded.pop()!);
      keptSucceeded++;
      continue;
    }
    reap.push(build.id);
  }
  return reap.sort((a, b) => b - a);
}
