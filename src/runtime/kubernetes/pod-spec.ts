// The pod of one step, and the commands the adapter execs in it. Pure: no I/O.
//
// One pod per step (restartPolicy Never), three containers:
//  - init container `jetway-tools` (the helper image: a static busybox) copies busybox into the
//    emptyDir `jetway-tools`, mounted read-only at /jetway/bin in the step container, so the step's
//    image needs nothing of its own (no shell, no tar, no sleep);
//  - `step`, the step's image, idles (`/jetway/bin/busybox sleep`, under a busybox sh that exits on
//    SIGTERM so deleting the pod is immediate); every real process (a resource script with its JSON
//    on stdin, a task's run.path) is started through the exec API (processCommand), which keeps
//    stdin, stdout and stderr apart and returns the exit code;
//  - `jetway-artifacts` (the helper image) shares the work volume (emptyDir `work`, mounted at the
//    step's work dir in both): inputs and caches are streamed in and outputs and caches out as tar
//    streams through exec into this sidecar (streamInCommand/streamOutCommand), so a task image
//    without a shell or tar works, and no ReadWriteMany volume or node affinity is needed.
//    A pod with no inputs, outputs or caches (a check) has no sidecar.
//
// Every pod runs restricted (RESTRICTED below; docs/security.md, "Runtimes"): no capabilities, no
// privilege escalation, RuntimeDefault seccomp, no service account token; a numeric run.user is
// the pod's runAsUser; privileged steps only where the operator allows them.
import { posix } from 'node:path';
import type { V1Container, V1EnvVar, V1Pod, V1PodSecurityContext, V1ResourceRequirements, V1Secret, V1SecurityContext, V1Volume } from '@kubernetes/client-node';
import type { ContainerImage, ContainerSpec, ProcessSpec } from '../runtime.ts';
import { FLAGS, imageProblem, type KubernetesRuntimeConfig } from './config.ts';
import { LABELS, podAnnotations, podLabels, podName, workDirFor } from './naming.ts';

export const CONTAINERS = {
  tools: 'jetway-tools',
  step: 'step',
  artifacts: 'jetway-artifacts',
} as const;

export const VOLUMES = {
  tools: 'jetway-tools',
  run: 'jetway-run',
  work: 'work',
} as const;

/** Where busybox is in the step container (copied there by the init container). */
export const TOOLS_DIR = '/jetway/bin';
export const BUSYBOX = `${TOOLS_DIR}/busybox`;
/** Where exec'd processes write their pid files in the step container (emptyDir `jetway-run`). */
export const RUN_DIR = '/jetway/run';
/** Where busybox is in the helper image (init container and sidecar). */
export const HELPER_BUSYBOX = '/bin/busybox';
/** The idle time of the step and sidecar containers: the largest sleep busybox takes (~68 years). */
export const IDLE_SECONDS = '2147483647';
/** Kept short: every real process is ended by the adapter before the pod is deleted. */
export const TERMINATION_GRACE_SECONDS = 10;

/** Resources of the helper containers: small requests, a memory cap, no CPU cap (tar must not be throttled). */
const HELPER_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '10m', memory: '16Mi' },
  limits: { memory: '256Mi' },
};

/**
 * Every container runs without privilege escalation (no setuid gains) and without capabilities,
 * under the runtime's default seccomp profile (set on the pod): a task that is root in its image
 * is a root without powers. The exceptions, each for one reason:
 *  - a task whose run.user is a name keeps SETUID/SETGID, which busybox chpst needs to switch to
 *    that user (the process it execs loses them with the switch);
 *  - the artifact sidecar keeps CHOWN, DAC_OVERRIDE and FOWNER: it runs only Jetway's tar, and must
 *    read outputs a task's user made private and restore owners of inputs and caches;
 *  - a privileged step (only with --kubernetes-allow-privileged) is privileged, nothing else.
 */
const RESTRICTED: V1SecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const CHPST_CAPABILITIES = ['SETGID', 'SETUID'];
const SIDECAR_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'];

/** A step that cannot run as a pod (an artifact image, a base type without an image, a bad env name…). */
export class PodSpecError extends Error {
  override name = 'PodSpecError';
}

export interface PodSpecExtra {
  /** the build's pull secret (docs/image-features.md, decision 10) when the step's image came from a registry-image source with credentials */
  pullSecretName?: string;
}

/** The name of a pod's env Secret (stepEnvSecret). */
export function envSecretName(podName: string): string {
  return `${podName}-env`;
}

/** The key of the i-th secret env var in the pod's env Secret (env names need not be valid Secret keys). */
const envSecretKey = (i: number): string => `env-${i}`;

/**
 * The Secret holding a step's secretEnv values (a task's params), or undefined when it has none.
 * The pod reads them through secretKeyRef, so `kubectl get pod -o yaml` (and anything else that
 * can read pods, not secrets) never shows them. Create it before the pod; it can go as soon as
 * the step container runs (restartPolicy Never: its env is never read again).
 */
export function stepEnvSecret(spec: ContainerSpec, pod: V1Pod): V1Secret | undefined {
  const entries = Object.entries(spec.secretEnv ?? {});
  if (entries.length === 0) return undefined;
  const podName = pod.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: envSecretName(podName),
      ...(pod.metadata?.namespace !== undefined ? { namespace: pod.metadata.namespace } : {}),
      labels: { ...pod.metadata?.labels, [LABELS.purpose]: 'step-env' },
      annotations: { 'jetway.dev/pod': podName },
    },
    data: Object.fromEntries(entries.map(([, value], i) => [envSecretKey(i), Buffer.from(value, 'utf8').toString('base64')])),
  };
}

/** A command for the exec API: the container it runs in and its argv. */
export interface ExecCommand {
  container: (typeof CONTAINERS)['step'] | (typeof CONTAINERS)['artifacts'];
  command: string[];
}

/**
 * The image the step container runs: a reference as is (checked), a base resource type through
 * the map, an `image-ref` artifact's reference (decision 11). A directory artifact is refused: a
 * pod cannot boot from an artifact directory.
 */
export function stepImage(image: ContainerImage, cfg: Pick<KubernetesRuntimeConfig, 'baseResourceTypes'>): string {
  switch (image.kind) {
    case 'reference': {
      const problem = imageProblem(image.reference);
      if (problem) throw new PodSpecError(`cannot run a pod: ${problem}`);
      return image.reference;
    }
    case 'base-type': {
      const mapped = Object.hasOwn(cfg.baseResourceTypes, image.type) ? cfg.baseResourceTypes[image.type] : undefined;
      if (mapped === undefined) {
        throw new PodSpecError(`the resource type '${image.type}' has no image on Kubernetes; map it with --base-resource-type ${image.type}=IMAGE`);
      }
      return mapped;
    }
    case 'artifact': {
      if (image.artifact.kind === 'image-ref') return image.artifact.reference;
      throw new PodSpecError(
        'a step image that is an artifact directory cannot run on Kubernetes: a pod boots only from a registry image; ' +
          'use a registry-image resource (image_resource, or a get of a registry-image resource) so the pod runs from repository@digest',
      );
    }
    case 'none':
      throw new PodSpecError('a step on Kubernetes needs an image: give the task an image_resource, or an image: naming a get of a registry-image resource');
  }
}

/**
 * A container limit's CPU in millicores. Concourse's `container_limits.cpu` is in CPU shares,
 * where 1024 shares is one CPU (the cgroup v1 convention Garden followed): millicores =
 * ceil(shares * 1000 / 1024), at least 1. 0 means no limit (undefined).
 */
export function cpuMillicores(shares: number | undefined): number | undefined {
  if (shares === undefined || shares <= 0 || !Number.isFinite(shares)) return undefined;
  return Math.max(1, Math.ceil((shares * 1000) / 1024));
}

/** What a step's run.user becomes on Kubernetes (see stepUser). */
export type StepUser = { kind: 'id'; uid: number; gid?: number } | { kind: 'name'; name: string };

/**
 * run.user on Kubernetes: a numeric `uid` or `uid:gid` (and `root`, which is 0 everywhere)
 * becomes the pod's runAsUser/runAsGroup, so the whole pod runs as that user and runAsNonRoot
 * holds when it is not 0. A name cannot be: the kubelet takes numbers only, and the image's
 * /etc/passwd is not known before the pod runs; it goes to busybox chpst in the step container,
 * as before (the step container then keeps SETUID/SETGID, and the image's user must be root).
 */
export function stepUser(user: string | undefined): StepUser | undefined {
  if (user === undefined || user === '') return undefined;
  if (user === 'root') return { kind: 'id', uid: 0, gid: 0 };
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  if (m) {
    const uid = Number(m[1]);
    const gid = m[2] !== undefined ? Number(m[2]) : undefined;
    if (uid > 2147483647 || (gid !== undefined && gid > 2147483647)) throw new PodSpecError(`run.user '${user}': uid and gid must be at most 2147483647`);
    return { kind: 'id', uid, ...(gid !== undefined ? { gid } : {}) };
  }
  return { kind: 'name', name: user };
}

/** How a step names itself in messages: `task 'unit'`, `get 'repo'`, `check 'repo'`. */
function stepWhat(spec: ContainerSpec): string {
  return `${spec.metadata.type} '${spec.metadata.step ?? spec.handle}'`;
}

/**
 * The step container's requests and limits: a step's own limits (Concourse's container_limits)
 * within the operator's maximum, else the operator's default limit, else the maximum; the
 * operator's default requests, never above the limit (Kubernetes refuses that). A step asking for
 * more than the maximum is refused, naming the flag, rather than silently cut down.
 */
export function stepResources(spec: ContainerSpec, cfg: Pick<KubernetesRuntimeConfig, 'stepResources'>): V1ResourceRequirements | undefined {
  const r = cfg.stepResources;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};

  const askedCpu = cpuMillicores(spec.limits?.cpu);
  if (askedCpu !== undefined && r.maxCpuLimit && askedCpu > r.maxCpuLimit.value) {
    throw new PodSpecError(
      `${stepWhat(spec)} asks for a CPU limit of ${askedCpu}m (container_limits.cpu: ${spec.limits?.cpu ?? 0} shares); this cluster allows at most ${r.maxCpuLimit.text} (jetway web ${FLAGS.maxCpuLimit})`,
    );
  }
  const cpuLimit = askedCpu ?? r.cpuLimit?.value ?? r.maxCpuLimit?.value;
  if (cpuLimit !== undefined) limits.cpu = `${cpuLimit}m`;
  if (r.cpuRequest) requests.cpu = cpuLimit !== undefined && cpuLimit < r.cpuRequest.value ? `${cpuLimit}m` : r.cpuRequest.text;

  const rawMemory = spec.limits?.memory;
  const askedMemory = rawMemory !== undefined && Number.isFinite(rawMemory) && rawMemory > 0 ? Math.ceil(rawMemory) : undefined;
  if (askedMemory !== undefined && r.maxMemoryLimit && askedMemory > r.maxMemoryLimit.value) {
    throw new PodSpecError(
      `${stepWhat(spec)} asks for a memory limit of ${askedMemory} bytes (container_limits.memory); this cluster allows at most ${r.maxMemoryLimit.text} (jetway web ${FLAGS.maxMemoryLimit})`,
    );
  }
  const memoryLimit = askedMemory !== undefined ? { text: String(askedMemory), value: askedMemory } : (r.memoryLimit ?? r.maxMemoryLimit);
  if (memoryLimit) limits.memory = memoryLimit.text;
  if (r.memoryRequest) requests.memory = memoryLimit && memoryLimit.value < r.memoryRequest.value ? memoryLimit.text : r.memoryRequest.text;

  const out: V1ResourceRequirements = {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A privileged step on a cluster whose operator did not allow them: the message the step fails with. */
export function privilegedProblem(spec: ContainerSpec, cfg: Pick<KubernetesRuntimeConfig, 'allowPrivileged'>): string | undefined {
  if (spec.privileged !== true || cfg.allowPrivileged) return undefined;
  return `${stepWhat(spec)} asks for a privileged container; this cluster does not allow them (jetway web ${FLAGS.allowPrivileged})`;
}

/** The pod of a step (see the file comment). Throws PodSpecError when the step cannot run as a pod. */
export function podSpec(spec: ContainerSpec, cfg: KubernetesRuntimeConfig, extra: PodSpecExtra = {}): V1Pod {
  const privileged = privilegedProblem(spec, cfg);
  if (privileged) throw new PodSpecError(privileged);
  const image = stepImage(spec.image, cfg);
  const workDir = workDirFor(spec.handle);
  const withSidecar = needsArtifactSidecar(spec);
  const resources = stepResources(spec, cfg);
  const user = stepUser(spec.user);

  let stepSecurity: V1SecurityContext;
  if (spec.privileged === true) stepSecurity = { privileged: true };
  else if (user?.kind === 'name') stepSecurity = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: CHPST_CAPABILITIES } };
  else stepSecurity = RESTRICTED;
  // the whole pod runs as a numeric run.user, so the sidecar's files are that user's too
  const podSecurity: V1PodSecurityContext = {
    ...(user?.kind === 'id'
      ? { runAsUser: user.uid, ...(user.gid !== undefined ? { runAsGroup: user.gid } : {}), ...(user.uid !== 0 ? { runAsNonRoot: true } : {}) }
      : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };

  const step: V1Container = {
    name: CONTAINERS.step,
    image,
    command: [BUSYBOX, 'sh', '-c', `trap 'exit 0' TERM; ${BUSYBOX} sleep ${IDLE_SECONDS} & wait`],
    workingDir: workDir,
    env: stepEnv(spec, podName(spec.metadata, spec.handle)),
    volumeMounts: [
      { name: VOLUMES.tools, mountPath: TOOLS_DIR, readOnly: true },
      { name: VOLUMES.run, mountPath: RUN_DIR },
      { name: VOLUMES.work, mountPath: workDir },
    ],
    ...(resources ? { resources } : {}),
    securityContext: stepSecurity,
  };

  const tools: V1Container = {
    name: CONTAINERS.tools,
    image: cfg.helperImage,
    command: [HELPER_BUSYBOX, 'cp', HELPER_BUSYBOX, BUSYBOX],
    volumeMounts: [{ name: VOLUMES.tools, mountPath: TOOLS_DIR }],
    resources: HELPER_RESOURCES,
    securityContext: RESTRICTED,
  };

  const containers: V1Container[] = [step];
  if (withSidecar) {
    containers.push({
      name: CONTAINERS.artifacts,
      image: cfg.helperImage,
      command: [HELPER_BUSYBOX, 'sh', '-c', `trap 'exit 0' TERM; ${HELPER_BUSYBOX} sleep ${IDLE_SECONDS} & wait`],
      workingDir: workDir,
      volumeMounts: [{ name: VOLUMES.work, mountPath: workDir }],
      resources: HELPER_RESOURCES,
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: SIDECAR_CAPABILITIES } },
    });
  }

  const volumes: V1Volume[] = [
    { name: VOLUMES.tools, emptyDir: {} },
    { name: VOLUMES.run, emptyDir: {} },
    { name: VOLUMES.work, emptyDir: {} },
  ];

  const pullSecrets = [...cfg.imagePullSecrets];
  if (extra.pullSecretName !== undefined && !pullSecrets.includes(extra.pullSecretName)) pullSecrets.push(extra.pullSecretName);

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(spec.metadata, spec.handle),
      ...(cfg.namespace !== undefined ? { namespace: cfg.namespace } : {}),
      labels: podLabels(spec.metadata, spec.handle),
      annotations: podAnnotations(spec.metadata, spec.handle),
    },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      // Steps get exactly the env they are given, not a variable per Service of the namespace.
      enableServiceLinks: false,
      // a step never talks to the API server: no token in its pod, whatever the service account says
      automountServiceAccountToken: false,
      securityContext: podSecurity,
      ...(cfg.serviceAccount !== undefined ? { serviceAccountName: cfg.serviceAccount } : {}),
      ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
      initContainers: [tools],
      containers,
      volumes,
    },
  };
}

/** Whether a step moves artifacts (inputs, outputs or caches), and so needs the artifact sidecar. */
export function needsArtifactSidecar(spec: Pick<ContainerSpec, 'inputs' | 'outputs' | 'caches'>): boolean {
  return spec.inputs.length > 0 || spec.outputs.length > 0 || (spec.caches ?? []).length > 0;
}

/** A resource type's script in its image (`/opt/resource/<script>`), run in the step container. */
export function resourceScriptProcess(script: 'check' | 'in' | 'out'): ProcessSpec {
  return { path: `/opt/resource/${script}` };
}

/**
 * Streams a tar on stdin into a directory of the work volume (created first), in the sidecar:
 * an input's artifact, or a cache's saved content.
 */
export function streamInCommand(dir: string): ExecCommand {
  return {
    container: CONTAINERS.artifacts,
    command: [HELPER_BUSYBOX, 'sh', '-c', `${HELPER_BUSYBOX} mkdir -p "$1" && exec ${HELPER_BUSYBOX} tar -x -f - -C "$1"`, 'jetway-stream-in', dir],
  };
}

/** Streams a directory of the work volume to stdout as a tar (its content, as `./...`), in the sidecar. */
export function streamOutCommand(dir: string): ExecCommand {
  return { container: CONTAINERS.artifacts, command: [HELPER_BUSYBOX, 'tar', '-c', '-f', '-', '-C', dir, '.'] };
}

/**
 * Creates directories of the work volume (outputs and caches), writable by any user the step
 * runs as (mode 0777, as the emptyDir itself), in the sidecar.
 */
export function prepareCommand(dirs: string[]): ExecCommand {
  return {
    container: CONTAINERS.artifacts,
    command: [HELPER_BUSYBOX, 'sh', '-c', `for d; do ${HELPER_BUSYBOX} mkdir -p "$d" && ${HELPER_BUSYBOX} chmod 0777 "$d" || exit 1; done`, 'jetway-prepare', ...dirs],
  };
}

/** The pid file of an exec'd process (`execId`: the adapter's id of that exec, [a-z0-9-]). */
export function pidFile(execId: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(execId)) throw new PodSpecError(`exec id '${execId}' must be lowercase letters, digits and '-'`);
  return `${RUN_DIR}/${execId}.pid`;
}

/**
 * How a process runs in the step container, through busybox sh (from /jetway/bin, so any image
 * works): it writes its pid (for signalCommand), changes to its directory (`dir` relative to the
 * work dir; refused when it leaves it), exports its env, drops to its user (busybox chpst, which
 * reads the image's /etc/passwd) and execs the path with its args. Every value is passed as a
 * positional parameter, never spliced into the script, so no quoting can go wrong.
 */
export function processCommand(proc: ProcessSpec, workDir: string, execId: string, podUser?: string): ExecCommand {
  const cwd = proc.dir !== undefined && proc.dir !== '' ? inside(workDir, proc.dir) : workDir;
  const env = Object.entries(proc.env ?? {}).map(([name, value]) => {
    const problem = envNameProblem(name);
    if (problem) throw new PodSpecError(problem);
    return `${name}=${value}`;
  });
  if (proc.path === '') throw new PodSpecError('the process has no path');
  // a numeric run.user is the pod's own user (stepUser): nothing to switch; a name goes to chpst
  const wanted = stepUser(proc.user);
  if (wanted?.kind === 'id' && proc.user !== podUser) {
    throw new PodSpecError(`run.user '${proc.user ?? ''}' must be the user the step's pod was created with (a numeric user is the pod's runAsUser)`);
  }
  const user = wanted?.kind === 'name' ? [BUSYBOX, 'chpst', '-u', wanted.name] : [];
  const script = 'echo $$ > "$1" || exit 126; cd "$2" || exit 126; shift 2; while [ "$1" != -- ]; do export "$1"; shift; done; shift; exec "$@"';
  return {
    container: CONTAINERS.step,
    command: [BUSYBOX, 'sh', '-c', script, 'jetway-exec', pidFile(execId), cwd, ...env, '--', ...user, proc.path, ...(proc.args ?? [])],
  };
}

/**
 * The exec id of a step's re-attachable process (one per pod): its files are /jetway/run/task.*
 * (a task's or a resource script's; the name is older than re-attached resource scripts, and is
 * kept so the pods of web nodes of earlier versions are still found).
 */
export const DETACHED_EXEC_ID = 'task';
/** The follower's exit code when the process never started (no pid, no exit file, after ~10 s) */
export const NEVER_STARTED = 250;
/** The start's exit code when the process was started already (its marker exists): it is not started again */
export const ALREADY_STARTED = 249;
/** The files of a re-attachable process in the step container: `<base>.pid`, `.out`, `.err`, `.exit`, `.in`, `.started`. */
function detachedBase(execId: string): string {
  return pidFile(execId).replace(/\.pid$/, '');
}

/**
 * Starts a re-attachable process (issue 17, docs/web-nodes.md "Re-attaching builds"): `proc` (a
 * processCommand) runs in a session of its own (busybox setsid), detached from the exec that
 * started it, so it outlives the web node and its connection. Exactly once: the start first makes
 * the marker directory `<id>.started` and exits ALREADY_STARTED when it exists, so a web node
 * taking a step over may start a process that was never started, and never one that was.
 * The start's stdin (a resource script's request, which may hold credentials: never in the pod
 * spec or the process's arguments) is written to `<id>.in`, mode 0600, which the process opens as
 * its stdin and removes before it runs. Its stdout and stderr go to files in /jetway/run, and its
 * exit code, once it ends, to `<id>.exit` (written whole: renamed in). The exec itself returns
 * once the request is written. Values are positional parameters.
 */
export function detachedStartCommand(proc: ExecCommand, execId: string = DETACHED_EXEC_ID): ExecCommand {
  const base = detachedBase(execId);
  const inner =
    'b="$1"; bb="$2"; shift 2; exec 3<"$b.in"; "$bb" rm -f "$b.in"; ' +
    '"$@" <&3 3<&- >"$b.out" 2>"$b.err"; echo $? >"$b.exit.tmp"; "$bb" mv "$b.exit.tmp" "$b.exit"';
  const script =
    `b="$1"; bb="$2"; shift 2; "$bb" mkdir "$b.started" 2>/dev/null || exit ${ALREADY_STARTED}; ` +
    '(umask 077; "$bb" cat >"$b.in") || exit 126; : >"$b.out"; : >"$b.err"; ' +
    `"$bb" setsid "$bb" sh -c '${inner}' jetway-task "$b" "$bb" "$@" </dev/null >/dev/null 2>&1 & exit 0`;
  return { container: proc.container, command: [BUSYBOX, 'sh', '-c', script, 'jetway-detach', base, BUSYBOX, ...proc.command] };
}

/**
 * Whether a re-attachable process was started (by this web node or a previous one): exits 0 when
 * its marker, pid or exit file exists (pods of earlier versions have no marker), 1 when not.
 */
export function startedCommand(execId: string = DETACHED_EXEC_ID): ExecCommand {
  const base = detachedBase(execId);
  return {
    container: CONTAINERS.step,
    command: [BUSYBOX, 'sh', '-c', '[ -e "$1.started" ] || [ -e "$1.pid" ] || [ -e "$1.exit" ]', 'jetway-started', base],
  };
}

/**
 * Follows a re-attachable process: its stdout and stderr files from the start, as they grow
 * (every 100 ms), and once its exit file exists what is left of both, then exits with its exit
 * code. A web node that takes the build over runs it again from the start (the chunks are cut by
 * line, line-chunks.ts, so the same lines get the same keys). Exits NEVER_STARTED when the
 * process has neither a pid nor an exit file after about 10 s. With `stdout: false` (a resource
 * script, whose stdout is its result: resultCommand) only stderr is followed.
 */
export function followCommand(execId: string = DETACHED_EXEC_ID, opts: { stdout?: boolean } = {}): ExecCommand {
  const base = detachedBase(execId);
  const script = [
    'b="$1"; bb="$2"; so="$3"; o=0; e=0; n=0',
    'while :; do',
    '  f=0; [ -e "$b.exit" ] && f=1',
    `  if [ $f = 0 ] && [ ! -e "$b.pid" ]; then n=$((n+1)); [ $n -gt 100 ] && exit ${NEVER_STARTED}; fi`,
    '  if [ "$so" = 1 ] && [ -f "$b.out" ]; then s=$("$bb" wc -c <"$b.out"); if [ "$s" -gt "$o" ]; then "$bb" tail -c +$((o+1)) "$b.out" | "$bb" head -c $((s-o)); o=$s; fi; fi',
    '  if [ -f "$b.err" ]; then s=$("$bb" wc -c <"$b.err"); if [ "$s" -gt "$e" ]; then "$bb" tail -c +$((e+1)) "$b.err" | "$bb" head -c $((s-e)) >&2; e=$s; fi; fi',
    '  if [ $f = 1 ]; then exit "$("$bb" cat "$b.exit")"; fi',
    '  "$bb" usleep 100000',
    'done',
  ].join('\n');
  return { container: CONTAINERS.step, command: [BUSYBOX, 'sh', '-c', script, 'jetway-follow', base, BUSYBOX, opts.stdout === false ? '0' : '1'] };
}

/**
 * A finished re-attachable process's stdout (a resource script's result), at most `maxBytes` + 1
 * bytes of it (the bound is the engine's: ProcessIO.result), so the reader can tell a result above
 * the bound from one at it, and a runaway script cannot fill the web node's memory.
 */
export function resultCommand(execId: string, maxBytes: number): ExecCommand {
  return { container: CONTAINERS.step, command: [BUSYBOX, 'head', '-c', String(maxBytes + 1), `${detachedBase(execId)}.out`] };
}

/** What `jetway intercept` runs when it is given no command: busybox's shell (any image has it). */
export const DEFAULT_INTERCEPT_COMMAND: readonly string[] = [BUSYBOX, 'sh'];

/**
 * A command of `jetway intercept` in the step container, through busybox sh (so any image works),
 * in the step's work dir. A name without '/' that the image's PATH lacks but busybox has as an
 * applet (`cat`, `ls`, `sh`) runs as that applet, so a distroless image can still be looked at.
 * Values are positional parameters, never spliced into the script.
 */
export function interceptCommand(workDir: string, command: readonly string[]): ExecCommand {
  const argv = command.length > 0 ? command : DEFAULT_INTERCEPT_COMMAND;
  if (argv[0] === '') throw new PodSpecError('the command is empty');
  const script =
    'bb="$1"; cd "$2" || exit 126; shift 2; ' +
    'case "$1" in */*) exec "$@";; esac; ' +
    'p=$(command -v "$1" 2>/dev/null); case "$p" in /*) exec "$@";; esac; ' +
    '"$bb" --list 2>/dev/null | "$bb" grep -qx -e "$1" && exec "$bb" "$@"; ' +
    'exec "$@"';
  return { container: CONTAINERS.step, command: [BUSYBOX, 'sh', '-c', script, 'jetway-intercept', BUSYBOX, workDir, ...argv] };
}

/** Sends a signal to an exec'd process (cancellation: TERM, then KILL after a grace period). */
export function signalCommand(execId: string, signal: 'TERM' | 'KILL' | 'INT'): ExecCommand {
  return {
    container: CONTAINERS.step,
    command: [BUSYBOX, 'sh', '-c', 'pid=$(cat "$2" 2>/dev/null) && kill -"$1" "$pid" 2>/dev/null; exit 0', 'jetway-signal', signal, pidFile(execId)],
  };
}

/** What the adapter streams once the pod runs, in order: prepare, inputs, caches; then after the process, outputs and caches. */
export interface ExecPlan {
  workDir: string;
  /** creates the output and cache directories (none: nothing to run) */
  prepare?: ExecCommand;
  /** each input: stream its artifact's tar on stdin */
  inputs: { name: string; path: string; dir: string; command: ExecCommand }[];
  /** each cache: restore (stdin: the stored tar, when there is one), save (stdout: the tar to store) */
  caches: { path: string; key: string; dir: string; restore: ExecCommand; save: ExecCommand }[];
  /** each output: its tar on stdout */
  outputs: { name: string; path: string; dir: string; command: ExecCommand }[];
}

/** The artifact commands of a step (see ExecPlan); paths leaving the work dir are refused. */
export function execCommands(spec: ContainerSpec): ExecPlan {
  const workDir = workDirFor(spec.handle);
  const inputs = spec.inputs.map((input) => {
    const dir = inside(workDir, input.path);
    return { name: input.name, path: input.path, dir, command: streamInCommand(dir) };
  });
  const outputs = spec.outputs.map((output) => {
    const dir = inside(workDir, output.path);
    return { name: output.name, path: output.path, dir, command: streamOutCommand(dir) };
  });
  const caches = (spec.caches ?? []).map((cache) => {
    const dir = inside(workDir, cache.path);
    return { path: cache.path, key: cache.key, dir, restore: streamInCommand(dir), save: streamOutCommand(dir) };
  });
  const dirs = [...outputs.map((o) => o.dir), ...caches.map((c) => c.dir)];
  return { workDir, ...(dirs.length > 0 ? { prepare: prepareCommand(dirs) } : {}), inputs, caches, outputs };
}

/** A path inside the work dir (absolute), refusing `..` escapes and absolute paths outside it. */
export function inside(workDir: string, path: string): string {
  const target = posix.resolve(workDir, path);
  if (target !== workDir && !target.startsWith(`${workDir}/`)) {
    throw new PodSpecError(`path '${path}' leaves the step's working directory`);
  }
  return target;
}

/** The problem with an env var name, or undefined (Kubernetes: printable ASCII, no '='). */
export function envNameProblem(name: string): string | undefined {
  if (name === '') return 'an env var has an empty name';
  if (!/^[\x21-\x7e]+$/.test(name) || name.includes('=')) return `env var name '${name}' is not allowed (printable ASCII without '=' or spaces)`;
  if (name.startsWith('-')) return `env var name '${name}' must not start with '-'`;
  return undefined;
}

/** The step container's env: plain values, then the secret ones by reference (they win: Kubernetes takes the last of a name). */
function stepEnv(spec: ContainerSpec, pod: string): V1EnvVar[] {
  const secret = Object.keys(spec.secretEnv ?? {});
  const env: V1EnvVar[] = [
    ...Object.entries(spec.env ?? {})
      .filter(([name]) => !secret.includes(name))
      .map(([name, value]) => ({ name, value })),
    ...secret.map((name, i) => ({ name, valueFrom: { secretKeyRef: { name: envSecretName(pod), key: envSecretKey(i) } } })),
  ];
  for (const { name } of env) {
    const problem = envNameProblem(name);
    if (problem) throw new PodSpecError(problem);
  }
  return env;
}
