// The task step: a task config (inline, or a file from an artifact) run as one process with its
// inputs, outputs and caches, its params as env, and its output streamed live.
import { loadTaskConfig, formatDiagnostic } from '../../config/index.ts';
import type { TaskConfig } from '../../config/schema.ts';
import { parseDuration } from '../../config/duration.ts';
import type { PlanId, TaskPlan } from '../../model/plan.ts';
import { buildEvent, unixNow, type TaskEventConfig } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { readArtifactFile } from '../artifact-files.ts';
import { StepTimedOut } from '../outcome.ts';
import type { Artifact } from '../../model/artifact.ts';
import { emitError, logStream, logWriter, newHandle, offsetLogWriter, stableHandle, stepMetadata, type StepDeps } from './deps.ts';
import { imageReferenceOf, type ImageResolver } from '../image/index.ts';
import type { GetResult } from '../results.ts';
import type { ContainerImage, ContainerSpec } from '../../runtime/runtime.ts';
import { taskCacheKey } from '../../runtime/task-caches.ts';
import { containerLimits } from '../../runtime/container-limits.ts';
import type { TypeImage } from '../../model/plan.ts';
import { fetchImagePlan, type PlannerResourceType } from '../../planner/image-plan.ts';

/** Task params become env: strings as they are, null as "", anything else as JSON (Concourse's rule). */
export function taskEnv(configParams: Record<string, unknown> | undefined, stepParams: Record<string, unknown> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...(configParams ?? {}), ...(stepParams ?? {}) })) {
    env[k] = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  }
  return env;
}

async function taskConfig(plan: TaskPlan, ctx: StepContext, deps: StepDeps): Promise<TaskConfig> {
  if (plan.config) return deps.interpolator.evaluate(plan.config as TaskConfig, ctx.state);
  if (!plan.config_path) throw new Error(`task '${plan.name}' has neither a config nor a file`);
  // inside its artifact only, and bounded (src/engine/artifact-files.ts; docs/security.md "Builds")
  const text = await readArtifactFile({ step: `task '${plan.name}'`, path: plan.config_path, artifact: (name) => ctx.state.artifact(name) });
  const vars = ((await deps.interpolator.evaluate(plan.vars, ctx.state)) ?? {}) as Record<string, unknown>;
  const loaded = loadTaskConfig(text, { file: plan.config_path, vars });
  if (!loaded.config) throw new Error(`invalid task config ${plan.config_path}:\n${loaded.errors.map(formatDiagnostic).join('\n')}`);
  return deps.interpolator.evaluate(loaded.config, ctx.state);
}

/**
 * The image a task's container boots from, on a runtime that runs images: the step's `image:`
 * artifact, else the config's image_resource (its check + get sub-plans, with image-check and
 * image-get events), else rootfs_uri. Always `repository@digest` when the digest is known.
 */
async function taskImage(id: PlanId, plan: TaskPlan, config: TaskConfig, ctx: StepContext, images: ImageResolver): Promise<ContainerImage> {
  if (plan.image !== undefined) {
    const artifact = ctx.state.artifact(plan.image);
    if (!artifact) throw new Error(`task '${plan.name}': unknown image artifact '${plan.image}'`);
    const result = ctx.state.allResults().find((r): r is GetResult => isGetResultFor(r, artifact));
    return {
      kind: 'reference',
      reference: await imageReferenceOf(artifact, result?.version, { step: `task '${plan.name}'`, artifact: plan.image }),
      ...(result?.pullCredentials ? { pullCredentials: result.pullCredentials } : {}),
    };
  }
  if (config.image_resource) {
    const typeImage = plan.image_plan ?? runtimeImagePlan(id, plan, config);
    const resolved = await images.fetchImage(id, typeImage, ctx);
    return resolved.image;
  }
  if (config.rootfs_uri) return { kind: 'reference', reference: rootfsReference(config.rootfs_uri) };
  throw new Error(`task '${plan.name}' has no image: give it image_resource, an image: artifact or rootfs_uri`);
}

/**
 * The image of a task on a runtime that runs fetched images (the local runtime's containers): the
 * step's `image:` artifact, else its image_resource fetched by check + get, else none (the base
 * image: a task without an image, or with a rootfs_uri that runtime cannot pull).
 */
async function fetchedTaskImage(plan: TaskPlan, config: TaskConfig, id: PlanId, ctx: StepContext, images: ImageResolver): Promise<ContainerImage> {
  if (plan.image !== undefined) {
    const artifact = ctx.state.artifact(plan.image);
    if (!artifact) throw new Error(`task '${plan.name}': unknown image artifact '${plan.image}'`);
    return { kind: 'artifact', artifact };
  }
  if (config.image_resource) return (await images.fetchImage(id, plan.image_plan ?? runtimeImagePlan(id, plan, config), ctx)).image;
  return { kind: 'none' };
}

/** A task file's image_resource is only known at run time: plan its check + get now. */
function runtimeImagePlan(id: PlanId, plan: TaskPlan, config: TaskConfig): TypeImage {
  const image = config.image_resource!;
  const types = (plan.resource_types ?? []) as unknown as PlannerResourceType[];
  const { get, check } = fetchImagePlan(
    id,
    {
      name: 'image',
      type: image.type ?? '',
      source: (image.source ?? {}) as Record<string, unknown>,
      ...(image.params ? { params: image.params as Record<string, unknown> } : {}),
      ...(image.version && typeof image.version === 'object' ? { version: image.version as Record<string, string> } : {}),
    },
    types,
    plan.tags,
    plan.check_skip_interval === true,
    undefined,
  );
  return { get_plan: get, ...(check ? { check_plan: check } : {}) };
}

/** Concourse's `rootfs_uri: docker:///repo#tag` (or a plain reference). */
export function rootfsReference(uri: string): string {
  const m = /^docker:\/\/\/?([^#]+)(?:#(.+))?$/.exec(uri);
  if (!m) return uri;
  return m[2] ? `${m[1]}:${m[2]}` : (m[1] ?? uri);
}

function isGetResultFor(value: unknown, artifact: Artifact): boolean {
  return typeof value === 'object' && value !== null && 'artifact' in value && (value as GetResult).artifact === artifact;
}

function withLimits(limits: ContainerSpec['limits']): Pick<ContainerSpec, 'limits'> {
  return limits ? { limits } : {};
}

export async function runTask(id: PlanId, plan: TaskPlan, ctx: StepContext, deps: StepDeps, images: ImageResolver): Promise<boolean> {
  const config = await taskConfig(plan, ctx, deps);
  const run = config.run;
  if (!run?.path) throw new Error(`task '${plan.name}': run.path is missing and the image gives no entrypoint`);
  // the interpolated config, without params, as Concourse shows it (the event sink redacts its ((secrets)))
  const eventConfig: TaskEventConfig = {
    ...(config.platform ? { platform: config.platform } : {}),
    ...(config.rootfs_uri ? { image: config.rootfs_uri } : {}),
    run: { path: run.path, ...(run.args ? { args: run.args } : {}), ...(run.dir ? { dir: run.dir } : {}) },
    inputs: (config.inputs ?? []).map((i) => ({ name: i.name ?? '', path: i.path ?? i.name ?? '' })),
  };
  const wantsImage = plan.image !== undefined || config.image_resource !== undefined || config.rootfs_uri !== undefined;
  // the local runtime's containers run a task in its fetched image, but pull nothing by reference
  const fetchedOnly = !deps.runtime.runsImages && deps.runtime.appliesImages === true;
  const imageNote =
    wantsImage && !deps.runtime.runsImages && !fetchedOnly
      ? `the ${deps.runtime.name} runtime runs tasks as processes on this host: the task's image is not applied`
      : fetchedOnly && plan.image === undefined && config.image_resource === undefined && config.rootfs_uri !== undefined
        ? `the ${deps.runtime.name} runtime cannot pull rootfs_uri (${config.rootfs_uri}): the task runs in the base image; give it image_resource to run in its image`
        : undefined;
  // re-attaching (journal.ts): the step's first events, image and pod exist already
  const reattach = ctx.reattach === true;
  if (!reattach) await ctx.emit(buildEvent('initialize-task', { time: unixNow(), origin: { id }, config: eventConfig, ...(imageNote ? { message: imageNote } : {}) }));
  if (imageNote && !reattach) logWriter(ctx, deps, id, 'stderr')(`${imageNote}\n`);
  const image: ContainerImage = reattach
    ? { kind: 'none' }
    : deps.runtime.runsImages
    ? await taskImage(id, plan, config, ctx, images)
    : fetchedOnly
      ? await fetchedTaskImage(plan, config, id, ctx, images)
      : { kind: 'none' };

  const inputs: { name: string; path: string; artifact: Artifact }[] = [];
  const missing: string[] = [];
  for (const input of config.inputs ?? []) {
    const name = input.name ?? '';
    const artifactName = plan.input_mapping?.[name] ?? name;
    const artifact = ctx.state.artifact(artifactName);
    if (!artifact) {
      if (input.optional !== true) missing.push(artifactName);
      continue;
    }
    inputs.push({ name, path: input.path ?? name, artifact });
  }
  if (missing.length > 0) {
    await emitError(ctx, id, `missing inputs: ${missing.join(', ')}`);
    throw new Error(`missing inputs: ${missing.join(', ')}`);
  }
  const outputs = (config.outputs ?? []).map((o) => ({ name: o.name ?? '', path: o.path ?? o.name ?? '' }));
  const cacheKey = taskCacheKey(deps.build.pipelineId ?? 'one-off', deps.build.jobName ?? deps.build.id, plan.name);
  const caches = (config.caches ?? []).map((c) => ({ path: c.path ?? '', key: cacheKey }));
  // params carry ((secrets)): the runtime keeps their values out of what others can read
  const params = taskEnv(config.params as Record<string, unknown> | undefined, (await deps.interpolator.evaluate(plan.params, ctx.state)) as Record<string, unknown> | undefined);

  // a process that outlives the web node: its pod is found again by its handle (journal.ts)
  const reattachable = deps.runtime.reattaches === true && ctx.stepKey !== undefined;
  const spec: ContainerSpec = {
      handle: reattachable ? stableHandle(deps.build.id, ctx.stepKey!) : newHandle(),
      metadata: stepMetadata(deps, 'task', plan.name, id, ctx),
      image,
      privileged: plan.privileged === true,
      ...(plan.hermetic === true ? { hermetic: true } : {}),
      // known when the container is made: on Kubernetes they shape the pod (runAsUser, limits)
      ...(run.user ? { user: run.user } : {}),
      ...withLimits(containerLimits(config.container_limits as Record<string, unknown> | undefined, plan.container_limits)),
      inputs,
      outputs,
      caches,
      secretEnv: params,
      ...(reattachable ? { reattachable: true } : {}),
  };
  let container;
  if (reattach) {
    container = reattachable ? await deps.runtime.reattachContainer?.(spec, ctx.signal) : undefined;
    if (!container) {
      throw new Error(
        `task '${plan.name}' was running when the web node that ran this build stopped, and its container is gone: its result is unknown, so it is not run a second time`,
      );
    }
  } else {
    await ctx.journaled; // the step's start recorded first
    container = await deps.runtime.createContainer(spec, ctx.signal);
  }
  try {
    if (!reattach) {
      await ctx.emit(buildEvent('selected-worker', { time: unixNow(), origin: { id }, selected_worker: deps.runtime.name }));
      await ctx.emit(buildEvent('start-task', { time: unixNow(), origin: { id }, config: eventConfig }));
    }
    // The step's own `timeout` bounds the process only (not image fetching).
    const controller = new AbortController();
    const forward = (): void => controller.abort(ctx.signal.reason);
    // an abort that came while the container was made (a team's chown can take a while) counts too
    if (ctx.signal.aborted) forward();
    else ctx.signal.addEventListener('abort', forward, { once: true });
    const timeoutMs = plan.timeout ? parseDuration(plan.timeout) : undefined;
    const timedOut = new StepTimedOut(plan.timeout ?? '');
    const timer = timeoutMs !== undefined ? setTimeout(() => controller.abort(timedOut), timeoutMs) : undefined;
    let exitStatus: number;
    // redacted across chunk boundaries; what each stream holds back is flushed when the process ends
    const stdout = logStream(ctx, deps, id, 'stdout');
    const stderr = logStream(ctx, deps, id, 'stderr');
    // a re-attachable process's lines come with their offsets: each saved once (deps.ts)
    const stdoutAt = offsetLogWriter(ctx, deps, id, 'stdout');
    const stderrAt = offsetLogWriter(ctx, deps, id, 'stderr');
    try {
      try {
        ({ exitStatus } = await container.run(
          { path: run.path, ...(run.args ? { args: run.args } : {}), ...(run.dir ? { dir: run.dir } : {}), ...(run.user ? { user: run.user } : {}) },
          {
            stdout: (chunk, offset) => (offset !== undefined ? stdoutAt(chunk, offset) : stdout.write(chunk)),
            stderr: (chunk, offset) => (offset !== undefined ? stderrAt(chunk, offset) : stderr.write(chunk)),
          },
          controller.signal,
        ));
      } finally {
        // before any event about how the process ended
        stdout.end();
        stderr.end();
      }
    } catch (err) {
      if (controller.signal.reason === timedOut && !ctx.signal.aborted) {
        await emitError(ctx, id, 'timeout exceeded');
        return false;
      }
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', forward);
    }
    await ctx.emit(buildEvent('finish-task', { time: unixNow(), origin: { id }, exit_status: exitStatus }));
    for (const output of outputs) {
      const artifactName = plan.output_mapping?.[output.name] ?? output.name;
      ctx.state.registerArtifact(artifactName, await container.artifact(output.path));
    }
    return exitStatus === 0;
  } finally {
    await container.destroy();
  }
}
