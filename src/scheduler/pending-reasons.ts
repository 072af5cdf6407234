// Why a pending build of a job does not start, or why a job will not run (docs/concourse-semantics.md
// §4.4; issue 24's "the build stays pending with that reason"). Pure: the facts are read by
// src/scheduler/preparation.ts from what the scheduler stored (next_build_inputs, the serial
// groups' running builds) and from the current pause, archive and check state, so the answer is
// current. The reasons follow the build starter's order: archived, paused, max-in-flight and serial
// groups, checks the build waits for, then the inputs.
import { LATEST_VERSION_NOT_FOUND, NO_SATISFIABLE_BUILDS, VERSION_NOT_FOUND } from './algorithm/types.ts';

/** The latest check of an input's resource. */
export type CheckState =
  | { status: 'never' }
  | { status: 'running'; previousError?: string }
  | { status: 'succeeded' }
  | { status: 'failed'; error: string };

export interface PendingInputFacts {
  name: string;
  resource: string;
  /**
   * The scheduler's last answer for the input: `null` resolved, a string its resolve error
   * (src/scheduler/algorithm/types.ts), `undefined` never resolved (no next_build_inputs row).
   */
  resolveError: string | null | undefined;
  /** The jobs of `passed:`, each with whether it ever succeeded. */
  passed: { job: string; succeeded: boolean }[];
  /** The pin (the step's `version:` or the resource's), as `k:v` text. */
  pinned?: string;
  /** The pinned version is among the resource's versions (disabled or not). */
  pinFound?: boolean;
  /** The resource's current scope has versions, and some of them are enabled. */
  hasVersions: boolean;
  hasEnabledVersions: boolean;
  check: CheckState;
  /** The build waits for a check of this input's resource before choosing versions (buildReadiness). */
  waitingForCheck: boolean;
}

/** A build holding a place in the job's max-in-flight or serial groups. */
export interface HoldingBuild {
  job: string;
  name: string;
}

export interface PendingFacts {
  pipeline: string;
  job: string;
  pipelineArchived: boolean;
  pipelinePaused: boolean;
  jobPaused: boolean;
  /** Reruns take the original build's inputs: input reasons do not apply. */
  rerun: boolean;
  /** The job's effective max_in_flight (1 for serial and serial groups; 0 unlimited). */
  maxInFlight: number;
  /** The job's serial groups (none for plain `max_in_flight` or `serial: true`). */
  serialGroups: string[];
  /** Scheduled, unfinished builds of the jobs sharing a serial group (the job's own included). */
  running: HoldingBuild[];
  /** The pending build of those jobs that starts first (the oldest one), when it is another. */
  olderPending?: HoldingBuild;
  /** jobs.inputs_determined: the last resolution found a version for every input. */
  inputsDetermined: boolean;
  inputs: PendingInputFacts[];
}

export type PendingReason =
  | { kind: 'pipeline-archived' }
  | { kind: 'pipeline-paused' }
  | { kind: 'job-paused' }
  | { kind: 'max-in-flight'; limit: number; serialGroups: string[]; running: HoldingBuild[] }
  | { kind: 'older-pending'; build: HoldingBuild; serialGroups: string[] }
  | { kind: 'waiting-for-check'; input: string; resource: string; check: CheckState }
  | { kind: 'input'; input: string; why: InputWhy }
  | { kind: 'inputs-not-resolved' };

export type InputWhy =
  | { kind: 'no-versions'; resource: string; check: CheckState }
  | { kind: 'every-version-disabled'; resource: string }
  | { kind: 'passed-never-succeeded'; jobs: string[] }
  | { kind: 'no-common-passed-version'; jobs: string[] }
  | { kind: 'pinned-version-missing'; resource: string; pin: string; check: CheckState }
  | { kind: 'new-versions-not-resolved-yet'; resource: string }
  | { kind: 'other'; error: string };

/** Pure: every reason the build (or the job's next build) does not start now, most fundamental first. */
export function pendingReasons(f: PendingFacts): PendingReason[] {
  const out: PendingReason[] = [];
  if (f.pipelineArchived) out.push({ kind: 'pipeline-archived' });
  else if (f.pipelinePaused) out.push({ kind: 'pipeline-paused' });
  if (f.jobPaused) out.push({ kind: 'job-paused' });
  if (f.maxInFlight > 0 && f.running.length >= f.maxInFlight) {
    out.push({ kind: 'max-in-flight', limit: f.maxInFlight, serialGroups: f.serialGroups, running: f.running });
  } else if (f.olderPending) {
    out.push({ kind: 'older-pending', build: f.olderPending, serialGroups: f.serialGroups });
  }
  if (f.rerun) return out;
  // the starter asks for checks only past pause and max-in-flight: a wait for one is said then
  const held = out.length > 0;
  for (const i of f.inputs) {
    if (i.waitingForCheck && !held) out.push({ kind: 'waiting-for-check', input: i.name, resource: i.resource, check: i.check });
  }
  let unresolved = false;
  for (const i of f.inputs) {
    if ((i.waitingForCheck && !held) || typeof i.resolveError !== 'string') continue;
    unresolved = true;
    out.push({ kind: 'input', input: i.name, why: inputWhy(i, i.resolveError) });
  }
  // a held job is not resolved by the scheduler: that its inputs are not is no news then
  if (!held && !f.inputsDetermined && !unresolved && !out.some((r) => r.kind === 'waiting-for-check')) out.push({ kind: 'inputs-not-resolved' });
  return out;
}

/** Pure: why one input has no version, from the scheduler's resolve error and the resource's state now. */
export function inputWhy(i: PendingInputFacts, resolveError: string): InputWhy {
  if (resolveError.startsWith('pinned version')) {
    // a group of inputs with `passed` fails as one: the pin may be another input's
    if (i.pinned === undefined) return { kind: 'other', error: resolveError };
    if (i.pinFound) return { kind: 'new-versions-not-resolved-yet', resource: i.resource };
    return { kind: 'pinned-version-missing', resource: i.resource, pin: i.pinned, check: i.check };
  }
  if (resolveError === LATEST_VERSION_NOT_FOUND || resolveError === VERSION_NOT_FOUND) {
    if (!i.hasVersions) return { kind: 'no-versions', resource: i.resource, check: i.check };
    if (!i.hasEnabledVersions) return { kind: 'every-version-disabled', resource: i.resource };
    // versions arrived (or were enabled) after the scheduler's last pass: the next pass takes them
    return { kind: 'new-versions-not-resolved-yet', resource: i.resource };
  }
  if (resolveError === NO_SATISFIABLE_BUILDS) {
    const never = i.passed.filter((p) => !p.succeeded).map((p) => p.job);
    if (never.length > 0) return { kind: 'passed-never-succeeded', jobs: never };
    if (!i.hasVersions) return { kind: 'no-versions', resource: i.resource, check: i.check };
    return { kind: 'no-common-passed-version', jobs: i.passed.map((p) => p.job) };
  }
  return { kind: 'other', error: resolveError };
}

const list = (xs: readonly string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const holding = (b: HoldingBuild): string => `${b.job} #${b.name}`;

/** An empty error: the reader may not see the team's check errors (a public pipeline). */
const lastFailed = (error: string): string => (error === '' ? 'the last one failed' : `the last one failed: ${error}`);

function checkText(c: CheckState): string {
  switch (c.status) {
    case 'never':
      return 'it has not been checked yet';
    case 'running':
      return c.previousError === undefined ? 'a check is running' : `a check is running; ${lastFailed(c.previousError)}`;
    case 'succeeded':
      return 'its last check found none';
    case 'failed':
      // no error text: the reader may not see the team's check errors (a public pipeline)
      return c.error === '' ? 'its check is failing' : `its check is failing: ${c.error}`;
  }
}

/** Pure: one reason as one readable line (no trailing period). */
export function describePendingReason(r: PendingReason, f: Pick<PendingFacts, 'pipeline' | 'job'>): string {
  switch (r.kind) {
    case 'pipeline-archived':
      return `the pipeline ${f.pipeline} is archived (set it again to unarchive it)`;
    case 'pipeline-paused':
      return `the pipeline ${f.pipeline} is paused`;
    case 'job-paused':
      return `the job ${f.pipeline}/${f.job} is paused`;
    case 'max-in-flight': {
      const shown = r.running.slice(0, 5).map(holding);
      if (r.running.length > shown.length) shown.push(`${r.running.length - shown.length} more`);
      const builds = `${r.running.length === 1 ? 'build' : 'builds'} ${list(shown)} ${r.running.length === 1 ? 'holds' : 'hold'} it`;
      if (r.serialGroups.length > 0) return `serial ${r.serialGroups.length === 1 ? 'group' : 'groups'} ${list(r.serialGroups)} full: ${builds}`;
      return `max-in-flight ${r.limit} reached: ${builds}`;
    }
    case 'older-pending':
      return r.serialGroups.length > 0
        ? `the pending build ${holding(r.build)} of serial ${r.serialGroups.length === 1 ? 'group' : 'groups'} ${list(r.serialGroups)} starts first`
        : `the pending build ${holding(r.build)} starts first`;
    case 'waiting-for-check':
      if (r.check.status === 'failed') return `waiting for a check of ${r.resource} (input ${r.input}); ${checkText(r.check)}`;
      if (r.check.status === 'running' && r.check.previousError !== undefined) {
        return `waiting for a check of ${r.resource} (input ${r.input}) to finish; ${lastFailed(r.check.previousError)}`;
      }
      return `waiting for a check of ${r.resource} (input ${r.input}) to finish`;
    case 'input':
      return `input ${r.input}: ${describeInputWhy(r.why)}`;
    case 'inputs-not-resolved':
      return 'its inputs are not resolved yet (the scheduler has not run for it)';
  }
}

function describeInputWhy(w: InputWhy): string {
  switch (w.kind) {
    case 'no-versions':
      return `resource ${w.resource} has no versions (${checkText(w.check)})`;
    case 'every-version-disabled':
      return `every version of resource ${w.resource} is disabled`;
    case 'passed-never-succeeded':
      return `passed: no build of ${list(w.jobs)} has succeeded yet`;
    case 'no-common-passed-version':
      return `passed: no version has passed ${list(w.jobs)} together with the other inputs' versions`;
    case 'pinned-version-missing':
      return `pinned version ${w.pin} of resource ${w.resource} is not among its versions${w.check.status === 'failed' ? ` (${checkText(w.check)})` : ''}`;
    case 'new-versions-not-resolved-yet':
      return `resource ${w.resource} has new versions the scheduler has not resolved yet`;
    case 'other':
      return w.error;
  }
}

/** Pure: the reasons as one line, for the build and job JSON and the CLI's tables. */
export function pendingReasonLine(f: PendingFacts): string | undefined {
  const reasons = pendingReasons(f);
  return reasons.length === 0 ? undefined : reasons.map((r) => describePendingReason(r, f)).join('; ');
}
