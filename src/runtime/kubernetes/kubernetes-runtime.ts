// The Kubernetes runtime: every check, get, put and task runs as a pod (docs/kubernetes-runtime.md).
//
// createContainer: the build's pull secret (when the image carries credentials), the pod, a wait
// for it to run (through the shared pod watch: image pull errors fail after the grace period with
// the kubelet's message, a pod that never starts times out), then the output/cache directories,
// the inputs and the cache restores are streamed in through the artifact sidecar.
// run: the process is exec'd in the `step` container (stdin/stdout/stderr apart, exit code from
// the status channel); a cancel signals it through its pid file, then deletes the pod; a pod
// evicted or deleted meanwhile errors the step with the reason.
// artifact: streamed out of the sidecar into a volume directory of the web node.
// destroy: caches saved, the pod deleted (a failed step's pod after the retention period).
import { COMPONENT } from '../../component/names.ts';
import { PeriodicPass, type PassGate } from '../../component/periodic.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import type { Artifact } from '../../model/artifact.ts';
import { ContainerGoneError, ProcessDetached, type Container, type ContainerSpec, type InterceptableContainer, type InterceptIO, type ProcessIO, type ProcessSpec, type Runtime, type StepType } from '../runtime.ts';
import { buildVolumesDir, CACHE_TARBALL_SUFFIX, cacheTarball, exists, streamDirIn, streamFileIn, streamOutToDir, streamOutToFile } from './artifacts.ts';
import { clearTaskCaches } from '../task-caches.ts';
import { DEFAULT_RETRY, errorStatus, KubeClient, loadKubeConfig, resolveNamespace, sleep, type KubeRequestObserver, type RetryPolicy } from './client.ts';
import type { KubernetesRuntimeConfig } from './config.ts';
import { execCollect, ExecInterrupted, startExec } from './exec.ts';
import { ANNOTATIONS, keptForDebugging, LABELS, podName, workDirFor } from './naming.ts';
import { LineChunks } from './line-chunks.ts';
import { ALREADY_STARTED, BUSYBOX, CONTAINERS, DETACHED_EXEC_ID, detachedStartCommand, resultCommand, startedCommand, followCommand, NEVER_STARTED, pidFile, envSecretName, execCommands, inside, interceptCommand, needsArtifactSidecar, podSpec, stepEnvSecret, processCommand, resourceScriptProcess, signalCommand, stepUser, streamOutCommand, type ExecPlan } from './pod-spec.ts';
import { containersToRun, endReasonMayFollow, failedWithoutReason, podEndReason, startupTimeoutMessage, startupVerdict } from './pod-status.ts';
import { PodWatcher, type PodUpdate } from './pod-watcher.ts';
import { pullSecret, pullSecretName } from './pull-secret.ts';

/** The env var a resource script gets with its own image (`repository@digest`), e.g. for mock's mirror_self. */
export const RESOURCE_IMAGE_ENV = 'JETWAY_RESOURCE_IMAGE';

export interface KubernetesRuntimeOptions {
  config: KubernetesRuntimeConfig;
  /** the web node's directory for artifact volumes and task caches */
  root: string;
  logger?: Logger;
  /** how long a cancelled process gets between SIGTERM and the pod's deletion (default 10 s) */
  killGraceMs?: number;
  retry?: RetryPolicy;
  /** an already loaded KubeConfig (tests); else from config.credentials */
  kubeConfig?: KubeConfig;
  /** counts the API requests (metrics) */
  requests?: KubeRequestObserver;
}

/** What the reaper asks the web node: which of these builds are finished (or unknown). */
export type FinishedBuilds = (buildIds: number[]) => Promise<Set<number>>;

export class KubernetesRuntime implements Runtime {
  readonly name = 'kubernetes';
  readonly runsImages = true;
  /** pods and their detached processes outlive the web node (docs/web-nodes.md "Re-attaching builds") */
  readonly reattaches = true;
  readonly client: KubeClient;
  readonly watcher: PodWatcher;
  readonly namespace: string;
  private readonly logger: Logger;
  /** pods this runtime is using (created, running, being destroyed) */
  private readonly live = new Set<string>();
  /** failed steps' pods kept for debugging: name -> deletion timer */
  private readonly retained = new Map<string, NodeJS.Timeout>();
  /** pull secrets created per build */
  private readonly buildSecrets = new Map<number, Set<string>>();
  private reaper: PeriodicPass<string[]> | undefined;

  constructor(readonly opts: KubernetesRuntimeOptions) {
    const kc = opts.kubeConfig ?? loadKubeConfig(opts.config.credentials);
    this.namespace = resolveNamespace(kc, opts.config.namespace, opts.config.credentials);
    this.client = new KubeClient(kc, this.namespace, opts.retry ?? DEFAULT_RETRY, opts.requests);
    this.logger = opts.logger ?? silentLogger;
    this.watcher = new PodWatcher(this.client, this.logger);
  }

  get config(): KubernetesRuntimeConfig {
    return this.opts.config;
  }

  async createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container> {
    signal.throwIfAborted();
    // pure: refuses what cannot run as a pod (no image, an artifact directory, a privileged step
    // on a cluster that does not allow them, limits above the maximum) before anything is created
    podSpec(spec, this.config);
    for (const input of spec.inputs) {
      if (input.artifact.kind !== 'volume') {
        throw new Error(`input '${input.name}' is an image reference (${input.artifact.reference}); a step's inputs need content, which an image reference has not`);
      }
    }
    const plan = execCommands(spec);
    let pullSecretNameForPod: string | undefined;
    if (spec.image.kind === 'reference' && spec.image.pullCredentials) {
      pullSecretNameForPod = await this.ensurePullSecret(spec, spec.image.pullCredentials, signal);
    }
    const pod = podSpec(spec, { ...this.config, namespace: this.namespace }, pullSecretNameForPod !== undefined ? { pullSecretName: pullSecretNameForPod } : {});
    const name = pod.metadata?.name ?? '';
    await this.watcher.start();
    this.live.add(name);
    const container = new KubernetesContainer(this, spec, name, plan);
    const envSecret = stepEnvSecret(spec, pod);
    try {
      if (envSecret) await this.createSecret(envSecret, signal);
      const started = this.waitForRunning(name, pod, signal);
      // a rejection before we await it must not be unhandled
      started.catch(() => undefined);
      await this.client.call({ verb: 'create', resource: 'pods' }, async () => {
        try {
          return await this.client.core.createNamespacedPod({ namespace: this.namespace, body: pod });
        } catch (err) {
          // a retried create whose first attempt went through
          if (errorStatus(err) === 409) return pod;
          throw err;
        }
      }, signal);
      this.logger.info({ pod: name, handle: spec.handle }, 'pod created');
      const running = await started;
      // the step container has its env: the values need not stay anywhere
      if (envSecret) await this.deleteSecret(envSecretName(name));
      container.imageId = running.status?.containerStatuses?.find((c) => c.name === CONTAINERS.step)?.imageID || undefined;
      await container.prepare(signal);
      return container;
    } catch (err) {
      await container.abandon(!signal.aborted);
      if (envSecret) await this.deleteSecret(envSecretName(name)).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The pod a previous web node made for this step (the same handle, so the same name), for its
   * detached process to be followed again; undefined when the pod is gone or ending.
   */
  async reattachContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container | undefined> {
    signal.throwIfAborted();
    await this.watcher.start();
    const name = podName(spec.metadata, spec.handle);
    let pod = this.watcher.get(name);
    if (!pod) {
      // the watch's cache may not have it yet
      pod = await this.client
        .call({ verb: 'get', resource: 'pods' }, () => this.client.core.readNamespacedPod({ name, namespace: this.namespace }), signal)
        .catch((err: unknown) => {
          if (errorStatus(err) === 404) return undefined;
          throw err;
        });
    }
    if (!pod || pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return undefined;
    this.live.add(name);
    const container = new KubernetesContainer(this, spec, name, execCommands(spec));
    container.reattached = true;
    try {
      // a pod the previous node made may still be starting (Pending, pulling its image)
      const running = await this.waitForRunning(name, pod, signal);
      container.imageId = running.status?.containerStatuses?.find((c) => c.name === CONTAINERS.step)?.imageID || undefined;
      if (Object.keys(spec.secretEnv ?? {}).length > 0) await this.deleteSecret(envSecretName(name));
      container.started = (await execCollect(this.client, name, startedCommand(DETACHED_EXEC_ID), undefined, signal)).exitCode === 0;
      // not started: the previous node stopped between the pod and the start; this node streams
      // the inputs in again and starts the process (exactly once: detachedStartCommand's marker)
      if (!container.started) await container.prepare(signal);
    } catch (err) {
      this.live.delete(name);
      throw err;
    }
    this.logger.info({ pod: name, handle: spec.handle, started: container.started }, 'pod re-attached');
    return container;
  }

  /** A pod left to another web node (a hand-over): this runtime no longer uses it. */
  forget(name: string): void {
    this.live.delete(name);
  }

  private async createSecret(secret: V1Secret, signal: AbortSignal): Promise<void> {
    await this.client.call({ verb: 'create', resource: 'secrets' }, async () => {
      try {
        await this.client.core.createNamespacedSecret({ namespace: this.namespace, body: secret });
      } catch (err) {
        if (errorStatus(err) !== 409) throw err; // a retried create whose first attempt went through, or a shared pull secret
      }
    }, signal);
  }

  private async ensurePullSecret(spec: ContainerSpec, creds: { registry: string; username: string; password: string }, signal: AbortSignal): Promise<string> {
    const buildId = spec.metadata.buildId;
    if (buildId === undefined) throw new Error('an image with pull credentials needs a build to own its pull secret');
    const name = pullSecretName(buildId, creds);
    const known = this.buildSecrets.get(buildId);
    if (known?.has(name)) return name;
    const secret = pullSecret(
      {
        buildId,
        ...(spec.metadata.build !== undefined ? { build: spec.metadata.build } : {}),
        ...(spec.metadata.team !== undefined ? { team: spec.metadata.team } : {}),
        ...(spec.metadata.pipeline !== undefined ? { pipeline: spec.metadata.pipeline } : {}),
        ...(spec.metadata.job !== undefined ? { job: spec.metadata.job } : {}),
      },
      creds,
      this.namespace,
    );
    await this.createSecret(secret, signal); // already there (409): another step of the build made it
    const set = known ?? new Set<string>();
    set.add(name);
    this.buildSecrets.set(buildId, set);
    return name;
  }

  /**
   * Resolves when the pod's `step` container (and the sidecar) run; rejects on a pull failure
   * that outlasts the grace period, a failed or deleted pod, the start-up timeout or the signal.
   */
  private waitForRunning(name: string, pod: V1Pod, signal: AbortSignal): Promise<V1Pod> {
    const containers = containersToRun(pod);
    const cfg = this.config;
    return new Promise<V1Pod>((resolve, reject) => {
      let pullFailure: { since: number; message: string } | undefined;
      let pullTimer: NodeJS.Timeout | undefined;
      let last: V1Pod | undefined;
      const finish = (err: Error | undefined, value?: V1Pod): void => {
        clearTimeout(startupTimer);
        clearTimeout(pullTimer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value!);
      };
      const startupTimer = setTimeout(() => finish(new Error(startupTimeoutMessage(name, cfg.podStartupTimeoutMs, last))), cfg.podStartupTimeoutMs);
      const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      signal.addEventListener('abort', onAbort, { once: true });
      const check = (update: PodUpdate): void => {
        if (update.kind === 'pod') last = update.pod;
        const now = Date.now();
        const verdict = startupVerdict(name, update, { containers, pullFailingSince: pullFailure?.since, now, pullGraceMs: cfg.imagePullGraceMs });
        if (verdict.kind === 'pull-failing') {
          // the grace period runs from the first failure: later updates only refresh the message
          if (!pullFailure) {
            pullFailure = { since: now, message: verdict.message };
            pullTimer = setTimeout(() => finish(new Error(pullFailure?.message ?? verdict.message)), cfg.imagePullGraceMs);
          } else {
            pullFailure.message = verdict.message;
          }
          return;
        }
        if (pullFailure) {
          clearTimeout(pullTimer);
          pullFailure = undefined;
        }
        if (verdict.kind === 'failed') finish(new Error(verdict.message));
        else if (verdict.kind === 'running' && update.kind === 'pod') finish(undefined, update.pod);
      };
      const unsubscribe = this.watcher.subscribe(name, check);
    });
  }

  /** Deletes a pod (not found is fine). */
  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.client.call({ verb: 'delete', resource: 'pods' }, async () => {
      try {
        await this.client.core.deleteNamespacedPod({ name, namespace: this.namespace, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
      } catch (err) {
        if (errorStatus(err) !== 404) throw err;
      }
    });
  }

  /** A pod the runtime is done with: deleted now, or (a failed step) after the retention period. */
  async finishPod(name: string, failed: boolean): Promise<void> {
    this.live.delete(name);
    const retention = this.config.failedPodRetentionMs;
    if (failed && retention > 0) {
      // the other web nodes' reapers see the retention on the pod itself
      await this.annotateRetention(name, new Date(Date.now() + retention)).catch((err: unknown) =>
        this.logger.warn({ pod: name, err }, 'marking a failed step pod as kept failed; another web node may remove it before the retention ends'),
      );
      const timer = setTimeout(() => {
        this.retained.delete(name);
        this.deletePod(name).catch((err: unknown) => this.logger.warn({ pod: name, err }, 'deleting a retained pod failed'));
      }, retention);
      timer.unref();
      this.retained.set(name, timer);
      this.logger.info({ pod: name, retentionMs: retention }, 'failed step pod kept for debugging');
      return;
    }
    await this.deletePod(name);
  }

  /** Marks a pod as kept for debugging until `until` (docs/web-nodes.md: every node's reaper honours it). */
  private async annotateRetention(name: string, until: Date): Promise<void> {
    await this.client.call({ verb: 'patch', resource: 'pods' }, async () => {
      await this.client.core.patchNamespacedPod(
        { name, namespace: this.namespace, body: { metadata: { annotations: { [ANNOTATIONS.retainUntil]: until.toISOString() } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    });
  }

  /**
   * A finished build: its pull secrets and volumes go, and so do its pods this runtime is not
   * using and nobody keeps for debugging (pods a previous web node left behind, once the build
   * ended here), at once rather than at the reaper's next pass.
   */
  async releaseBuild(buildId: number): Promise<void> {
    await this.watcher.start();
    const now = new Date();
    for (const pod of this.watcher.list()) {
      const name = pod.metadata?.name;
      if (!name || pod.metadata?.labels?.[LABELS.buildId] !== String(buildId)) continue;
      if (this.live.has(name) || this.retained.has(name) || pod.metadata?.deletionTimestamp) continue;
      if (keptForDebugging(pod.metadata?.annotations, now)) continue;
      await this.deletePod(name, 0);
      this.logger.info({ pod: name, buildId }, 'removed a pod of a finished build');
    }
    const secrets = this.buildSecrets.get(buildId);
    this.buildSecrets.delete(buildId);
    for (const name of secrets ?? []) await this.deleteSecret(name);
    await rm(buildVolumesDir(this.opts.root, buildId), { recursive: true, force: true });
  }

  /** Task caches are tarballs on the web node (not in the cluster): no API request. */
  clearTaskCache(key: string, path?: string): Promise<number> {
    return clearTaskCaches(this.opts.root, key, path, CACHE_TARBALL_SUFFIX);
  }

  private async deleteSecret(name: string): Promise<void> {
    await this.client.call({ verb: 'delete', resource: 'secrets' }, async () => {
      try {
        await this.client.core.deleteNamespacedSecret({ name, namespace: this.namespace });
      } catch (err) {
        if (errorStatus(err) !== 404) throw err;
      }
    });
  }

  /**
   * Starts the reaper: every `intervalMs`, Jetway's pods (from the watch's cache) that this
   * runtime is not using and whose build is finished or unknown are deleted, with their builds'
   * pull secrets (named in the pods' imagePullSecrets).
   */
  startReaper(finishedBuilds: FinishedBuilds, intervalMs = 30_000, cluster?: PassGate): void {
    if (this.reaper) return;
    const reaper = new PeriodicPass(
      () => this.reap(finishedBuilds),
      intervalMs,
      (err: unknown) => this.logger.warn({ err }, 'reaping pods failed'),
      // several web nodes: one reaper pass per interval across them (docs/web-nodes.md)
      cluster ? { cluster: { name: COMPONENT.kubernetesReaper, gate: cluster } } : {},
    );
    this.reaper = reaper;
    // Passes begin after the watch's first list: a pass waiting for it would hold close() up,
    // and close() may come first (then nothing starts).
    void this.watcher.start().then(() => {
      if (this.reaper === reaper) reaper.start();
    });
  }

  /** One reaper pass; returns the pods deleted. */
  async reap(finishedBuilds: FinishedBuilds): Promise<string[]> {
    await this.watcher.start();
    const now = new Date();
    const candidates: { name: string; buildId: number | undefined; secrets: string[] }[] = [];
    for (const pod of this.watcher.list()) {
      const name = pod.metadata?.name;
      if (!name || this.live.has(name) || this.retained.has(name)) continue;
      if (pod.metadata?.deletionTimestamp) continue;
      // kept for debugging by another web node (or this one before a restart)
      if (keptForDebugging(pod.metadata?.annotations, now)) continue;
      const raw = pod.metadata?.labels?.[LABELS.buildId];
      const buildId = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
      const secrets = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter((s) => s.startsWith('jetway-pull-') && !this.config.imagePullSecrets.includes(s));
      // an env secret is left only when a web node stopped between creating it and the pod running
      if (pod.spec?.containers.some((c) => c.env?.some((e) => e.valueFrom?.secretKeyRef?.name === envSecretName(name)))) secrets.push(envSecretName(name));
      candidates.push({ name, buildId, secrets });
    }
    if (candidates.length === 0) return [];
    const ids = [...new Set(candidates.flatMap((c) => (c.buildId !== undefined ? [c.buildId] : [])))];
    const finished = ids.length > 0 ? await finishedBuilds(ids) : new Set<number>();
    const deleted: string[] = [];
    const secrets = new Set<string>();
    for (const c of candidates) {
      if (c.buildId !== undefined && !finished.has(c.buildId)) continue;
      // checked again: a step may have started using it meanwhile (never: names are unique), or it went
      if (this.live.has(c.name)) continue;
      for (const s of c.secrets) secrets.add(s);
      await this.deletePod(c.name, 0);
      deleted.push(c.name);
    }
    for (const s of secrets) await this.deleteSecret(s);
    if (deleted.length > 0) this.logger.info({ pods: deleted }, 'reaped pods of finished or unknown builds');
    return deleted;
  }

  /**
   * The build's pods `jetway intercept` can run a command in (from the watch's cache): this
   * runtime's running steps and the failed ones kept for debugging, whose step container runs.
   * Oldest first.
   */
  async interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    await this.watcher.start();
    const out: InterceptableContainer[] = [];
    for (const pod of this.watcher.list()) {
      const found = this.interceptable(pod);
      if (found && pod.metadata?.labels?.[LABELS.buildId] === String(buildId)) out.push(found);
    }
    return out.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
  }

  /**
   * The builds with an interceptable pod (running, or kept after a failure), finished ones
   * included: a failed step's kept pod outlives its build, and the team's container list (fly
   * intercept, GET /api/v1/teams/:team/containers) finds it through this.
   */
  async containerBuildIds(): Promise<number[]> {
    await this.watcher.start();
    const ids = new Set<number>();
    for (const pod of this.watcher.list()) {
      const raw = pod.metadata?.labels?.[LABELS.buildId];
      if (raw !== undefined && /^\d+$/.test(raw) && this.interceptable(pod)) ids.add(Number(raw));
    }
    return [...ids];
  }

  private interceptable(pod: V1Pod): InterceptableContainer | undefined {
    const name = pod.metadata?.name;
    if (!name || pod.metadata?.deletionTimestamp) return undefined;
    const state = this.retained.has(name) || keptForDebugging(pod.metadata?.annotations, new Date()) ? 'failed' : this.live.has(name) ? 'running' : undefined;
    if (!state) return undefined;
    if (!pod.status?.containerStatuses?.find((c) => c.name === CONTAINERS.step)?.state?.running) return undefined;
    const annotations = pod.metadata?.annotations ?? {};
    const labels = pod.metadata?.labels ?? {};
    const handle = annotations[LABELS.handle] ?? labels[LABELS.handle] ?? name;
    const type = (annotations[LABELS.type] ?? labels[LABELS.type] ?? 'task') as StepType;
    const created = pod.metadata?.creationTimestamp;
    return {
      handle,
      step: annotations[LABELS.step] ?? labels[LABELS.step] ?? '',
      type,
      state,
      ...(annotations[LABELS.purpose] === 'image' ? { purpose: 'image' as const } : {}),
      name,
      workDir: pod.spec?.containers.find((c) => c.name === CONTAINERS.step)?.workingDir ?? workDirFor(handle),
      ...(created !== undefined ? { createdAt: new Date(created).toISOString() } : {}),
    };
  }

  /**
   * Runs `command` (default: busybox sh) in the `step` container of the pod with this handle, in
   * its work dir, through the exec API: stdin, stdout and stderr streamed, the exit code returned.
   * No TTY. Leaves the step alone: it neither extends a kept pod's retention nor keeps a
   * succeeded step's pod (the session ends when the pod is deleted).
   */
  async intercept(handle: string, command: string[], io: InterceptIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    signal.throwIfAborted();
    await this.watcher.start();
    const target = this.watcher
      .list()
      .map((pod) => this.interceptable(pod))
      .find((c) => c?.handle === handle);
    if (!target) throw new ContainerGoneError(`the container ${handle} is gone (its step finished, or its pod was deleted)`);
    const cmd = interceptCommand(target.workDir, command);
    // the program only: its arguments may carry a token the user typed
    this.logger.info({ pod: target.name, program: command[0] ?? 'sh' }, 'intercept session started');
    const session = await startExec(this.client, target.name, cmd, { stdin: io.stdin, stdout: (c) => io.stdout(c), stderr: (c) => io.stderr(c) }, signal);
    const onAbort = (): void => session.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const exitStatus = await session.done;
      return { exitStatus };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const pod = this.watcher.get(target.name);
      if (err instanceof ExecInterrupted && (!pod || pod.metadata?.deletionTimestamp)) {
        throw new ContainerGoneError(`the pod ${target.name} was deleted during the session`);
      }
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the watch, the reaper and the retention timers (pods kept for debugging stay). */
  async close(): Promise<void> {
    const reaper = this.reaper;
    this.reaper = undefined;
    await reaper?.stop();
    for (const timer of this.retained.values()) clearTimeout(timer);
    this.retained.clear();
    this.watcher.stop();
  }
}

class KubernetesContainer implements Container {
  readonly workDir: string;
  imageId: string | undefined;
  private failed = false;
  /** found again after a web node restart or takeover: its process runs already, unless `started` is false */
  reattached = false;
  /** whether its re-attachable process was started (a re-attached pod's may not be: startedCommand) */
  started = false;
  /** left running for another web node (ProcessDetached) */
  private detached = false;
  private deleting = false;
  private destroyed = false;
  private execs = 0;
  private userChecked: Promise<void> | undefined;
  private readonly exported = new Map<string, Promise<Artifact>>();

  constructor(
    private readonly runtime: KubernetesRuntime,
    private readonly spec: ContainerSpec,
    readonly podName: string,
    private readonly plan: ExecPlan,
  ) {
    this.workDir = plan.workDir;
  }

  get handle(): string {
    return this.spec.handle;
  }

  private get client(): KubeClient {
    return this.runtime.client;
  }

  /** Output and cache directories, inputs and cache restores, streamed in. */
  async prepare(signal: AbortSignal): Promise<void> {
    if (!needsArtifactSidecar(this.spec)) return;
    if (this.plan.prepare) {
      const r = await execCollect(this.client, this.podName, this.plan.prepare, undefined, signal);
      if (r.exitCode !== 0) throw new Error(`preparing the work directory of pod ${this.podName} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    }
    for (const input of this.plan.inputs) {
      const artifact = this.spec.inputs.find((i) => i.name === input.name && i.path === input.path)?.artifact;
      if (artifact?.kind !== 'volume') continue;
      await streamDirIn(this.client, this.podName, input.command, artifact.path, `input '${input.name}'`, signal);
    }
    for (const cache of this.plan.caches) {
      const file = cacheTarball(this.runtime.opts.root, cache.key, cache.path);
      if (await exists(file)) await streamFileIn(this.client, this.podName, cache.restore, file, `cache '${cache.path}'`, signal);
    }
  }

  resourceScript(script: 'check' | 'in' | 'out'): ProcessSpec {
    return { ...resourceScriptProcess(script), ...(this.imageId ? { env: { [RESOURCE_IMAGE_ENV]: this.imageId } } : {}) };
  }

  async run(proc: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    signal.throwIfAborted();
    if (this.spec.reattachable) return this.runDetached(proc, io, signal);
    if (stepUser(proc.user)?.kind === 'name') await this.checkUserSupport(signal);
    const execId = `p${++this.execs}-${randomBytes(4).toString('hex')}`;
    return this.follow(processCommand(proc, this.workDir, execId, this.spec.user), execId, io, signal);
  }

  /**
   * A process that outlives the web node (issue 17): started detached (unless re-attached: it
   * runs already), then followed; its output comes as whole lines with their offsets. A web
   * node stopping (ProcessDetached) leaves it running and its pod in place.
   */
  private async runDetached(proc: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    if (!this.reattached || !this.started) {
      if (stepUser(proc.user)?.kind === 'name') await this.checkUserSupport(signal);
      // the request goes in through the start's stdin, into a file only the container's user reads
      const start = detachedStartCommand(processCommand(proc, this.workDir, DETACHED_EXEC_ID, this.spec.user));
      const r = await execCollect(this.client, this.podName, start, io.stdin ?? '', signal);
      // ALREADY_STARTED: another web node started it meanwhile (a takeover racing a slow start): follow it
      if (r.exitCode !== 0 && r.exitCode !== ALREADY_STARTED) throw new Error(`starting the process in pod ${this.podName} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
      this.started = true;
    }
    const out = new LineChunks((chunk, offset) => io.stdout(chunk, offset));
    const err = new LineChunks((chunk, offset) => io.stderr(chunk, offset));
    const follow = followCommand(DETACHED_EXEC_ID, { stdout: io.result === undefined });
    const result = await this.follow(follow, DETACHED_EXEC_ID, { stdout: (c) => out.push(c), stderr: (c) => err.push(c) }, signal);
    out.end();
    err.end();
    if (result.exitStatus === NEVER_STARTED) {
      const check = await execCollect(this.client, this.podName, { container: CONTAINERS.step, command: [BUSYBOX, 'test', '-e', pidFile(DETACHED_EXEC_ID)] }, undefined, signal);
      if (check.exitCode !== 0) throw new Error(`the step's process never started in pod ${this.podName}: its result is unknown, so it is not run a second time`);
    }
    if (io.result && result.exitStatus === 0) io.stdout(await this.readResult(io.result.maxBytes, signal));
    return result;
  }

  /** A finished resource script's result from its file in the pod, at most `maxBytes` + 1 bytes. */
  private async readResult(maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    const handle = await startExec(this.client, this.podName, resultCommand(DETACHED_EXEC_ID, maxBytes), { stdout: (c) => chunks.push(c), stderr: (c) => errors.push(c) }, signal);
    const code = await handle.done;
    if (code !== 0) throw new Error(`reading the result of the process in pod ${this.podName} failed (exit ${code}): ${Buffer.concat(errors).toString().trim()}`);
    return Buffer.concat(chunks);
  }

  private async follow(cmd: ExecPlan['outputs'][number]['command'], execId: string, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    let podGone: ((err: Error) => void) | undefined;
    const gone = new Promise<never>((_, reject) => (podGone = reject));
    gone.catch(() => undefined);
    let settleTimer: NodeJS.Timeout | undefined;
    const unsubscribe = this.runtime.watcher.subscribe(this.podName, (update) => {
      if (this.deleting) return;
      const reason = podEndReason(this.podName, update);
      if (!reason) return;
      // a moment for the reason to arrive
      if (endReasonMayFollow(update)) {
        settleTimer ??= setTimeout(() => podGone?.(new Error(podEndReason(this.podName, latest(this.runtime.watcher, this.podName)) ?? reason)), 1_000);
        return;
      }
      clearTimeout(settleTimer);
      podGone?.(new Error(reason));
    });
    try {
      const handle = await startExec(this.client, this.podName, cmd, { stdin: io.stdin ?? '', stdout: (c) => io.stdout(c), stderr: (c) => io.stderr(c) }, signal);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = (): void => {
          if (signal.reason instanceof ProcessDetached && this.spec.reattachable) {
            // the web node hands the build over: the process goes on, for the next node to follow
            this.detached = true;
            handle.close();
            reject(signal.reason);
            return;
          }
          void this.cancel(execId, handle.done).finally(() => {
            handle.close();
            reject(signal.reason);
          });
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      try {
        const exitStatus = await Promise.race([handle.done, gone, aborted]);
        if (exitStatus !== 0) {
          this.failed = true;
          // a process killed with its pod: report the pod's fate, not the signal
          if (exitStatus >= 128) {
            const reason = await this.podFate(2_000);
            if (reason) throw new Error(reason);
          }
        }
        return { exitStatus };
      } catch (err) {
        this.failed = true;
        if (signal.aborted) throw signal.reason;
        // the exec ended without an exit code (dropped, or the kubelet's "container does not
        // exist"): when the pod itself ended (evicted, deleted), that is the step's error
        {
          const reason = await this.podFate(err instanceof ExecInterrupted ? 5_000 : 2_000);
          if (reason) throw new Error(reason);
        }
        handle.close();
        throw err;
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      this.failed = true;
      throw err;
    } finally {
      clearTimeout(settleTimer);
      unsubscribe();
    }
  }

  /** run.user goes through busybox chpst: a helper image whose busybox lacks it cannot run as a user. */
  private checkUserSupport(signal: AbortSignal): Promise<void> {
    this.userChecked ??= (async () => {
      const r = await execCollect(this.client, this.podName, { container: CONTAINERS.step, command: [BUSYBOX, 'chpst'] }, undefined, signal);
      if (r.exitCode === 127 || /applet not found/.test(r.stderr)) {
        throw new Error(
          `run.user needs busybox's chpst, and the helper image ${this.runtime.config.helperImage} has no chpst applet: ` +
            'give --kubernetes-helper-image an image whose static /bin/busybox has chpst, or give run.user as a numeric uid (the pod then runs as it)',
        );
      }
    })();
    return this.userChecked;
  }

  /** Cancelling: TERM to the process, up to the kill grace for it to end, then the pod is deleted. */
  private async cancel(execId: string, done: Promise<number>): Promise<void> {
    this.failed = true;
    const term = execCollect(this.client, this.podName, signalCommand(execId, 'TERM')).catch(() => undefined);
    const grace = this.runtime.opts.killGraceMs ?? 10_000;
    await Promise.race([done.catch(() => undefined), sleep(grace)]);
    await term;
    this.deleting = true;
    await this.runtime.deletePod(this.podName, 0).catch(() => undefined);
  }

  /** The pod as the API server has it (deleted: gone), or undefined when it cannot be read. */
  private async readPodNow(): Promise<PodUpdate | undefined> {
    try {
      const pod = await this.client.core.readNamespacedPod({ name: this.podName, namespace: this.runtime.namespace });
      return { kind: 'pod', pod };
    } catch (err) {
      return errorStatus(err) === 404 ? { kind: 'deleted' } : undefined;
    }
  }

  /** Why the pod ended, when it did (waiting up to `waitMs` for the watch to say, then asking the API server). */
  private podFate(waitMs: number): Promise<string | undefined> {
    const specific = (update: PodUpdate): string | undefined => {
      const reason = podEndReason(this.podName, update);
      return reason && !failedWithoutReason(update) ? reason : undefined;
    };
    return new Promise((resolve) => {
      const now = specific(latest(this.runtime.watcher, this.podName));
      if (now) {
        resolve(now);
        return;
      }
      const timer = setTimeout(() => {
        unsubscribe();
        // the watch may lag on a loaded node or API server: the pod as the API server has it now
        void this.readPodNow().then((update) => resolve(podEndReason(this.podName, update ?? latest(this.runtime.watcher, this.podName))));
      }, waitMs);
      const unsubscribe = this.runtime.watcher.subscribe(this.podName, (update) => {
        const reason = specific(update);
        if (reason) {
          clearTimeout(timer);
          unsubscribe();
          resolve(reason);
        }
      });
    });
  }

  artifact(path: string): Promise<Artifact> {
    let known = this.exported.get(path);
    if (!known) {
      known = (async (): Promise<Artifact> => {
        const dir = inside(this.workDir, path);
        const volume = join(buildVolumesDir(this.runtime.opts.root, this.spec.metadata.buildId), randomUUID());
        await streamOutToDir(this.client, this.podName, streamOutCommand(dir), volume, `'${path}'`);
        return { kind: 'volume', path: volume, handle: this.handle };
      })();
      known.catch(() => undefined);
      this.exported.set(path, known);
    }
    return known;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.detached) {
      // handed over: the pod stays for the web node that re-attaches
      this.runtime.forget(this.podName);
      return;
    }
    try {
      if (!this.deleting && this.runtime.watcher.get(this.podName)) {
        for (const cache of this.plan.caches) {
          try {
            await streamOutToFile(this.client, this.podName, cache.save, cacheTarball(this.runtime.opts.root, cache.key, cache.path), `cache '${cache.path}'`);
          } catch {
            // a cache that cannot be saved starts cold next time
          }
        }
      }
    } finally {
      if (!this.deleting) await this.runtime.finishPod(this.podName, this.failed);
      else await this.runtime.finishPod(this.podName, false).catch(() => undefined);
    }
  }

  /** A container that never became usable: its pod goes (kept for debugging when it failed to start). */
  async abandon(failed: boolean): Promise<void> {
    this.destroyed = true;
    await this.runtime.finishPod(this.podName, failed).catch(() => undefined);
  }
}

function latest(watcher: PodWatcher, name: string): PodUpdate {
  const pod = watcher.get(name);
  return pod ? { kind: 'pod', pod } : { kind: 'deleted' };
}
