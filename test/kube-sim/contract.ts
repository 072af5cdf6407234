// The contract between the simulated API server (test/kube-sim/apiserver) and the simulated
// kubelet (test/kube-sim/kubelet). The API server owns the objects; the kubelet watches pods,
// runs them for real (runc), and reports back only through this store, the way a real kubelet
// only talks to the API server.
import type { Readable, Writable } from 'node:stream';
import type { CoreV1Event, V1Pod, V1PodStatus, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ClusterStore {
  getPod(namespace: string, name: string): V1Pod | undefined;
  listPods(): V1Pod[];
  /** Called for every pod change after it is stored; returns an unsubscribe function. */
  onPodChange(listener: (type: WatchEventType, pod: V1Pod) => void): () => void;
  /** Replaces a pod's status (bumps resourceVersion and notifies watchers, as PUT pods/status). */
  updatePodStatus(namespace: string, name: string, update: (status: V1PodStatus) => V1PodStatus): void;
  /** Binds a pod to a node (spec.nodeName), as the scheduler's binding does. */
  bindPod(namespace: string, name: string, nodeName: string): void;
  /**
   * The kubelet confirms a pod marked for deletion (metadata.deletionTimestamp) has no processes
   * left; the API server then removes it and watchers see DELETED.
   */
  finalizePodDeletion(namespace: string, name: string): void;
  getSecret(namespace: string, name: string): V1Secret | undefined;
  getServiceAccount(namespace: string, name: string): V1ServiceAccount | undefined;
  /** Records a core/v1 Event about a pod (Pulling, Pulled, Failed, BackOff, Started, Killing…). */
  recordEvent(event: Omit<CoreV1Event, 'metadata'> & { metadata?: CoreV1Event['metadata'] }): void;
  /**
   * (Added by the API server; optional for backwards compatibility.) The cluster's current latency
   * profile, which can change while the cluster runs (the kubelet should read it per pod/pull
   * rather than once).
   */
  latency?(): LatencyProfile;
  /**
   * (Added by the API server; optional.) What a pod needs for in-cluster configuration, as a real
   * kubelet gives it: a service account token from the TokenRequest API (for the projected
   * /var/run/secrets/kubernetes.io/serviceaccount/token) and the `kubernetes` Service's address
   * (KUBERNETES_SERVICE_HOST/PORT) with the cluster's CA (ca.crt). Undefined when the API server
   * has no TLS (in-cluster clients speak https only). No token without a service account (the pod
   * mounts none) or when the account does not exist.
   */
  inClusterCredentials?(namespace: string, serviceAccount: string | undefined, options: { expirationSeconds: number }): InClusterCredentials | undefined;
}

/** A pod's in-cluster configuration (ClusterStore.inClusterCredentials). */
export interface InClusterCredentials {
  token?: string;
  /** PEM */
  caCert: string;
  /** the API server's address as pods reach it (pods share the node's network here) */
  host: string;
  port: number;
}

export interface ExecStreams {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
  /**
   * (Added by the API server; optional.) Aborted when the client went away before the command
   * ended (the WebSocket closed); the kubelet may kill the exec'd process then.
   */
  signal?: AbortSignal;
}

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  previous?: boolean;
  timestamps?: boolean;
}

export class KubeletError extends Error {
  constructor(
    readonly code: 400 | 404 | 409 | 500,
    message: string,
  ) {
    super(message);
  }
}

export interface PullStats {
  /** image reference (as pulled, by digest) -> number of pulls from the registry */
  pulls: Record<string, number>;
  /** total bytes downloaded from registries by the node */
  bytes: number;
}

export interface Kubelet {
  readonly nodeName: string;
  start(store: ClusterStore): void;
  /** Kills every container it runs and stops watching. */
  stop(): Promise<void>;
  /** Runs a command in a running container (pods/exec); resolves with its exit code. */
  exec(namespace: string, pod: string, container: string | undefined, command: string[], streams: ExecStreams): Promise<{ exitCode: number }>;
  /** A container's log (pods/log); with follow, the stream ends when the container exits. */
  logs(namespace: string, pod: string, container: string | undefined, opts: LogOptions): Readable;
  /** Kills a running pod's processes with the given reason (eviction, a fault). */
  evict(namespace: string, pod: string, reason: string): Promise<void>;
  pullStats(): PullStats;
  /**
   * Fault injection: the next pull of an image whose reference matches `pattern` (a substring of
   * the container's `image`, or a RegExp tested against it) fails with `message`, shown as the
   * registry's error (ErrImagePull, then ImagePullBackOff; the back-off retry pulls normally).
   */
  failNextPull(pattern: string | RegExp, message: string): void;
}

/** Delays that make the simulation behave like a real cluster under load (zero for tests). */
export interface LatencyProfile {
  /** every API request */
  apiRequestMs: number;
  /** pod created -> bound to the node */
  schedulingMs: number;
  /** image present -> container running */
  containerStartMs: number;
  /** registry bandwidth while pulling, bytes per second (0 = unlimited) */
  pullBytesPerSecond: number;
  /** fixed cost of each image pull (manifest + auth round trips) */
  pullOverheadMs: number;
}

export const ZERO_LATENCY: LatencyProfile = {
  apiRequestMs: 0,
  schedulingMs: 0,
  containerStartMs: 0,
  pullBytesPerSecond: 0,
  pullOverheadMs: 0,
};
