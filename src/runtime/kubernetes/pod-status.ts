// What a step's pod state means, as pure functions of the pod (no I/O, no clock: the time comes
// in as an argument). The runtime feeds them the pod watch's updates and acts on the answer:
//  - startupVerdict: while the runtime waits for a new pod to run its containers;
//  - podEndReason (and the two "is the reason still to come" tests): while a process runs in it;
//  - describePod: the one-line summary error messages carry.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { CONTAINERS } from './pod-spec.ts';
import type { PodUpdate } from './pod-watcher.ts';

/** Waiting reasons of a failing image pull: the kubelet retries them, so they fail only after the grace period. */
export const PULL_FAILURES: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff']);

/** Waiting reasons no retry of the kubelet can mend: the step fails at once. */
export const FATAL_WAITING: ReadonlySet<string> = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** What the runtime knows of one wait for a pod to start, besides the pod. */
export interface StartupWait {
  /** the containers that must run before the step can (the pod's containers: step, and the artifact sidecar when there is one) */
  containers: readonly string[];
  /** when image pulls began failing without a break in this wait (ms since the epoch), if they have */
  pullFailingSince?: number | undefined;
  /** now, in ms since the epoch */
  now: number;
  /** how long image pulls may fail before the step fails (--kubernetes-image-pull-grace) */
  pullGraceMs: number;
}

/** Where a starting pod stands. */
export type StartupVerdict =
  /** not running yet, nothing wrong (scheduling, init container, creating the containers) */
  | { kind: 'starting' }
  /** an image pull is failing, within the grace period: the kubelet may still get it */
  | { kind: 'pull-failing'; message: string }
  /** every container of `containers` runs: the step can start */
  | { kind: 'running' }
  /** the pod will never run the step */
  | { kind: 'failed'; message: string };

/** The containers a pod must run before its step can: every container of its spec. */
export function containersToRun(pod: V1Pod): string[] {
  return pod.spec?.containers.map((c) => c.name) ?? [CONTAINERS.step];
}

/**
 * Where the starting pod `name` stands after this update. Checked in this order: deleted; an
 * image pull failing (waiting out the grace period even on a pod being deleted, so the pull error
 * is what the step reports); a fatal waiting reason; deleted (being); ended; a failed init
 * container; a wanted container ended; everything wanted running.
 */
export function startupVerdict(name: string, update: PodUpdate, wait: StartupWait): StartupVerdict {
  if (update.kind === 'deleted') {
    return { kind: 'failed', message: `the pod ${name} was deleted before it started${update.lastSeen ? `: ${describePod(update.lastSeen)}` : ''}` };
  }
  const pod = update.pod;
  const status = pod.status;
  const all = allContainerStatuses(pod);
  const pulling = all.find((c) => waitingIn(c, PULL_FAILURES));
  if (pulling) {
    const waiting = pulling.state?.waiting;
    const message = `image pull failed for ${pulling.image}: ${waiting?.message ?? waiting?.reason ?? 'unknown error'}`;
    const since = wait.pullFailingSince ?? wait.now;
    return wait.now - since >= wait.pullGraceMs ? { kind: 'failed', message } : { kind: 'pull-failing', message };
  }
  const fatal = all.find((c) => waitingIn(c, FATAL_WAITING));
  if (fatal) {
    return { kind: 'failed', message: `the pod ${name} cannot start its container ${fatal.name} (${fatal.state?.waiting?.reason}): ${fatal.state?.waiting?.message ?? ''}`.trim() };
  }
  if (pod.metadata?.deletionTimestamp) return { kind: 'failed', message: `the pod ${name} was deleted before it started: ${describePod(pod)}` };
  const phase = status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return { kind: 'failed', message: `the pod ${name} ended before the step ran: ${describePod(pod)}` };
  const failedInit = (status?.initContainerStatuses ?? []).find((c) => (c.state?.terminated?.exitCode ?? 0) !== 0);
  if (failedInit) return { kind: 'failed', message: `the pod ${name}'s init container ${failedInit.name} failed: ${terminatedText(failedInit)}` };
  const ended = (status?.containerStatuses ?? []).find((c) => c.state?.terminated !== undefined && wait.containers.includes(c.name));
  if (ended) return { kind: 'failed', message: `the pod ${name}'s container ${ended.name} ended before the step ran: ${terminatedText(ended)}` };
  const running = new Set((status?.containerStatuses ?? []).filter((c) => c.state?.running !== undefined).map((c) => c.name));
  if (phase === 'Running' && wait.containers.every((c) => running.has(c))) return { kind: 'running' };
  return { kind: 'starting' };
}

/** The error of a pod that did not start in time (--kubernetes-pod-startup-timeout), with its last known state. */
export function startupTimeoutMessage(name: string, timeoutMs: number, last: V1Pod | undefined): string {
  return `the pod ${name} did not start within ${formatMs(timeoutMs)} (--kubernetes-pod-startup-timeout): ${describePod(last)}`;
}

/** Why a running pod ended (evicted, deleted, failed), or undefined while it runs. */
export function podEndReason(name: string, update: PodUpdate): string | undefined {
  if (update.kind === 'deleted') return `the pod ${name} was deleted while the step was running`;
  const pod = update.pod;
  const status = pod.status;
  if (status?.reason === 'Evicted' || (status?.phase === 'Failed' && status.reason)) {
    return `the pod ${name} was ${status.reason === 'Evicted' ? 'evicted' : `stopped (${status.reason})`}: ${status.message ?? 'no message'}`;
  }
  if (status?.phase === 'Failed' || status?.phase === 'Succeeded') return `the pod ${name} ended (${status.phase}) while the step was running: ${describePod(pod)}`;
  if (pod.metadata?.deletionTimestamp) return `the pod ${name} was deleted while the step was running`;
  const step = status?.containerStatuses?.find((c) => c.name === CONTAINERS.step);
  if (step?.state?.terminated) return `the pod ${name}'s step container ended while the step was running: ${terminatedText(step)}`;
  return undefined;
}

/**
 * A pod (not being deleted) with no reason in its status: when it has ended, the reason may still
 * come (the kubelet writes an eviction's reason after the containers end), so a running process
 * waits a moment for it before reporting the pod's end.
 */
export function endReasonMayFollow(update: PodUpdate): boolean {
  return update.kind === 'pod' && !update.pod.status?.reason && !update.pod.metadata?.deletionTimestamp;
}

/** A failed pod with no reason (yet): not the specific fate a process killed with its pod is reported with. */
export function failedWithoutReason(update: PodUpdate): boolean {
  return update.kind === 'pod' && update.pod.status?.phase === 'Failed' && !update.pod.status.reason;
}

/** A one-line summary of a pod's state, for error messages. */
export function describePod(pod: V1Pod | undefined): string {
  if (!pod) return 'not seen yet';
  const status = pod.status;
  const parts = [`phase ${status?.phase ?? 'unknown'}`];
  if (status?.reason) parts.push(`reason ${status.reason}`);
  if (status?.message) parts.push(status.message);
  for (const c of allContainerStatuses(pod)) {
    const w = c.state?.waiting;
    const t = c.state?.terminated;
    if (w) parts.push(`${c.name} waiting (${w.reason ?? ''}${w.message ? `: ${w.message}` : ''})`);
    else if (t) parts.push(`${c.name} ${terminatedText(c)}`);
  }
  const unscheduled = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) parts.push(`not scheduled: ${unscheduled.message ?? unscheduled.reason ?? ''}`);
  return parts.join('; ');
}

/** How a container ended: reason, exit code and message. */
export function terminatedText(c: V1ContainerStatus): string {
  const t = c.state?.terminated;
  if (!t) return 'not terminated';
  return `${t.reason ?? 'terminated'} (exit ${t.exitCode})${t.message ? `: ${t.message.trim()}` : ''}`;
}

/** A duration as the flags take it (10m, 30s, 1500ms). */
export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Init containers first, as they run. */
function allContainerStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function waitingIn(c: V1ContainerStatus, reasons: ReadonlySet<string>): boolean {
  const reason = c.state?.waiting?.reason;
  return reason !== undefined && reasons.has(reason);
}
