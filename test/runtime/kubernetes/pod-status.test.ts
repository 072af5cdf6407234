// What a pod's state means, one row per state: while the runtime waits for a new pod to run
// (startupVerdict), while a process runs in it (podEndReason and the "is the reason still to come"
// tests), and the one-line summary error messages carry (describePod).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import {
  containersToRun,
  describePod,
  endReasonMayFollow,
  failedWithoutReason,
  formatMs,
  podEndReason,
  startupTimeoutMessage,
  startupVerdict,
  type StartupVerdict,
  type StartupWait,
} from '../../../src/runtime/kubernetes/pod-status.ts';
import type { PodUpdate } from '../../../src/runtime/kubernetes/pod-watcher.ts';

const STEP_IMAGE = 'registry.ci/app@sha256:abc';
const HELPER_IMAGE = 'registry.ci/jetway/helper:1';

// Container statuses as the kubelet writes them.
const status = (name: string, state: V1ContainerStatus['state'], image = name === 'step' ? STEP_IMAGE : HELPER_IMAGE): V1ContainerStatus => ({
  name,
  image,
  imageID: '',
  ready: state?.running !== undefined,
  restartCount: 0,
  state,
});
const waiting = (name: string, reason?: string, message?: string): V1ContainerStatus =>
  status(name, { waiting: { ...(reason !== undefined ? { reason } : {}), ...(message !== undefined ? { message } : {}) } });
const running = (name: string): V1ContainerStatus => status(name, { running: { startedAt: new Date(0) } });
const terminated = (name: string, exitCode: number, reason?: string, message?: string): V1ContainerStatus =>
  status(name, { terminated: { exitCode, ...(reason !== undefined ? { reason } : {}), ...(message !== undefined ? { message } : {}) } });

const initDone = terminated('jetway-tools', 0, 'Completed');
const unscheduled: V1PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' };

interface PodState {
  phase?: string;
  reason?: string;
  message?: string;
  init?: V1ContainerStatus[];
  containers?: V1ContainerStatus[];
  conditions?: V1PodCondition[];
  deleting?: boolean;
}

/** A watched pod in this state (`p`, being deleted when `deleting`). */
function pod(s: PodState): V1Pod {
  return {
    metadata: { name: 'p', ...(s.deleting ? { deletionTimestamp: new Date(0) } : {}) },
    status: {
      ...(s.phase !== undefined ? { phase: s.phase } : {}),
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ...(s.message !== undefined ? { message: s.message } : {}),
      ...(s.init !== undefined ? { initContainerStatuses: s.init } : {}),
      ...(s.containers !== undefined ? { containerStatuses: s.containers } : {}),
      ...(s.conditions !== undefined ? { conditions: s.conditions } : {}),
    },
  };
}
const update = (s: PodState): PodUpdate => ({ kind: 'pod', pod: pod(s) });

// --- startupVerdict: a pod `p` whose containers are `step` (and `jetway-artifacts` where a row says so)

const GRACE = 60_000;
const NOW = 1_700_000_000_000;
const stepOnly: StartupWait = { containers: ['step'], now: NOW, pullGraceMs: GRACE };
const withSidecar: StartupWait = { ...stepOnly, containers: ['step', 'jetway-artifacts'] };

const fatal = (reason: string): { name: string; pod: PodUpdate; wait: StartupWait; want: StartupVerdict } => ({
  name: `${reason} fails at once`,
  pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', reason, `${reason} details`)] }),
  wait: stepOnly,
  want: { kind: 'failed', message: `the pod p cannot start its container step (${reason}): ${reason} details` },
});

const startupRows: { name: string; pod: PodUpdate; wait: StartupWait; want: StartupVerdict }[] = [
  {
    name: 'deleted before it was ever seen',
    pod: { kind: 'deleted' },
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p was deleted before it started' },
  },
  {
    name: 'deleted: the last state seen is told',
    pod: { kind: 'deleted', lastSeen: pod({ phase: 'Pending', conditions: [unscheduled] }) },
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p was deleted before it started: phase Pending; not scheduled: 0/3 nodes are available: 3 Insufficient memory.' },
  },
  { name: 'just created: no status yet', pod: { kind: 'pod', pod: { metadata: { name: 'p' } } }, wait: stepOnly, want: { kind: 'starting' } },
  { name: 'pending, not scheduled yet', pod: update({ phase: 'Pending', conditions: [unscheduled] }), wait: stepOnly, want: { kind: 'starting' } },
  {
    name: 'the init container copies the tools',
    pod: update({ phase: 'Pending', init: [running('jetway-tools')], containers: [waiting('step', 'PodInitializing')] }),
    wait: stepOnly,
    want: { kind: 'starting' },
  },
  { name: 'ContainerCreating', pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ContainerCreating')] }), wait: stepOnly, want: { kind: 'starting' } },
  {
    name: 'ErrImagePull, first seen: within the grace period',
    pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ErrImagePull', 'manifest unknown')] }),
    wait: stepOnly,
    want: { kind: 'pull-failing', message: `image pull failed for ${STEP_IMAGE}: manifest unknown` },
  },
  {
    name: 'ImagePullBackOff failing for less than the grace period',
    pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ImagePullBackOff', 'Back-off pulling image')] }),
    wait: { ...stepOnly, pullFailingSince: NOW - GRACE + 1 },
    want: { kind: 'pull-failing', message: `image pull failed for ${STEP_IMAGE}: Back-off pulling image` },
  },
  {
    name: 'ImagePullBackOff failing for the grace period: the step fails',
    pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ImagePullBackOff', 'Back-off pulling image')] }),
    wait: { ...stepOnly, pullFailingSince: NOW - GRACE },
    want: { kind: 'failed', message: `image pull failed for ${STEP_IMAGE}: Back-off pulling image` },
  },
  {
    name: 'a pull failure without a message gives its reason',
    pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ErrImagePull')] }),
    wait: stepOnly,
    want: { kind: 'pull-failing', message: `image pull failed for ${STEP_IMAGE}: ErrImagePull` },
  },
  {
    name: "the helper image's pull failing (init container)",
    pod: update({ phase: 'Pending', init: [waiting('jetway-tools', 'ErrImagePull', 'unauthorized')], containers: [waiting('step', 'PodInitializing')] }),
    wait: stepOnly,
    want: { kind: 'pull-failing', message: `image pull failed for ${HELPER_IMAGE}: unauthorized` },
  },
  {
    name: 'a pull failure outranks the deletion of the pod (the pull error is what the step reports)',
    pod: update({ phase: 'Pending', deleting: true, init: [initDone], containers: [waiting('step', 'ImagePullBackOff', 'Back-off pulling image')] }),
    wait: stepOnly,
    want: { kind: 'pull-failing', message: `image pull failed for ${STEP_IMAGE}: Back-off pulling image` },
  },
  fatal('InvalidImageName'),
  fatal('ErrImageNeverPull'),
  fatal('CreateContainerConfigError'),
  fatal('CreateContainerError'),
  fatal('RunContainerError'),
  {
    name: 'a fatal waiting reason without a message',
    pod: update({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'CreateContainerConfigError')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p cannot start its container step (CreateContainerConfigError):' },
  },
  {
    name: "the sidecar's fatal waiting reason",
    pod: update({ phase: 'Pending', init: [initDone], containers: [running('step'), waiting('jetway-artifacts', 'RunContainerError', 'exec format error')] }),
    wait: withSidecar,
    want: { kind: 'failed', message: 'the pod p cannot start its container jetway-artifacts (RunContainerError): exec format error' },
  },
  {
    name: 'being deleted',
    pod: update({ phase: 'Pending', deleting: true, init: [initDone], containers: [waiting('step', 'ContainerCreating')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p was deleted before it started: phase Pending; jetway-tools Completed (exit 0); step waiting (ContainerCreating)' },
  },
  {
    name: 'evicted before it ran',
    pod: update({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p ended before the step ran: phase Failed; reason Evicted; The node was low on resource: memory.' },
  },
  {
    name: 'succeeded before it ran',
    pod: update({ phase: 'Succeeded', init: [initDone], containers: [terminated('step', 0, 'Completed')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: 'the pod p ended before the step ran: phase Succeeded; jetway-tools Completed (exit 0); step Completed (exit 0)' },
  },
  {
    name: 'the init container failed',
    pod: update({ phase: 'Pending', init: [terminated('jetway-tools', 1, 'Error', "cp: can't create '/jetway/bin/busybox': Read-only file system\n")], containers: [waiting('step', 'PodInitializing')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: "the pod p's init container jetway-tools failed: Error (exit 1): cp: can't create '/jetway/bin/busybox': Read-only file system" },
  },
  {
    name: 'the step container ended (exit code) before the step ran',
    pod: update({ phase: 'Running', init: [initDone], containers: [terminated('step', 127, 'Error', 'exec: /jetway/bin/busybox: not found')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: "the pod p's container step ended before the step ran: Error (exit 127): exec: /jetway/bin/busybox: not found" },
  },
  {
    name: 'the step container was OOMKilled before the step ran',
    pod: update({ phase: 'Running', init: [initDone], containers: [terminated('step', 137, 'OOMKilled')] }),
    wait: stepOnly,
    want: { kind: 'failed', message: "the pod p's container step ended before the step ran: OOMKilled (exit 137)" },
  },
  {
    name: 'the artifact sidecar ended before the step ran',
    pod: update({ phase: 'Running', init: [initDone], containers: [running('step'), terminated('jetway-artifacts', 1, 'Error')] }),
    wait: withSidecar,
    want: { kind: 'failed', message: "the pod p's container jetway-artifacts ended before the step ran: Error (exit 1)" },
  },
  {
    name: 'a terminated container the step does not wait for is not its concern',
    pod: update({ phase: 'Running', init: [initDone], containers: [running('step'), terminated('jetway-artifacts', 1, 'Error')] }),
    wait: stepOnly,
    want: { kind: 'running' },
  },
  {
    name: 'containers running, the phase not Running yet',
    pod: update({ phase: 'Pending', init: [initDone], containers: [running('step')] }),
    wait: stepOnly,
    want: { kind: 'starting' },
  },
  {
    name: 'Running, the step container still creating',
    pod: update({ phase: 'Running', init: [initDone], containers: [waiting('step', 'ContainerCreating')] }),
    wait: stepOnly,
    want: { kind: 'starting' },
  },
  { name: 'running (no sidecar)', pod: update({ phase: 'Running', init: [initDone], containers: [running('step')] }), wait: stepOnly, want: { kind: 'running' } },
  {
    name: 'the step runs, the sidecar is still creating',
    pod: update({ phase: 'Running', init: [initDone], containers: [running('step'), waiting('jetway-artifacts', 'ContainerCreating')] }),
    wait: withSidecar,
    want: { kind: 'starting' },
  },
  {
    name: 'the step and the sidecar run',
    pod: update({ phase: 'Running', init: [initDone], containers: [running('step'), running('jetway-artifacts')] }),
    wait: withSidecar,
    want: { kind: 'running' },
  },
  { name: 'Running with no container statuses', pod: update({ phase: 'Running' }), wait: stepOnly, want: { kind: 'starting' } },
];

for (const row of startupRows) {
  test(`starting: ${row.name}`, () => {
    assert.deepStrictEqual(startupVerdict('p', row.pod, row.wait), row.want);
  });
}

// --- podEndReason (and endReasonMayFollow, failedWithoutReason): a pod `p` while its step runs

interface EndWant {
  reason: string | undefined;
  /** endReasonMayFollow */
  mayFollow: boolean;
  /** failedWithoutReason */
  failedWithoutReason: boolean;
}

const runningRows: { name: string; pod: PodUpdate; want: EndWant }[] = [
  {
    name: 'running',
    pod: update({ phase: 'Running', init: [initDone], containers: [running('step'), running('jetway-artifacts')] }),
    want: { reason: undefined, mayFollow: true, failedWithoutReason: false },
  },
  { name: 'no status', pod: { kind: 'pod', pod: { metadata: { name: 'p' } } }, want: { reason: undefined, mayFollow: true, failedWithoutReason: false } },
  {
    name: 'the sidecar ended, the step container runs',
    pod: update({ phase: 'Running', containers: [running('step'), terminated('jetway-artifacts', 1, 'Error')] }),
    want: { reason: undefined, mayFollow: true, failedWithoutReason: false },
  },
  { name: 'deleted', pod: { kind: 'deleted' }, want: { reason: 'the pod p was deleted while the step was running', mayFollow: false, failedWithoutReason: false } },
  {
    name: 'deleted (last seen running)',
    pod: { kind: 'deleted', lastSeen: pod({ phase: 'Running', containers: [running('step')] }) },
    want: { reason: 'the pod p was deleted while the step was running', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'being deleted',
    pod: update({ phase: 'Running', deleting: true, containers: [running('step')] }),
    want: { reason: 'the pod p was deleted while the step was running', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'evicted',
    pod: update({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.', containers: [terminated('step', 137, 'Error')] }),
    want: { reason: 'the pod p was evicted: The node was low on resource: memory.', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'evicted, the phase not Failed yet',
    pod: update({ phase: 'Running', reason: 'Evicted', message: 'ephemeral storage', containers: [running('step')] }),
    want: { reason: 'the pod p was evicted: ephemeral storage', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'evicted without a message',
    pod: update({ phase: 'Failed', reason: 'Evicted' }),
    want: { reason: 'the pod p was evicted: no message', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'stopped for another reason',
    pod: update({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }),
    want: { reason: 'the pod p was stopped (DeadlineExceeded): Pod was active on the node longer than the specified deadline', mayFollow: false, failedWithoutReason: false },
  },
  {
    name: 'failed without a reason (yet)',
    pod: update({ phase: 'Failed', containers: [terminated('step', 137, 'Error')] }),
    want: { reason: 'the pod p ended (Failed) while the step was running: phase Failed; step Error (exit 137)', mayFollow: true, failedWithoutReason: true },
  },
  {
    name: 'succeeded',
    pod: update({ phase: 'Succeeded', containers: [terminated('step', 0, 'Completed')] }),
    want: { reason: 'the pod p ended (Succeeded) while the step was running: phase Succeeded; step Completed (exit 0)', mayFollow: true, failedWithoutReason: false },
  },
  {
    name: 'the step container ended with an exit code',
    pod: update({ phase: 'Running', containers: [terminated('step', 2, 'Error', 'killed\n'), running('jetway-artifacts')] }),
    want: { reason: "the pod p's step container ended while the step was running: Error (exit 2): killed", mayFollow: true, failedWithoutReason: false },
  },
  {
    name: 'the step container was OOMKilled',
    pod: update({ phase: 'Running', containers: [terminated('step', 137, 'OOMKilled')] }),
    want: { reason: "the pod p's step container ended while the step was running: OOMKilled (exit 137)", mayFollow: true, failedWithoutReason: false },
  },
];

for (const row of runningRows) {
  test(`running: ${row.name}`, () => {
    assert.deepStrictEqual(
      { reason: podEndReason('p', row.pod), mayFollow: endReasonMayFollow(row.pod), failedWithoutReason: failedWithoutReason(row.pod) },
      row.want,
    );
  });
}

// --- describePod

const describeRows: { name: string; pod: V1Pod | undefined; want: string }[] = [
  { name: 'not seen', pod: undefined, want: 'not seen yet' },
  { name: 'no status', pod: { metadata: { name: 'p' } }, want: 'phase unknown' },
  { name: 'not scheduled', pod: pod({ phase: 'Pending', conditions: [unscheduled] }), want: 'phase Pending; not scheduled: 0/3 nodes are available: 3 Insufficient memory.' },
  {
    name: 'not scheduled, no message',
    pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }),
    want: 'phase Pending; not scheduled: Unschedulable',
  },
  { name: 'scheduled', pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }), want: 'phase Pending' },
  {
    name: 'containers waiting and ended, init containers first',
    pod: pod({ phase: 'Pending', init: [initDone], containers: [waiting('step', 'ErrImagePull', 'manifest unknown'), waiting('jetway-artifacts')] }),
    want: 'phase Pending; jetway-tools Completed (exit 0); step waiting (ErrImagePull: manifest unknown); jetway-artifacts waiting ()',
  },
  { name: 'running containers are not listed', pod: pod({ phase: 'Running', containers: [running('step')] }), want: 'phase Running' },
  {
    name: "the pod's reason and message",
    pod: pod({ phase: 'Failed', reason: 'Evicted', message: 'low memory', containers: [terminated('step', 137)] }),
    want: 'phase Failed; reason Evicted; low memory; step terminated (exit 137)',
  },
];

for (const row of describeRows) {
  test(`describePod: ${row.name}`, () => {
    assert.equal(describePod(row.pod), row.want);
  });
}

test('the containers to wait for: those of the pod spec, or the step container', () => {
  assert.deepStrictEqual(containersToRun({ spec: { containers: [{ name: 'step' }, { name: 'jetway-artifacts' }] } }), ['step', 'jetway-artifacts']);
  assert.deepStrictEqual(containersToRun({}), ['step']);
});

test('the start-up timeout names the flag, the duration as the flag takes it, and the last state', () => {
  assert.equal(
    startupTimeoutMessage('p', 300_000, pod({ phase: 'Pending', conditions: [unscheduled] })),
    'the pod p did not start within 5m (--kubernetes-pod-startup-timeout): phase Pending; not scheduled: 0/3 nodes are available: 3 Insufficient memory.',
  );
  assert.equal(startupTimeoutMessage('p', 1_500, undefined), 'the pod p did not start within 1500ms (--kubernetes-pod-startup-timeout): not seen yet');
  assert.deepStrictEqual([formatMs(120_000), formatMs(90_000), formatMs(1_000), formatMs(250)], ['2m', '90s', '1s', '250ms']);
});

// moved from client.test.ts
test('a running pod ends with a reason: evicted, deleted, failed', () => {
  assert.match(podEndReason('p', { kind: 'deleted' })!, /was deleted while the step was running/);
  assert.match(podEndReason('p', { kind: 'pod', pod: { status: { phase: 'Failed', reason: 'Evicted', message: 'low memory' } } })!, /the pod p was evicted: low memory/);
  assert.match(podEndReason('p', { kind: 'pod', pod: { metadata: { deletionTimestamp: new Date() }, status: { phase: 'Running' } } })!, /was deleted/);
  assert.equal(podEndReason('p', { kind: 'pod', pod: { status: { phase: 'Running', containerStatuses: [{ name: 'step', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } } }), undefined);
  assert.match(describePod({ status: { phase: 'Pending', containerStatuses: [{ name: 'step', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }] } }), /step waiting \(ErrImagePull: manifest unknown\)/);
});
