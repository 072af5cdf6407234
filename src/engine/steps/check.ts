// The check step (docs/concourse-semantics.md §5 "Check step"): find or create the resource config and scope,
// point the resource (or type) at it, take the scope's lock, decide whether a check is due, run
// the type's `check`, and save what it found. Its result is the scope's newest version.
import type { ScopeCheckState } from '../../model/resource-config.ts';
import type { Version } from '../../model/version.ts';
import { parseDuration } from '../../config/duration.ts';
import type { CheckPlan, PlanId } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { buildEnv, emitError, logStream, newHandle, stepMetadata, type StepDeps } from './deps.ts';
import { InProcessDeclined } from '../../resources/in-process.ts';
import type { ImageResolver } from '../image/index.ts';
import { runResourceScript } from './resource-script.ts';

export interface ShouldRunInput {
  /** a check of a pipeline resource (not of a type's image) */
  resourceCheck: boolean;
  skipInterval: boolean;
  fromVersion: boolean;
  buildCreateTime: Date;
  now: Date;
  scope: ScopeCheckState;
}

/** Whether a check must run now or can reuse the scope's latest version (§5 step 7, §3.3). */
export function checkShouldRun(i: ShouldRunInput): boolean {
  const { scope } = i;
  if (i.resourceCheck) {
    if (i.skipInterval) {
      // manual: skip only when a successful check started after this one was asked for
      if (i.fromVersion) return true;
      return !(scope.lastCheckSucceeded && scope.lastCheckStartTime !== null && scope.lastCheckStartTime > i.buildCreateTime);
    }
    return scope.nextCheckTime === null || i.now >= scope.nextCheckTime;
  }
  // nested (a type's image): reuse a fresh successful check
  if (!scope.lastCheckSucceeded) return true;
  if (scope.lastCheckEndTime !== null && scope.lastCheckEndTime > i.buildCreateTime) return false;
  if (!i.skipInterval && scope.nextCheckTime !== null && i.now < scope.nextCheckTime) return false;
  return true;
}

async function resourceIdByName(deps: StepDeps, kind: 'resource' | 'resource type', name: string): Promise<number | undefined> {
  const pipelineId = deps.build.pipelineId;
  if (pipelineId === undefined) return undefined;
  return kind === 'resource' ? deps.store.resourceId(pipelineId, name) : deps.store.resourceTypeId(pipelineId, name);
}

export async function runCheck(id: PlanId, plan: CheckPlan, ctx: StepContext, deps: StepDeps, images: ImageResolver): Promise<boolean> {
  await ctx.emit(buildEvent('initialize-check', { time: unixNow(), origin: { id }, name: plan.name }));
  const source = (await deps.interpolator.evaluate(plan.source, ctx.state)) as Record<string, unknown>;
  const image = await images.fetchImage(id, plan.image, ctx);
  const config = await deps.store.findOrCreateResourceConfig(image.parent, source);

  const resourceId = plan.resource ? await resourceIdByName(deps, 'resource', plan.resource) : undefined;
  const scope = await deps.store.findOrCreateScope(config.id, resourceId ?? null);
  if (resourceId !== undefined) await deps.store.setResourceScope(resourceId, scope);
  if (plan.resource_type) {
    const typeId = await resourceIdByName(deps, 'resource type', plan.resource_type);
    if (typeId !== undefined) await deps.store.setResourceTypeScope(typeId, scope);
  }

  const intervalMs = plan.interval === 'never' ? undefined : parseDuration(plan.interval);
  // the lease outlives the check's own timeout (default 1h) by a margin
  const leaseMs = (plan.timeout ? (parseDuration(plan.timeout) ?? 3_600_000) : 3_600_000) + 60_000;
  const release = await deps.store.lockScopeForCheck(scope.id, ctx.signal, leaseMs);
  try {
    const run = checkShouldRun({
      resourceCheck: plan.resource !== undefined,
      skipInterval: plan.skip_interval === true,
      fromVersion: plan.from_version !== undefined,
      buildCreateTime: deps.build.createTime,
      now: new Date(),
      scope: await deps.store.scopeCheckState(scope.id),
    });
    if (run) {
      const from = plan.from_version ?? (await deps.store.scopeLatestVersion(scope.id));
      await deps.store.markCheckStarted(scope.id, plan.resource ? { id: deps.build.id, plan } : undefined);
      const webNodeCheck = images.webNodeCheck(plan.type, plan.image);
      if (webNodeCheck) {
        // docs/image-features.md, decision 12: a registry-image check is one registry request from the web node, no pod
        let versions: Version[];
        try {
          versions = await webNodeCheck(id, source, from, ctx);
        } catch (err) {
          await deps.store.markCheckFinished(scope.id, false, intervalMs);
          await emitError(ctx, id, err instanceof Error ? err.message : String(err));
          await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: false }));
          return false;
        }
        await deps.store.saveVersions(scope.id, versions);
        await deps.store.markCheckFinished(scope.id, true, intervalMs);
        const latest = await deps.store.scopeLatestVersion(scope.id);
        if (latest) ctx.state.storeResult(id, { version: latest });
        await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
        return true;
      }
      // issue 23 (docs/in-process-checks.md): a base type's check with Jetway's own image runs in
      // the web node, answering as its script would; a custom type (get_plan), or a source the
      // checks decline, keeps its container
      const inProcess = deps.inProcessChecks;
      if (inProcess && !plan.image.get_plan && image.image.kind === 'base-type' && inProcess.accepts(plan.type, source)) {
        const log = logStream(ctx, deps, id, 'stderr');
        let versions: Version[] | undefined;
        try {
          versions = await inProcess.check(plan.type, { source, ...(from ? { version: from } : {}) }, {
            env: { ...image.env, ...buildEnv(deps) },
            stderr: { write: (chunk: string) => log.write(Buffer.from(chunk)) },
            signal: ctx.signal,
            privileged: image.privileged,
          });
        } catch (err) {
          if (!(err instanceof InProcessDeclined)) {
            // as a script's failure: its message in the step's log, the check failed
            if (!ctx.signal.aborted) log.write(Buffer.from(`${err instanceof Error ? err.message : String(err)}\n`));
            log.end();
            await deps.store.markCheckFinished(scope.id, false, intervalMs);
            if (ctx.signal.aborted) throw err;
            await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: false }));
            return false;
          }
        }
        log.end();
        if (versions) {
          await deps.store.saveVersions(scope.id, versions);
          await deps.store.markCheckFinished(scope.id, true, intervalMs);
          const latest = await deps.store.scopeLatestVersion(scope.id);
          if (latest) ctx.state.storeResult(id, { version: latest });
          await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
          return true;
        }
      }
      let container;
      try {
        container = await deps.runtime.createContainer(
          {
            handle: newHandle(),
            metadata: stepMetadata(deps, 'check', plan.name, id, ctx),
            image: image.image,
            privileged: image.privileged,
            inputs: [],
            outputs: [],
            env: { ...image.env, ...buildEnv(deps) },
          },
          ctx.signal,
        );
      } catch (err) {
        // a check that cannot get a container (a missing namespace) still ends, failed, and
        // waits its interval: otherwise every scan creates another check build (issue 17)
        await deps.store.markCheckFinished(scope.id, false, intervalMs);
        throw err;
      }
      let outcome;
      try {
        outcome = await runResourceScript<Version[]>(container, 'check', from ? { source, version: from } : { source }, ctx, deps, id);
      } catch (err) {
        await deps.store.markCheckFinished(scope.id, false, intervalMs);
        throw err;
      } finally {
        await container.destroy();
      }
      if (!outcome.ok) {
        await deps.store.markCheckFinished(scope.id, false, intervalMs);
        await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: false }));
        return false;
      }
      try {
        if (!Array.isArray(outcome.response)) throw new Error("resource script 'check' must print a JSON list of versions");
        await deps.store.saveVersions(scope.id, outcome.response);
      } catch (err) {
        // a check that started must end: otherwise the scope looks checked-in-progress forever
        await deps.store.markCheckFinished(scope.id, false, intervalMs);
        throw err;
      }
      await deps.store.markCheckFinished(scope.id, true, intervalMs);
    }
    const latest = await deps.store.scopeLatestVersion(scope.id);
    if (latest) ctx.state.storeResult(id, { version: latest });
    await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
    return true;
  } finally {
    await release();
  }
}
