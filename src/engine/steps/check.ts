// The check step (docs/concourse-semantics.md §5 "Check step"): find or create the resource config and scope,
// point the resource (or type) at it, take the scope's lock, decide whether a check is due, run
// the type's `check`, and save what it found. Its result is the scope's newest version.
import type { ResourceConfigScope, ScopeCheckState } from '../../model/resource-config.ts';
import type { Version } from '../../model/version.ts';
import { parseDuration } from '../../config/duration.ts';
import type { CheckPlan, PlanId } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { buildEnv, emitError, logStream, stepMetadata, type StepDeps } from './deps.ts';
import type { Container, ContainerSpec } from '../../runtime/runtime.ts';
import { InProcessDeclined } from '../../resources/in-process.ts';
import type { ImageResolver, ResolvedImage } from '../image/index.ts';
import { resourceContainer, runResourceScript, withoutImageEvents } from './resource-script.ts';

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

/**
 * The scope the check saves into (§5): of the config of `source` on the image's parent, the
 * resource's own (pointed at it) or shared. A resource's steady state, its scope already that
 * config's, is one read.
 */
async function checkScope(plan: CheckPlan, source: Record<string, unknown>, image: ResolvedImage, deps: StepDeps): Promise<ResourceConfigScope> {
  const pipelineId = deps.build.pipelineId;
  if (plan.resource && pipelineId !== undefined && 'baseType' in image.parent) {
    const current = await deps.store.currentResourceScope(pipelineId, plan.resource, image.parent, source);
    if (current) return current.scope;
  }
  const resourceId = plan.resource ? await resourceIdByName(deps, 'resource', plan.resource) : undefined;
  const scope = await deps.store.findOrCreateScope(image.parent, source, resourceId ?? null);
  if (resourceId !== undefined) await deps.store.setResourceScope(resourceId, scope);
  return scope;
}

export async function runCheck(id: PlanId, plan: CheckPlan, ctx: StepContext, deps: StepDeps, images: ImageResolver): Promise<boolean> {
  // re-attaching (journal.ts): the step's first event, and maybe its pod, exist already
  const reattach = ctx.reattach === true;
  if (!reattach) await ctx.emit(buildEvent('initialize-check', { time: unixNow(), origin: { id }, name: plan.name }));
  const source = (await deps.interpolator.evaluate(plan.source, ctx.state)) as Record<string, unknown>;
  // a custom type's image is fetched by containers: an in-memory check stops before
  if (deps.inMemory && plan.image.get_plan) needsContainer(deps.inMemory, plan, 'its type has an image of its own');
  const image = await images.fetchImage(id, plan.image, reattach ? withoutImageEvents(ctx) : ctx);
  if (deps.inMemory && !checksInWebNode(plan, source, image, deps, images)) needsContainer(deps.inMemory, plan, 'its type or source is not checked in the web node');
  const scope = await checkScope(plan, source, image, deps);
  if (plan.resource_type) {
    const typeId = await resourceIdByName(deps, 'resource type', plan.resource_type);
    if (typeId !== undefined) await deps.store.setResourceTypeScope(typeId, scope);
  }

  const intervalMs = plan.interval === 'never' ? undefined : parseDuration(plan.interval);
  // the lease outlives the check's own timeout (default 1h) by a margin
  const leaseMs = (plan.timeout ? (parseDuration(plan.timeout) ?? 3_600_000) : 3_600_000) + 60_000;
  const lease = await deps.store.lockScopeForCheck(scope.id, ctx.signal, leaseMs);
  try {
    // the pod of the check a previous web node started: its script ran (or runs, or is started
    // here, once), whatever checkShouldRun would say now. Gone (or never made: a check in the web
    // node), the check simply runs again: a check only finds versions
    // (an image's check, purpose 'image', is never re-attached: resourceContainer)
    const reattached = reattach && ctx.purpose !== 'image' ? await resourceContainer(checkContainerSpec(id, plan, image, ctx, deps), ctx, deps) : undefined;
    const run = reattached !== undefined || checkShouldRun({
      resourceCheck: plan.resource !== undefined,
      skipInterval: plan.skip_interval === true,
      fromVersion: plan.from_version !== undefined,
      buildCreateTime: deps.build.createTime,
      now: new Date(),
      scope: lease.state,
    });
    let latest = lease.latest;
    if (run) {
      const from = plan.from_version ?? lease.latest;
      // an in-memory check has no build row to point at: the resource records it (migration 0021)
      const started = reattached ? Promise.resolve() : deps.store.markCheckStarted(scope.id, plan.resource && !deps.inMemory ? { id: deps.build.id, plan } : undefined);
      started.catch(() => undefined); // awaited below
      // a check in the web node (a registry request, a built-in type's check) runs while its start
      // is recorded, both under the lease; a container is made only once it is (checkVersions)
      // a check that started must end, failed, and wait its interval: otherwise the scope looks
      // checked-in-progress forever, or every scan creates another check build (issue 17)
      let versions: Version[] | undefined;
      try {
        versions = await checkVersions(id, plan, source, from, image, ctx, deps, images, reattached, started);
        await started;
      } catch (err) {
        await started.catch(() => undefined);
        // an in-memory check handed to a check build has not ended: that build checks now
        if (!(err instanceof CheckNeedsContainer)) await lease.finish(false, intervalMs);
        throw err;
      }
      // the versions saved with the end (one write in the steady state; a failed save ends it failed)
      latest = await lease.finish(versions !== undefined, intervalMs, versions);
      if (!versions) {
        await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: false }));
        return false;
      }
    }
    if (latest) ctx.state.storeResult(id, { version: latest });
    await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
    return true;
  } finally {
    await lease.release();
  }
}

/** An in-memory check (StepDeps.inMemory) that turned out to need a container: a check build runs it. */
export class CheckNeedsContainer extends Error {
  override readonly name = 'CheckNeedsContainer';
}

function needsContainer(inMemory: NonNullable<StepDeps['inMemory']>, plan: CheckPlan, why: string): never {
  inMemory.needsContainer = `the check of '${plan.name}' needs a container: ${why}`;
  throw new CheckNeedsContainer(inMemory.needsContainer);
}

/** Whether the check runs in the web node (a registry request or a built-in type's check), needing no container. */
function checksInWebNode(plan: CheckPlan, source: Record<string, unknown>, image: ResolvedImage, deps: StepDeps, images: ImageResolver): boolean {
  if (images.webNodeCheck(plan.type, plan.image)) return true;
  const inProcess = deps.inProcessChecks;
  return inProcess !== undefined && !plan.image.get_plan && image.image.kind === 'base-type' && inProcess.accepts(plan.type, source);
}

/**
 * The versions a check finds, from wherever the type's check runs: a registry request from the
 * web node (docs/image-features.md, decision 12), the web node's own check of a built-in type
 * (docs/in-process-checks.md), or the type's `check` script in a container. Undefined when the
 * check failed as a script fails (its message already in the step's log or events); a throw is
 * an error of the step (no container, a crashed script, a malformed answer, an abort).
 */
async function checkVersions(
  id: PlanId,
  plan: CheckPlan,
  source: Record<string, unknown>,
  from: Version | undefined,
  image: ResolvedImage,
  ctx: StepContext,
  deps: StepDeps,
  images: ImageResolver,
  reattached: Container | undefined,
  /** the check's start being recorded: a container is made only once it is */
  started: Promise<void>,
): Promise<Version[] | undefined> {
  if (reattached) return scriptVersions(reattached, source, from, id, ctx, deps);
  const webNodeCheck = images.webNodeCheck(plan.type, plan.image);
  if (webNodeCheck) {
    try {
      return await webNodeCheck(id, source, from, ctx);
    } catch (err) {
      await emitError(ctx, id, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }
  // a base type's check with Jetway's own image answers as its script would; a custom type
  // (get_plan), or a source the checks decline, keeps its container
  const inProcess = deps.inProcessChecks;
  if (inProcess && !plan.image.get_plan && image.image.kind === 'base-type' && inProcess.accepts(plan.type, source)) {
    const log = logStream(ctx, deps, id, 'stderr');
    try {
      const versions = await inProcess.check(plan.type, { source, ...(from ? { version: from } : {}) }, {
        env: { ...image.env, ...buildEnv(deps) },
        stderr: { write: (chunk: string) => log.write(Buffer.from(chunk)) },
        signal: ctx.signal,
        privileged: image.privileged,
      });
      log.end();
      return versions;
    } catch (err) {
      if (!(err instanceof InProcessDeclined)) {
        // as a script's failure: its message in the step's log, the check failed
        if (!ctx.signal.aborted) log.write(Buffer.from(`${err instanceof Error ? err.message : String(err)}\n`));
        log.end();
        if (ctx.signal.aborted) throw err;
        return undefined;
      }
      log.end();
      if (deps.inMemory) needsContainer(deps.inMemory, plan, err.message);
    }
  }
  // a check re-walked after its container was lost runs again, in a container of its own
  await started;
  const container = await resourceContainer(checkContainerSpec(id, plan, image, ctx, deps), ctx, deps, { fresh: ctx.reattach === true });
  if (!container) throw new Error(`check '${plan.name}': no container`);
  return scriptVersions(container, source, from, id, ctx, deps);
}

/** The container of a check's script. */
function checkContainerSpec(id: PlanId, plan: CheckPlan, image: ResolvedImage, ctx: StepContext, deps: StepDeps): Omit<ContainerSpec, 'handle' | 'reattachable'> {
  return {
    metadata: stepMetadata(deps, 'check', plan.name, id, ctx),
    image: image.image,
    privileged: image.privileged,
    inputs: [],
    outputs: [],
    env: { ...image.env, ...buildEnv(deps) },
  };
}

/** The versions the type's `check` script prints in this container (then destroyed); undefined when it failed. */
async function scriptVersions(container: Container, source: Record<string, unknown>, from: Version | undefined, id: PlanId, ctx: StepContext, deps: StepDeps): Promise<Version[] | undefined> {
  let outcome;
  try {
    outcome = await runResourceScript<Version[]>(container, 'check', from ? { source, version: from } : { source }, ctx, deps, id);
  } finally {
    await container.destroy();
  }
  if (!outcome.ok) return undefined;
  if (!Array.isArray(outcome.response)) throw new Error("resource script 'check' must print a JSON list of versions");
  return outcome.response;
}
