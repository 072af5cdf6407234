// The simulated kubelet (with the scheduler's one job: binding pods to this node). It watches the
// store for pods, binds unbound ones to itself, pulls their images (image-store.ts), runs their
// containers for real with runc (runtime.ts) and reports back only through the ClusterStore, the
// way a real kubelet only talks to the API server: pod status (phase, conditions, container
// statuses with waiting/running/terminated states, imageID, restartCount) and events. See
// README.md in this directory for what is simulated and how.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { ImageRegistry } from '../../../src/images/registry-client.ts';
import { KubeletError, ZERO_LATENCY, type ClusterStore, type ExecStreams, type Kubelet, type LatencyProfile, type LogOptions, type PullStats, type WatchEventType } from '../contract.ts';
import { credentialsFor } from './credentials.ts';
import { ImageStore, parseImage, PullError, type LocalImage, type PullPolicy } from './image-store.ts';
import { RuncContainer, type ContainerConfig, type ExitInfo, type Mount } from './runtime.ts';
import { ContainerConfigError, containerEnv, parseQuantity, processArgs, processEnv, processUser } from './spec.ts';
import { MountError, prepareVolumes } from './volumes.ts';
import { kubernetesServiceEnv, mountsServiceAccountToken, SERVICE_ACCOUNT_MOUNT, TOKEN_EXPIRATION_SECONDS, writeServiceAccountFiles } from './service-account.ts';

export { MemoryClusterStore } from './memory-store.ts';
export { PullError } from './image-store.ts';

export interface BackOff {
  /** first delay (the kubelet's is 10 s) */
  initialMs: number;
  /** cap (the kubelet's is 300 s) */
  maxMs: number;
}

export interface KubeletOptions {
  nodeName?: string;
  /** Everything the kubelet keeps on disk: image cache, bundles, volumes, logs, runc state. */
  stateDir: string;
  latency?: LatencyProfile;
  registryClient?: ImageRegistry;
  /** Image pull back-off (ImagePullBackOff); default 10 s doubling to 300 s, as the kubelet. */
  imagePullBackOff?: Partial<BackOff>;
  /** Container restart back-off (CrashLoopBackOff); default 10 s doubling to 300 s. */
  crashLoopBackOff?: Partial<BackOff>;
  /** How long a failed pull shows ErrImagePull before ImagePullBackOff (default 1 s, at most the back-off). */
  errImagePullMs?: number;
  /** Pull one image at a time (the kubelet's serializeImagePulls default); default true. */
  serializeImagePulls?: boolean;
}

const NODE_IP = '127.0.0.1';

interface Instance {
  container: RuncContainer;
  log: string;
  terminationLog: string;
}

interface ContainerRun {
  spec: V1Container;
  init: boolean;
  status: V1ContainerStatus;
  /** one per start, index = restart number */
  instances: Instance[];
  /** will not run again */
  finished: boolean;
  everStarted: boolean;
}

interface PodRun {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  pod: V1Pod;
  dir: string;
  abort: AbortController;
  containers: ContainerRun[];
  volumes: Map<string, string>;
  /** the host directory mounted at SERVICE_ACCOUNT_MOUNT in every container, if any */
  serviceAccountDir?: string;
  /** the `kubernetes` Service's variables, before the container's own env */
  serviceEnv: [string, string][];
  sandboxReady: boolean;
  initialized: boolean;
  startTime: Date;
  terminal?: { phase: 'Succeeded' | 'Failed'; reason?: string; message?: string };
  evicted?: string;
  killing?: Promise<void>;
  worker?: Promise<void>;
  deleting: boolean;
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

class SimKubelet implements Kubelet {
  readonly nodeName: string;
  private readonly fixedLatency: LatencyProfile;
  private readonly images: ImageStore;
  private readonly runcRoot: string;
  private readonly podsDir: string;
  private readonly pullBackOff: BackOff;
  private readonly crashBackOff: BackOff;
  private readonly errImagePullMs: number;
  private store: ClusterStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly runs = new Map<string, PodRun>();
  private readonly scheduling = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly opts: KubeletOptions) {
    this.nodeName = opts.nodeName ?? 'kube-sim-node';
    this.fixedLatency = opts.latency ?? ZERO_LATENCY;
    this.runcRoot = join(opts.stateDir, 'runc');
    this.podsDir = join(opts.stateDir, 'pods');
    mkdirSync(this.runcRoot, { recursive: true });
    mkdirSync(this.podsDir, { recursive: true });
    this.images = new ImageStore(join(opts.stateDir, 'images'), () => this.latency, opts.registryClient, opts.serializeImagePulls ?? true);
    this.pullBackOff = { initialMs: opts.imagePullBackOff?.initialMs ?? 10_000, maxMs: opts.imagePullBackOff?.maxMs ?? 300_000 };
    this.crashBackOff = { initialMs: opts.crashLoopBackOff?.initialMs ?? 10_000, maxMs: opts.crashLoopBackOff?.maxMs ?? 300_000 };
    this.errImagePullMs = opts.errImagePullMs ?? 1000;
  }

  /** The cluster's current latency profile when the store offers one (it can change while running), else the one given. */
  private get latency(): LatencyProfile {
    return this.store?.latency?.() ?? this.fixedLatency;
  }

  // --- Kubelet ---

  start(store: ClusterStore): void {
    if (this.store) throw new Error('the kubelet is already started');
    this.store = store;
    this.unsubscribe = store.onPodChange((type, pod) => {
      // handled after the store's own operation returns (listeners run inside it)
      setImmediate(() => this.handle(type, pod));
    });
    for (const pod of store.listPods()) setImmediate(() => this.handle('ADDED', pod));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.scheduling.values()) clearTimeout(timer);
    this.scheduling.clear();
    const runs = [...this.runs.values()];
    await Promise.all(runs.map((run) => this.kill(run, 0)));
    await Promise.all(runs.map((run) => run.worker?.catch(() => undefined)));
    this.runs.clear();
    rmSync(this.podsDir, { recursive: true, force: true });
    rmSync(this.runcRoot, { recursive: true, force: true });
  }

  pullStats(): PullStats {
    return this.images.pullStats();
  }

  failNextPull(pattern: string | RegExp, message: string): void {
    this.images.failNextPull(pattern, message);
  }

  async exec(namespace: string, podName: string, containerName: string | undefined, command: string[], streams: ExecStreams): Promise<{ exitCode: number }> {
    const { run, container } = this.locate(namespace, podName, containerName);
    if (command.length === 0) throw new KubeletError(400, 'you must specify at least one command for the container');
    if (run.terminal || run.pod.status?.phase === 'Succeeded' || run.pod.status?.phase === 'Failed') {
      throw new KubeletError(400, `cannot exec into a container in a completed pod; current phase is ${run.terminal?.phase ?? run.pod.status?.phase ?? 'Unknown'}`);
    }
    const instance = container.instances[container.instances.length - 1];
    if (!instance || !instance.container.running) throw new KubeletError(400, `container ${container.spec.name} is not running (pod ${podName})`);
    const exitCode = await instance.container.exec(command, {
      ...(streams.stdin ? { stdin: streams.stdin } : {}),
      ...(streams.signal ? { signal: streams.signal } : {}),
      stdout: streams.stdout,
      stderr: streams.stderr,
    });
    return { exitCode };
  }

  logs(namespace: string, podName: string, containerName: string | undefined, opts: LogOptions): Readable {
    const { container } = this.locate(namespace, podName, containerName);
    const name = container.spec.name;
    const index = opts.previous ? container.instances.length - 2 : container.instances.length - 1;
    const instance = container.instances[index];
    if (!instance) {
      if (opts.previous) throw new KubeletError(400, `previous terminated container "${name}" in pod "${podName}" not found`);
      const reason = container.status.state?.waiting?.reason ?? 'ContainerCreating';
      throw new KubeletError(400, `container "${name}" in pod "${podName}" is waiting to start: ${reason}`);
    }
    const follow = Boolean(opts.follow) && !opts.previous;
    return Readable.from(readLog(instance, { follow, ...(opts.tailLines !== undefined ? { tailLines: opts.tailLines } : {}), timestamps: Boolean(opts.timestamps) }));
  }

  async evict(namespace: string, podName: string, reason: string): Promise<void> {
    const run = this.runs.get(`${namespace}/${podName}`);
    if (!run) throw new KubeletError(404, `pods "${podName}" not found on node ${this.nodeName}`);
    if (run.terminal || run.evicted !== undefined) return;
    run.evicted = reason;
    this.event(run, 'Warning', 'Evicted', reason);
    await this.kill(run, 0);
    await run.worker?.catch(() => undefined);
    run.terminal = { phase: 'Failed', reason: 'Evicted', message: reason };
    this.publish(run);
  }

  // --- the watch ---

  private handle(type: WatchEventType, pod: V1Pod): void {
    if (this.stopped || !this.store) return;
    const key = podKey(pod);
    const run = this.runs.get(key);
    if (type === 'DELETED') {
      const timer = this.scheduling.get(key);
      if (timer) clearTimeout(timer);
      this.scheduling.delete(key);
      if (run && run.uid === pod.metadata?.uid) {
        // removed without waiting for us (grace period 0): kill at once, nothing to report
        this.runs.delete(key);
        void this.kill(run, 0).then(() => run.worker?.catch(() => undefined)).then(() => rmSync(run.dir, { recursive: true, force: true }));
      }
      return;
    }
    if (!pod.spec?.nodeName) {
      if (!pod.metadata?.deletionTimestamp) this.schedule(pod);
      return;
    }
    if (pod.spec.nodeName !== this.nodeName) return;
    if (run && run.uid !== pod.metadata?.uid) return; // an old pod of the same name is still going away
    if (!run) {
      if (pod.metadata?.deletionTimestamp) {
        this.finalize(pod);
        return;
      }
      this.startPod(pod);
      return;
    }
    run.pod = pod;
    if (pod.metadata?.deletionTimestamp && !run.deleting) {
      run.deleting = true;
      void this.deletePod(run, pod);
    }
  }

  private schedule(pod: V1Pod): void {
    const key = podKey(pod);
    if (this.scheduling.has(key)) return;
    if (pod.spec?.schedulerName && pod.spec.schedulerName !== 'default-scheduler') return;
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid;
    this.scheduling.set(
      key,
      setTimeout(() => {
        this.scheduling.delete(key);
        if (this.stopped || !this.store) return;
        const current = this.store.getPod(namespace, name);
        if (!current || current.metadata?.uid !== uid || current.spec?.nodeName || current.metadata?.deletionTimestamp) return;
        try {
          this.store.bindPod(namespace, name, this.nodeName);
        } catch {
          return; // bound meanwhile, or deleted
        }
        this.store.recordEvent({
          involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name, ...(uid ? { uid } : {}) },
          reason: 'Scheduled',
          message: `Successfully assigned ${namespace}/${name} to ${this.nodeName}`,
          type: 'Normal',
          source: { component: 'default-scheduler' },
          reportingComponent: 'default-scheduler',
          reportingInstance: 'default-scheduler',
          firstTimestamp: new Date(),
          lastTimestamp: new Date(),
          count: 1,
        });
      }, this.latency.schedulingMs),
    );
  }

  private finalize(pod: V1Pod): void {
    try {
      this.store?.finalizePodDeletion(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '');
    } catch {
      // already gone
    }
  }

  // --- a pod's life ---

  private startPod(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? randomBytes(8).toString('hex');
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    const status = (c: V1Container, init: boolean): V1ContainerStatus => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: { waiting: { reason: init || hasInit ? 'PodInitializing' : 'ContainerCreating' } },
    });
    const run: PodRun = {
      key: `${namespace}/${name}`,
      namespace,
      name,
      uid,
      pod,
      dir: join(this.podsDir, `${namespace}_${name}_${uid}`),
      abort: new AbortController(),
      containers: [
        ...(pod.spec?.initContainers ?? []).map((c) => ({ spec: c, init: true, status: status(c, true), instances: [], finished: false, everStarted: false })),
        ...(pod.spec?.containers ?? []).map((c) => ({ spec: c, init: false, status: status(c, false), instances: [], finished: false, everStarted: false })),
      ],
      volumes: new Map(),
      serviceEnv: [],
      sandboxReady: false,
      initialized: !hasInit,
      startTime: new Date(),
      deleting: false,
    };
    this.runs.set(run.key, run);
    mkdirSync(run.dir, { recursive: true });
    this.publish(run);
    run.worker = this.runPod(run).catch((err: unknown) => {
      if (!run.abort.signal.aborted) {
        run.terminal = { phase: 'Failed', reason: 'KubeletError', message: err instanceof Error ? err.message : String(err) };
        this.event(run, 'Warning', 'Failed', `kube-sim: ${run.terminal.message}`);
        this.publish(run);
      }
    });
    if (pod.metadata?.deletionTimestamp) {
      run.deleting = true;
      void this.deletePod(run, pod);
    }
  }

  private async runPod(run: PodRun): Promise<void> {
    const signal = run.abort.signal;
    // the sandbox: volumes and the files every container gets
    for (;;) {
      try {
        run.volumes = prepareVolumes(this.requireStore(), run.pod, join(run.dir, 'volumes'));
        break;
      } catch (err) {
        if (!(err instanceof MountError)) throw err;
        this.event(run, 'Warning', 'FailedMount', err.message);
        if (!(await sleep(2000, signal))) return;
      }
    }
    this.prepareInCluster(run);
    const hostname = (run.pod.spec?.hostname ?? run.name).slice(0, 63);
    writeFileSync(join(run.dir, 'hosts'), `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${NODE_IP}\t${hostname}\n`);
    writeFileSync(join(run.dir, 'hostname'), `${hostname}\n`);
    let resolv = 'nameserver 127.0.0.1\n';
    try {
      resolv = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // none on the host
    }
    writeFileSync(join(run.dir, 'resolv.conf'), resolv);
    run.sandboxReady = true;
    this.publish(run);

    const restartPolicy = run.pod.spec?.restartPolicy ?? 'Always';
    for (const c of run.containers.filter((x) => x.init)) {
      const outcome = await this.runContainer(run, c, restartPolicy === 'Never' ? 'Never' : 'OnFailure');
      if (outcome === 'aborted') return;
      if (outcome === 'failed') {
        run.terminal = { phase: 'Failed' };
        this.publish(run);
        return;
      }
    }
    run.initialized = true;
    for (const c of run.containers.filter((x) => !x.init)) c.status.state = { waiting: { reason: 'ContainerCreating' } };
    this.publish(run);
    await Promise.all(run.containers.filter((x) => !x.init).map((c) => this.runContainer(run, c, restartPolicy)));
    this.publish(run);
  }

  /** Runs one container until it will not run again. */
  private async runContainer(run: PodRun, c: ContainerRun, restartPolicy: string): Promise<'ok' | 'failed' | 'aborted'> {
    const signal = run.abort.signal;
    let crashDelay = this.crashBackOff.initialMs;
    for (;;) {
      if (signal.aborted) return 'aborted';
      const image = await this.pullImage(run, c);
      if (!image) return 'aborted';
      c.status.imageID = image.imageId;

      const restart = c.instances.length;
      const id = `${run.uid.slice(0, 8)}-${c.spec.name}-${restart}-${randomBytes(3).toString('hex')}`;
      const dir = join(run.dir, 'containers', `${c.spec.name}-${restart}`);
      mkdirSync(join(run.dir, 'logs', c.spec.name), { recursive: true });
      mkdirSync(dir, { recursive: true });
      const terminationLog = join(dir, 'termination-log');
      writeFileSync(terminationLog, '');
      let config: ContainerConfig;
      try {
        config = this.containerConfig(run, c, image, id, join(dir, 'bundle'), terminationLog);
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        c.status.state = { waiting: { reason: err.reason, message: err.message } };
        this.event(run, 'Warning', 'Failed', `Error: ${err.message}`, c);
        this.publish(run);
        if (!(await sleep(this.crashBackOff.initialMs, signal))) return 'aborted';
        continue;
      }
      if (!(await sleep(this.latency.containerStartMs, signal))) return 'aborted';
      const log = join(run.dir, 'logs', c.spec.name, `${restart}.log`);
      writeFileSync(log, '');
      const container = new RuncContainer(this.runcRoot, config, log);
      const instance: Instance = { container, log, terminationLog };
      try {
        await container.prepare();
      } catch (err) {
        await container.cleanup().catch(() => undefined);
        throw err;
      }
      c.instances.push(instance);
      c.status.containerID = `containerd://${id}`;
      this.event(run, 'Normal', 'Created', `Created container ${c.spec.name}`, c);
      await container.start();
      if (container.startedAt && !container.exited?.startError) {
        c.everStarted = true;
        c.status.state = { running: { startedAt: container.startedAt } };
        c.status.started = true;
        c.status.ready = !c.init;
        this.event(run, 'Normal', 'Started', `Started container ${c.spec.name}`, c);
        this.publish(run);
      }
      if (signal.aborted) void container.kill('SIGKILL');
      const exit = await container.wait();
      await container.cleanup().catch(() => undefined);
      c.status.state = { terminated: this.terminatedState(c, instance, exit) };
      c.status.ready = false;
      c.status.started = false;
      if (exit.startError) this.event(run, 'Warning', 'Failed', `Error: ${exit.startError}`, c);
      if (signal.aborted) {
        c.finished = true;
        return 'aborted';
      }
      const ok = exit.exitCode === 0;
      const again = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && !ok);
      if (!again) {
        c.finished = true;
        this.publish(run);
        return ok ? 'ok' : 'failed';
      }
      // restart after the crash-loop back-off, as the kubelet does
      c.status.lastState = { terminated: c.status.state.terminated };
      c.status.restartCount = (c.status.restartCount ?? 0) + 1;
      c.status.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${seconds(crashDelay)} restarting failed container=${c.spec.name} pod=${run.name}_${run.namespace}(${run.uid})` } };
      this.event(run, 'Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${run.name}_${run.namespace}(${run.uid})`, c);
      this.publish(run);
      if (!(await sleep(crashDelay, signal))) {
        c.finished = true;
        return 'aborted';
      }
      crashDelay = Math.min(crashDelay * 2, this.crashBackOff.maxMs);
    }
  }

  private terminatedState(c: ContainerRun, instance: Instance, exit: ExitInfo): NonNullable<V1ContainerState['terminated']> {
    let message: string | undefined;
    try {
      const text = readFileSync(instance.terminationLog);
      if (text.length > 0) message = text.subarray(0, 4096).toString('utf8');
    } catch {
      // none
    }
    if (exit.startError) message = exit.startError;
    else if (!message && exit.exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      const lines = parseCri(safeRead(instance.log)).map((l) => l.text + (l.full ? '\n' : ''));
      const tail = lines.slice(-80).join('');
      message = tail.length > 2048 ? tail.slice(tail.length - 2048) : tail;
    }
    return {
      exitCode: exit.exitCode,
      reason: exit.startError ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
      ...(message ? { message } : {}),
      startedAt: exit.startedAt ?? exit.finishedAt,
      finishedAt: exit.finishedAt,
      containerID: c.status.containerID,
    };
  }

  /** Makes the container's image present, with ErrImagePull / ImagePullBackOff and retries; undefined when aborted. */
  private async pullImage(run: PodRun, c: ContainerRun): Promise<LocalImage | undefined> {
    const signal = run.abort.signal;
    const image = c.spec.image ?? '';
    let delay = this.pullBackOff.initialMs;
    for (;;) {
      if (signal.aborted) return undefined;
      const policy = (c.spec.imagePullPolicy as PullPolicy | undefined) ?? defaultPullPolicy(image);
      let failure: PullError;
      try {
        const parsed = parseImage(image);
        const present = policy !== 'Always' ? this.images.present(image) : undefined;
        if (present) {
          this.event(run, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, c);
          return present;
        }
        if (policy !== 'Never') this.event(run, 'Normal', 'Pulling', `Pulling image "${image}"`, c);
        const credentials = credentialsFor(this.requireStore(), run.pod, parsed.repo.registry);
        const result = await this.images.ensure(image, policy, credentials, signal);
        if (result.pulled) {
          const took = seconds(result.durationMs);
          this.event(run, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${result.image.size} bytes.`, c);
        }
        return result.image;
      } catch (err) {
        if (signal.aborted) return undefined;
        failure = err instanceof PullError ? err : new PullError('ErrImagePull', err instanceof Error ? err.message : String(err));
      }
      if (failure.reason === 'InvalidImageName') {
        c.status.state = { waiting: { reason: 'InvalidImageName', message: failure.message } };
        this.event(run, 'Warning', 'InspectFailed', failure.message, c);
        this.event(run, 'Warning', 'Failed', 'Error: InvalidImageName', c);
        this.publish(run);
        if (!(await sleep(this.pullBackOff.maxMs, signal))) return undefined;
        continue;
      }
      if (failure.reason === 'ErrImageNeverPull') {
        c.status.state = { waiting: { reason: 'ErrImageNeverPull', message: failure.message } };
        this.event(run, 'Warning', 'ErrImageNeverPull', failure.message, c);
        this.event(run, 'Warning', 'Failed', 'Error: ErrImageNeverPull', c);
        this.publish(run);
        if (!(await sleep(delay, signal))) return undefined;
        delay = Math.min(delay * 2, this.pullBackOff.maxMs);
        continue;
      }
      c.status.state = { waiting: { reason: 'ErrImagePull', message: failure.message } };
      this.event(run, 'Warning', 'Failed', `Failed to pull image "${image}": ${failure.message}`, c);
      this.event(run, 'Warning', 'Failed', 'Error: ErrImagePull', c);
      this.publish(run);
      const hold = Math.min(this.errImagePullMs, delay);
      if (!(await sleep(hold, signal))) return undefined;
      c.status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${failure.message}` } };
      this.event(run, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, c);
      this.event(run, 'Warning', 'Failed', 'Error: ImagePullBackOff', c);
      this.publish(run);
      if (!(await sleep(delay - hold, signal))) return undefined;
      delay = Math.min(delay * 2, this.pullBackOff.maxMs);
    }
  }

  /** The `kubernetes` Service's env and, unless automounting is off, the service account's files (service-account.ts). */
  private prepareInCluster(run: PodRun): void {
    const store = this.requireStore();
    const account = run.pod.spec?.serviceAccountName || 'default';
    const mount = mountsServiceAccountToken(run.pod, store.getServiceAccount(run.namespace, account));
    const credentials = store.inClusterCredentials?.(run.namespace, mount ? account : undefined, { expirationSeconds: TOKEN_EXPIRATION_SECONDS });
    if (!credentials) return;
    run.serviceEnv = kubernetesServiceEnv(credentials.host, credentials.port);
    if (credentials.token === undefined) return;
    const dir = join(run.dir, 'serviceaccount');
    writeServiceAccountFiles(dir, { ...credentials, token: credentials.token }, run.namespace);
    run.serviceAccountDir = dir;
  }

  private containerConfig(run: PodRun, c: ContainerRun, image: LocalImage, id: string, bundle: string, terminationLog: string): ContainerConfig {
    const store = this.requireStore();
    const spec = c.spec;
    // the Services' variables come first: the container's env overrides them and may refer to them
    const own = [...run.serviceEnv, ...containerEnv(store, run.pod, spec)];
    const args = processArgs(spec, image.config, new Map(own));
    const hostname = (run.pod.spec?.hostname ?? run.name).slice(0, 63);
    const env = processEnv(image.config.Env, own, hostname);
    const { uid, gid } = processUser(run.pod, spec, image.config, image.rootfs);
    const mounts: Mount[] = [];
    for (const m of spec.volumeMounts ?? []) {
      const host = run.volumes.get(m.name);
      if (host === undefined) throw new ContainerConfigError('CreateContainerConfigError', `cannot find volume "${m.name}" to mount into container "${spec.name}"`);
      let source = host;
      if (m.subPath) {
        source = join(host, m.subPath);
        if (!source.startsWith(host)) throw new ContainerConfigError('CreateContainerConfigError', `subPath ${m.subPath} leaves the volume`);
        if (!existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o777 });
      }
      mounts.push({ source, destination: m.mountPath, readonly: Boolean(m.readOnly) });
    }
    if (run.serviceAccountDir) mounts.push({ source: run.serviceAccountDir, destination: SERVICE_ACCOUNT_MOUNT, readonly: true });
    const taken = new Set(mounts.map((m) => m.destination.replace(/\/+$/, '')));
    for (const [file, destination] of [
      ['hosts', '/etc/hosts'],
      ['hostname', '/etc/hostname'],
      ['resolv.conf', '/etc/resolv.conf'],
    ] as const) {
      if (!taken.has(destination)) mounts.push({ source: join(run.dir, file), destination });
    }
    const tmp = spec.terminationMessagePath ?? '/dev/termination-log';
    if (tmp.startsWith('/') && !taken.has(tmp)) mounts.push({ source: terminationLog, destination: tmp });
    const memory = parseQuantity(spec.resources?.limits?.memory as string | number | undefined);
    const groups = run.pod.spec?.securityContext?.supplementalGroups;
    return {
      id,
      bundle,
      imageRootfs: image.rootfs,
      args,
      env,
      cwd: spec.workingDir || image.config.WorkingDir || '/',
      uid,
      gid,
      ...(groups && groups.length > 0 ? { additionalGids: groups } : {}),
      hostname,
      mounts,
      readonlyRootfs: Boolean(spec.securityContext?.readOnlyRootFilesystem),
      privileged: Boolean(spec.securityContext?.privileged),
      ...(spec.securityContext?.capabilities ? { capabilities: { add: spec.securityContext.capabilities.add ?? [], drop: spec.securityContext.capabilities.drop ?? [] } } : {}),
      ...(spec.securityContext?.allowPrivilegeEscalation === false ? { noNewPrivileges: true } : {}),
      ...(memory ? { memoryLimit: memory } : {}),
    };
  }

  // --- killing ---

  /** Stops every container of the pod: SIGTERM, SIGKILL after `graceSeconds` (0: SIGKILL at once). */
  private kill(run: PodRun, graceSeconds: number): Promise<void> {
    run.abort.abort();
    const killing = (async () => {
      const live = run.containers.flatMap((c) => {
        const instance = c.instances[c.instances.length - 1];
        return instance && instance.container.exited === undefined ? [{ c, container: instance.container }] : [];
      });
      if (live.length === 0) return;
      for (const { c, container } of live) {
        if (graceSeconds > 0) this.event(run, 'Normal', 'Killing', `Stopping container ${c.spec.name}`, c);
        await container.kill(graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
      }
      const all = Promise.all(live.map(({ container }) => container.wait()));
      if (graceSeconds > 0) {
        const inTime = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceSeconds * 1000).unref())]);
        if (!inTime) for (const { container } of live) await container.kill('SIGKILL');
      }
      await all;
    })();
    run.killing = (run.killing ?? Promise.resolve()).then(() => killing);
    return run.killing;
  }

  private async deletePod(run: PodRun, pod: V1Pod): Promise<void> {
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    await this.kill(run, Math.max(grace, 0));
    await run.worker?.catch(() => undefined);
    if (this.stopped) return;
    // containers that never ran are reported as such (the kubelet's ContainerStatusUnknown)
    for (const c of run.containers) {
      if (c.status.state?.waiting) {
        c.status.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } };
      }
      c.finished = true;
    }
    if (!run.terminal) {
      const failed = run.containers.some((c) => !c.init && (c.status.state?.terminated?.exitCode ?? 1) !== 0);
      run.terminal = { phase: failed ? 'Failed' : 'Succeeded' };
    }
    this.publish(run);
    this.runs.delete(run.key);
    rmSync(run.dir, { recursive: true, force: true });
    this.finalize(pod);
  }

  // --- reporting ---

  private requireStore(): ClusterStore {
    if (!this.store) throw new Error('the kubelet is not started');
    return this.store;
  }

  private event(run: PodRun, type: 'Normal' | 'Warning', reason: string, message: string, c?: ContainerRun): void {
    if (this.stopped || !this.store) return;
    const now = new Date();
    const fieldPath = c ? `spec.${c.init ? 'initContainers' : 'containers'}{${c.spec.name}}` : undefined;
    try {
      this.store.recordEvent({
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: run.namespace, name: run.name, uid: run.uid, ...(fieldPath ? { fieldPath } : {}) },
        reason,
        message,
        type,
        source: { component: 'kubelet', host: this.nodeName },
        reportingComponent: 'kubelet',
        reportingInstance: this.nodeName,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch {
      // the pod's namespace is gone
    }
  }

  private phase(run: PodRun): V1PodStatus['phase'] {
    if (run.terminal) return run.terminal.phase;
    if (!run.initialized) return 'Pending';
    const apps = run.containers.filter((c) => !c.init);
    if (apps.some((c) => !c.everStarted && !c.finished)) return 'Pending';
    if (apps.every((c) => c.finished)) return apps.every((c) => c.status.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    return 'Running';
  }

  /** Writes the pod's status (as PUT pods/status). */
  private publish(run: PodRun): void {
    if (this.stopped || !this.store) return;
    const phase = this.phase(run);
    const apps = run.containers.filter((c) => !c.init);
    const inits = run.containers.filter((c) => c.init);
    const done = phase === 'Succeeded' || phase === 'Failed';
    const unready = apps.filter((c) => !c.status.ready).map((c) => c.spec.name);
    const incomplete = inits.filter((c) => c.status.state?.terminated?.exitCode !== 0).map((c) => c.spec.name);
    const wanted: V1PodCondition[] = [
      { type: 'PodReadyToStartContainers', status: run.sandboxReady && !done ? 'True' : 'False' },
      run.initialized
        ? { type: 'Initialized', status: 'True' }
        : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` },
      unready.length === 0 && !done
        ? { type: 'Ready', status: 'True' }
        : { type: 'Ready', status: 'False', reason: done ? 'PodCompleted' : 'ContainersNotReady', ...(done ? {} : { message: `containers with unready status: [${unready.join(' ')}]` }) },
      unready.length === 0 && !done
        ? { type: 'ContainersReady', status: 'True' }
        : { type: 'ContainersReady', status: 'False', reason: done ? 'PodCompleted' : 'ContainersNotReady', ...(done ? {} : { message: `containers with unready status: [${unready.join(' ')}]` }) },
      { type: 'PodScheduled', status: 'True' },
      ...(run.evicted !== undefined ? [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: run.evicted }] : []),
    ];
    const initStatuses = inits.map((c) => structuredClone(c.status));
    const statuses = apps.map((c) => structuredClone(c.status));
    try {
      this.store.updatePodStatus(run.namespace, run.name, (old) => {
        const now = new Date();
        const conditions: V1PodCondition[] = wanted.map((w) => {
          const prev = old.conditions?.find((c) => c.type === w.type);
          return { ...w, lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime ?? now : now };
        });
        for (const c of old.conditions ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
        const next: V1PodStatus = {
          ...old,
          phase,
          conditions,
          hostIP: NODE_IP,
          hostIPs: [{ ip: NODE_IP }],
          podIP: NODE_IP,
          podIPs: [{ ip: NODE_IP }],
          startTime: run.startTime,
          containerStatuses: statuses,
          qosClass: old.qosClass ?? 'BestEffort',
        };
        if (inits.length > 0) next.initContainerStatuses = initStatuses;
        if (run.terminal?.reason) next.reason = run.terminal.reason;
        if (run.terminal?.message) next.message = run.terminal.message;
        return next;
      });
    } catch {
      // the pod is gone
    }
  }

  private locate(namespace: string, podName: string, containerName: string | undefined): { run: PodRun; container: ContainerRun } {
    const run = this.runs.get(`${namespace}/${podName}`);
    if (!run) {
      const pod = this.store?.getPod(namespace, podName);
      if (!pod) throw new KubeletError(404, `pods "${podName}" not found`);
      if (!pod.spec?.nodeName) throw new KubeletError(400, `pod ${podName} does not have a host assigned`);
      throw new KubeletError(400, `pod ${podName} is not running on node ${this.nodeName}`);
    }
    const apps = run.containers.filter((c) => !c.init);
    if (containerName === undefined || containerName === '') {
      const only = apps.length === 1 ? apps[0] : undefined;
      if (!only) {
        const inits = run.containers.filter((c) => c.init).map((c) => c.spec.name);
        throw new KubeletError(
          400,
          `a container name must be specified for pod ${podName}, choose one of: [${apps.map((c) => c.spec.name).join(' ')}]${inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
        );
      }
      return { run, container: only };
    }
    const container = run.containers.find((c) => c.spec.name === containerName);
    if (!container) throw new KubeletError(400, `container ${containerName} is not valid for pod ${podName}`);
    return { run, container };
  }
}

// --- logs ---

interface CriLine {
  time: string;
  stream: string;
  full: boolean;
  text: string;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function parseCri(text: string): CriLine[] {
  const out: CriLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    if (a < 0 || b < 0 || c < 0) continue;
    out.push({ time: line.slice(0, a), stream: line.slice(a + 1, b), full: line.slice(b + 1, c) === 'F', text: line.slice(c + 1) });
  }
  return out;
}

function render(lines: CriLine[], timestamps: boolean): Buffer {
  return Buffer.from(lines.map((l) => `${timestamps ? `${l.time.replace(/Z$/, '000000Z')} ` : ''}${l.text}${l.full ? '\n' : ''}`).join(''));
}

async function* readLog(instance: Instance, opts: { follow: boolean; tailLines?: number; timestamps: boolean }): AsyncGenerator<Buffer> {
  let offset = 0;
  let first = true;
  // the file stays open while it is read, as the kubelet's reader does: a pod deleted (and its log
  // removed) while a follower is behind still yields what the container wrote last
  let handle: FileHandle | undefined;
  try {
    for (;;) {
      const finished = instance.container.exited !== undefined;
      if (!handle && existsSync(instance.log)) handle = await open(instance.log, 'r').catch(() => undefined);
      const size = handle ? (await handle.stat()).size : 0;
      if (size > offset && handle) {
        const buf = Buffer.alloc(size - offset);
        await handle.read(buf, 0, buf.length, offset);
        const end = buf.lastIndexOf(0x0a) + 1; // whole lines only
        offset += end;
        let lines = parseCri(buf.subarray(0, end).toString('utf8'));
        if (first && opts.tailLines !== undefined) lines = lines.slice(Math.max(lines.length - opts.tailLines, 0));
        first = false;
        if (lines.length > 0) yield render(lines, opts.timestamps);
      } else if (first) {
        first = false;
      }
      if (!opts.follow) return;
      // `finished` was read before the size: everything the container wrote has been read
      if (finished && size <= offset) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await handle?.close();
  }
}

export function createKubelet(opts: KubeletOptions): Kubelet {
  return new SimKubelet(opts);
}
