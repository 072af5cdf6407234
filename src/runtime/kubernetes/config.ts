// The Kubernetes runtime's configuration: the `--kubernetes-*` and `--base-resource-type` flags of
// `jetway web`, parsed and checked before anything starts. Pure: no I/O (the namespace and the
// credentials are resolved by the adapter when it connects).
//
// Every problem throws a KubernetesConfigError whose message starts with the flag it is about, so
// the web command can print it as a usage error and nothing is half started.
import { parseDuration } from '../../config/duration.ts';
import { digestProblem, repositoryProblem, tagProblem } from '../../images/reference.ts';
import { JETWAY_VERSION } from '../../version.ts';

/** A malformed flag; the message names it. */
export class KubernetesConfigError extends Error {
  override name = 'KubernetesConfigError';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
  }
}

/** The helper image (a static busybox at /bin/busybox) of this Jetway version, as `jetway images push` pushes it. */
export const DEFAULT_HELPER_IMAGE = `jetway/helper:${JETWAY_VERSION}`;

/** Jetway's own resource types: `jetway images push` pushes an image of each, `jetway/<type>-resource` (src/packaging/images.ts). */
export const JETWAY_RESOURCE_TYPES = ['git', 'mock', 'registry-image', 'time'] as const;

/**
 * The images of Jetway's own resource types: next to the helper image, where `jetway images push`
 * put them all (`REG/jetway/helper:TAG` gives `REG/jetway/<type>-resource:TAG`), so an operator names
 * one image for the lot (deploy/kustomization.yaml). A helper image of another name, or pinned by
 * digest alone, gives `jetway/<type>-resource:<this version>`. `--base-resource-type` overrides any.
 */
export function jetwayResourceTypeImages(helperImage: string): Record<string, string> {
  const withoutDigest = helperImage.replace(/@sha256:[0-9a-f]{64}$/, '');
  const m = /^((?:.*\/)?)jetway\/helper(?::([\w][\w.-]{0,127}))?$/.exec(withoutDigest);
  const prefix = m?.[1] ?? '';
  const tag = m?.[2] ?? JETWAY_VERSION;
  return Object.fromEntries(JETWAY_RESOURCE_TYPES.map((type) => [type, `${prefix}jetway/${type}-resource:${tag}`]));
}

/**
 * The base resource types and their images: Jetway's own types (git, mock, registry-image, time)
 * from the images `jetway images push` pushes, the others the official Concourse resource images,
 * untagged (the kubelet reads an untagged image as `latest`, as Concourse's bundled types track the
 * latest release). `--base-resource-type NAME=IMAGE` overrides an entry or adds a type.
 */
export const DEFAULT_BASE_RESOURCE_TYPES: Readonly<Record<string, string>> = Object.freeze({
  'bosh-io-release': 'concourse/bosh-io-release-resource',
  'bosh-io-stemcell': 'concourse/bosh-io-stemcell-resource',
  cf: 'concourse/cf-resource',
  'docker-image': 'concourse/docker-image-resource',
  'github-release': 'concourse/github-release-resource',
  hg: 'concourse/hg-resource',
  pool: 'concourse/pool-resource',
  s3: 'concourse/s3-resource',
  semver: 'concourse/semver-resource',
  tracker: 'concourse/tracker-resource',
  ...jetwayResourceTypeImages(DEFAULT_HELPER_IMAGE),
});

export const DEFAULT_POD_STARTUP_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_IMAGE_PULL_GRACE_MS = 2 * 60_000;
export const DEFAULT_FAILED_POD_RETENTION_MS = 60 * 60_000;

/** How the web node reaches the API server. */
export type KubernetesCredentials =
  /** client-node's `loadFromDefault()`: $KUBECONFIG, ~/.kube/config, else the in-cluster service account */
  | { kind: 'default'; context?: string }
  | { kind: 'kubeconfig'; path: string; context?: string }
  /** `root`: a prefix of the service account's files' paths (tests; a pod's are under /var/run/secrets) */
  | { kind: 'in-cluster'; root?: string };

export interface KubernetesRuntimeConfig {
  /** where step pods run; undefined: the kubeconfig context's namespace, or the web node's own in-cluster */
  namespace?: string;
  /** service account of step pods; undefined: the namespace's `default` */
  serviceAccount?: string;
  /** operator pull secrets given to every step pod, in order, without duplicates */
  imagePullSecrets: string[];
  /** base resource type -> image (defaults merged with the overrides) */
  baseResourceTypes: Record<string, string>;
  /** image of the init container and the artifact sidecar: must hold a static busybox at /bin/busybox */
  helperImage: string;
  /** a pod not running after this long fails its step */
  podStartupTimeoutMs: number;
  /** a pod in ErrImagePull/ImagePullBackOff this long fails its step with the kubelet's message */
  imagePullGraceMs: number;
  /** how long a failed step's pod is kept for debugging before it is deleted (0: at once) */
  failedPodRetentionMs: number;
  credentials: KubernetesCredentials;
  /** whether a step may ask for a privileged container (`--kubernetes-allow-privileged`); refused otherwise */
  allowPrivileged: boolean;
  /** the step container's default requests and limits, and the largest limits a step may ask for */
  stepResources: StepResources;
}

/** A Kubernetes quantity as the operator wrote it, and its value (CPU: millicores; memory: bytes). */
export interface Quantity {
  text: string;
  value: number;
}

/** The operator's resources for step containers (`--kubernetes-default-*`, `--kubernetes-max-*`); each optional. */
export interface StepResources {
  cpuRequest?: Quantity;
  memoryRequest?: Quantity;
  cpuLimit?: Quantity;
  memoryLimit?: Quantity;
  maxCpuLimit?: Quantity;
  maxMemoryLimit?: Quantity;
}

/** The flags as the web command parses them (commander's camel-cased names), all optional. */
export interface KubernetesRuntimeOptions {
  kubernetesNamespace?: string;
  kubernetesServiceAccount?: string;
  /** repeatable */
  kubernetesImagePullSecret?: string[];
  /** repeatable, NAME=IMAGE */
  baseResourceType?: string[];
  kubernetesHelperImage?: string;
  kubernetesPodStartupTimeout?: string;
  kubernetesImagePullGrace?: string;
  kubernetesFailedPodRetention?: string;
  kubernetesKubeconfig?: string;
  kubernetesContext?: string;
  kubernetesInCluster?: boolean;
  kubernetesAllowPrivileged?: boolean;
  kubernetesDefaultCpuRequest?: string;
  kubernetesDefaultMemoryRequest?: string;
  kubernetesDefaultCpuLimit?: string;
  kubernetesDefaultMemoryLimit?: string;
  kubernetesMaxCpuLimit?: string;
  kubernetesMaxMemoryLimit?: string;
}

/** Flag names, for help texts and error messages. */
export const FLAGS = {
  namespace: '--kubernetes-namespace',
  serviceAccount: '--kubernetes-service-account',
  imagePullSecret: '--kubernetes-image-pull-secret',
  baseResourceType: '--base-resource-type',
  helperImage: '--kubernetes-helper-image',
  podStartupTimeout: '--kubernetes-pod-startup-timeout',
  imagePullGrace: '--kubernetes-image-pull-grace',
  failedPodRetention: '--kubernetes-failed-pod-retention',
  kubeconfig: '--kubernetes-kubeconfig',
  context: '--kubernetes-context',
  inCluster: '--kubernetes-in-cluster',
  allowPrivileged: '--kubernetes-allow-privileged',
  defaultCpuRequest: '--kubernetes-default-cpu-request',
  defaultMemoryRequest: '--kubernetes-default-memory-request',
  defaultCpuLimit: '--kubernetes-default-cpu-limit',
  defaultMemoryLimit: '--kubernetes-default-memory-limit',
  maxCpuLimit: '--kubernetes-max-cpu-limit',
  maxMemoryLimit: '--kubernetes-max-memory-limit',
} as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses and checks the runtime's flags (see KubernetesRuntimeOptions); throws KubernetesConfigError. */
export function kubernetesRuntimeConfig(opts: KubernetesRuntimeOptions): KubernetesRuntimeConfig {
  const config: KubernetesRuntimeConfig = {
    imagePullSecrets: pullSecrets(opts.kubernetesImagePullSecret ?? []),
    baseResourceTypes: mergeBaseResourceTypes(opts.baseResourceType ?? []),
    helperImage: DEFAULT_HELPER_IMAGE,
    podStartupTimeoutMs: duration(opts.kubernetesPodStartupTimeout, FLAGS.podStartupTimeout, DEFAULT_POD_STARTUP_TIMEOUT_MS, false),
    imagePullGraceMs: duration(opts.kubernetesImagePullGrace, FLAGS.imagePullGrace, DEFAULT_IMAGE_PULL_GRACE_MS, true),
    failedPodRetentionMs: duration(opts.kubernetesFailedPodRetention, FLAGS.failedPodRetention, DEFAULT_FAILED_POD_RETENTION_MS, true),
    credentials: credentials(opts),
    allowPrivileged: opts.kubernetesAllowPrivileged === true,
    stepResources: stepResources(opts),
  };
  if (opts.kubernetesNamespace !== undefined) {
    config.namespace = dnsName(opts.kubernetesNamespace, FLAGS.namespace, 'namespace', DNS1123_LABEL, 63);
  }
  if (opts.kubernetesServiceAccount !== undefined) {
    config.serviceAccount = dnsName(opts.kubernetesServiceAccount, FLAGS.serviceAccount, 'service account name', DNS1123_SUBDOMAIN, 253);
  }
  if (opts.kubernetesHelperImage !== undefined) {
    const problem = imageProblem(opts.kubernetesHelperImage);
    if (problem) throw new KubernetesConfigError(FLAGS.helperImage, problem);
    config.helperImage = opts.kubernetesHelperImage;
    // Jetway's own types live next to the helper (jetwayResourceTypeImages); the flags still win
    config.baseResourceTypes = mergeBaseResourceTypes(opts.baseResourceType ?? [], { ...DEFAULT_BASE_RESOURCE_TYPES, ...jetwayResourceTypeImages(config.helperImage) });
  }
  return config;
}

/**
 * The base resource type map (docs/image-features.md, decision 8): the defaults, then each `NAME=IMAGE` in order (later
 * wins; split on the first `=`). A malformed entry is an error naming it, never skipped.
 */
export function mergeBaseResourceTypes(entries: readonly string[], defaults: Readonly<Record<string, string>> = DEFAULT_BASE_RESOURCE_TYPES): Record<string, string> {
  const merged: Record<string, string> = { ...defaults };
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new KubernetesConfigError(FLAGS.baseResourceType, `'${entry}' is not NAME=IMAGE (e.g. git=concourse/git-resource)`);
    const name = entry.slice(0, eq).trim();
    const image = entry.slice(eq + 1).trim();
    if (name === '') throw new KubernetesConfigError(FLAGS.baseResourceType, `'${entry}' has no type name before '='`);
    if (image === '') throw new KubernetesConfigError(FLAGS.baseResourceType, `'${entry}' has no image after '='`);
    if (/\s/.test(name)) throw new KubernetesConfigError(FLAGS.baseResourceType, `'${entry}': the type name '${name}' contains white space`);
    const problem = imageProblem(image);
    if (problem) throw new KubernetesConfigError(FLAGS.baseResourceType, `'${entry}': ${problem}`);
    merged[name] = image;
  }
  return merged;
}

/**
 * The problem with a full image reference as a pod's `image` takes it (`repo`, `repo:tag`,
 * `repo@digest`, `repo:tag@digest`), or undefined when it is fine.
 */
export function imageProblem(image: string): string | undefined {
  if (image === '') return 'the image is empty';
  if (/\s/.test(image)) return `the image '${image}' contains white space`;
  let rest = image;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const p = digestProblem(rest.slice(at + 1));
    if (p) return `the image '${image}': ${p}`;
    rest = rest.slice(0, at);
  }
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  if (colon >= 0) {
    const p = tagProblem(rest.slice(colon + 1));
    if (p) return `the image '${image}': ${p}`;
    rest = rest.slice(0, colon);
  }
  const p = repositoryProblem(rest);
  return p ? `the image '${image}': ${p}` : undefined;
}

/**
 * The step resources flags, parsed and checked against each other: a default request at most the
 * default limit and the maximum, a default limit at most the maximum (Kubernetes refuses a
 * request above its limit; a default above the maximum would refuse every step).
 */
function stepResources(opts: KubernetesRuntimeOptions): StepResources {
  const out: StepResources = {};
  const set = <K extends keyof StepResources>(key: K, value: string | undefined, flag: string, parse: (v: string, flag: string) => Quantity): void => {
    if (value !== undefined) out[key] = parse(value, flag);
  };
  set('cpuRequest', opts.kubernetesDefaultCpuRequest, FLAGS.defaultCpuRequest, cpuQuantity);
  set('memoryRequest', opts.kubernetesDefaultMemoryRequest, FLAGS.defaultMemoryRequest, memoryQuantity);
  set('cpuLimit', opts.kubernetesDefaultCpuLimit, FLAGS.defaultCpuLimit, cpuQuantity);
  set('memoryLimit', opts.kubernetesDefaultMemoryLimit, FLAGS.defaultMemoryLimit, memoryQuantity);
  set('maxCpuLimit', opts.kubernetesMaxCpuLimit, FLAGS.maxCpuLimit, cpuQuantity);
  set('maxMemoryLimit', opts.kubernetesMaxMemoryLimit, FLAGS.maxMemoryLimit, memoryQuantity);
  const atMost = (low: Quantity | undefined, lowFlag: string, high: Quantity | undefined, highFlag: string): void => {
    if (low && high && low.value > high.value) throw new KubernetesConfigError(lowFlag, `${low.text} is above ${highFlag} (${high.text})`);
  };
  atMost(out.cpuRequest, FLAGS.defaultCpuRequest, out.cpuLimit, FLAGS.defaultCpuLimit);
  atMost(out.cpuRequest, FLAGS.defaultCpuRequest, out.maxCpuLimit, FLAGS.maxCpuLimit);
  atMost(out.cpuLimit, FLAGS.defaultCpuLimit, out.maxCpuLimit, FLAGS.maxCpuLimit);
  atMost(out.memoryRequest, FLAGS.defaultMemoryRequest, out.memoryLimit, FLAGS.defaultMemoryLimit);
  atMost(out.memoryRequest, FLAGS.defaultMemoryRequest, out.maxMemoryLimit, FLAGS.maxMemoryLimit);
  atMost(out.memoryLimit, FLAGS.defaultMemoryLimit, out.maxMemoryLimit, FLAGS.maxMemoryLimit);
  return out;
}

/** A CPU quantity (`500m`, `1`, `1.5`) in whole millicores, written back as `<n>m`. */
export function cpuQuantity(value: string, flag: string): Quantity {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  const millicores = m ? (m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000) : NaN;
  if (!Number.isInteger(millicores) || millicores <= 0) {
    throw new KubernetesConfigError(flag, `'${value}' is not a CPU quantity (e.g. 500m, 1, 1.5; at least 1m)`);
  }
  return { text: `${millicores}m`, value: millicores };
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A memory quantity (`512Mi`, `2Gi`, `1G`, bytes) as written, with its bytes. */
export function memoryQuantity(value: string, flag: string): Quantity {
  const text = value.trim();
  const m = /^(\d+)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  const bytes = m ? Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? NaN) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new KubernetesConfigError(flag, `'${value}' is not a memory quantity (e.g. 512Mi, 2Gi, 1G, or bytes)`);
  }
  return { text, value: bytes };
}

function pullSecrets(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const checked = dnsName(name, FLAGS.imagePullSecret, 'secret name', DNS1123_SUBDOMAIN, 253);
    if (!out.includes(checked)) out.push(checked);
  }
  return out;
}

function dnsName(value: string, flag: string, what: string, pattern: RegExp, max: number): string {
  if (value === '') throw new KubernetesConfigError(flag, `the ${what} is empty`);
  if (value.length > max || !pattern.test(value)) {
    throw new KubernetesConfigError(flag, `'${value}' is not a valid ${what} (lowercase letters, digits and '-'${max > 63 ? ", '.'" : ''}; at most ${max} characters; starting and ending with a letter or digit)`);
  }
  return value;
}

function duration(value: string | undefined, flag: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new KubernetesConfigError(flag, `'${value}' is not a ${zeroAllowed ? '' : 'positive '}duration (e.g. 30s, 5m, 1h)`);
  }
  return ms;
}

export function credentials(opts: KubernetesRuntimeOptions): KubernetesCredentials {
  if (opts.kubernetesInCluster === true) {
    if (opts.kubernetesKubeconfig !== undefined) {
      throw new KubernetesConfigError(FLAGS.inCluster, `give either ${FLAGS.inCluster} or ${FLAGS.kubeconfig}, not both`);
    }
    if (opts.kubernetesContext !== undefined) {
      throw new KubernetesConfigError(FLAGS.context, `a context is chosen from a kubeconfig; it has no meaning with ${FLAGS.inCluster}`);
    }
    return { kind: 'in-cluster' };
  }
  const context = opts.kubernetesContext;
  if (context !== undefined && context.trim() === '') throw new KubernetesConfigError(FLAGS.context, 'the context name is empty');
  if (opts.kubernetesKubeconfig !== undefined) {
    if (opts.kubernetesKubeconfig.trim() === '') throw new KubernetesConfigError(FLAGS.kubeconfig, 'the path is empty');
    return { kind: 'kubeconfig', path: opts.kubernetesKubeconfig, ...(context !== undefined ? { context } : {}) };
  }
  return { kind: 'default', ...(context !== undefined ? { context } : {}) };
}
