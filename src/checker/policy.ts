// The checker's decisions as pure functions (docs/concourse-semantics.md §5): which resources the scanner
// checks, their check interval, and the check plan.
import type { Resource, ResourceType } from '../config/index.ts';
import { parseDuration } from '../config/index.ts';
import type { CheckFacts } from '../db/resources.ts';
import { applyDefaults, imageForType, type PlannerResourceType } from '../planner/image-plan.ts';
import type { CheckPlan, Plan } from '../model/plan.ts';
import type { Version } from '../model/version.ts';

export interface IntervalDefaults {
  /** `--resource-checking-interval` (1m). */
  resourceMs: number;
  /** `--resource-with-webhook-checking-interval` (1m). */
  webhookMs: number;
  /** `--resource-type-checking-interval` (1m). */
  resourceTypeMs: number;
}

export const DEFAULT_INTERVALS: IntervalDefaults = { resourceMs: 60_000, webhookMs: 60_000, resourceTypeMs: 60_000 };
export const DEFAULT_CHECK_TIMEOUT = '1h';

export type CheckInterval = { never: true } | { never: false; ms: number; text: string };

/** A duration in ms as Go-style text (`1m`, `30s`, `1h30m`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

function configured(checkEvery: unknown): CheckInterval | undefined {
  if (checkEvery === 'never') return { never: true };
  if (typeof checkEvery !== 'string') return undefined;
  const ms = parseDuration(checkEvery);
  if (ms === undefined || ms <= 0) return undefined;
  return { never: false, ms, text: checkEvery };
}

/** A resource's interval: check_every, else the webhook default when webhook_token is set, else the default. */
export function resourceCheckInterval(resource: Pick<Resource, 'check_every' | 'webhook_token'>, d: IntervalDefaults = DEFAULT_INTERVALS): CheckInterval {
  const own = configured(resource.check_every);
  if (own) return own;
  const ms = resource.webhook_token ? d.webhookMs : d.resourceMs;
  return { never: false, ms, text: formatDuration(ms) };
}

/** A resource type's interval (directly triggered type checks): check_every, else the type default. */
export function resourceTypeCheckInterval(type: Pick<ResourceType, 'check_every'>, d: IntervalDefaults = DEFAULT_INTERVALS): CheckInterval {
  return configured(type.check_every) ?? { never: false, ms: d.resourceTypeMs, text: formatDuration(d.resourceTypeMs) };
}

/**
 * The scanner's selection (§5), for a resource of an unpaused pipeline: (1) a trigger input;
 * (2) never checked or last check failed, and put-only or a non-trigger input; (3) a non-trigger
 * input with no versions; (4) a non-trigger input pinned to a version not found yet. Other
 * non-trigger inputs are checked lazily by the build starter.
 */
export function scannerSelects(f: CheckFacts): boolean {
  if (f.triggerInput) return true;
  if ((!f.checked || !f.lastCheckSucceeded) && (f.putOnly || f.nonTriggerInput)) return true;
  if (f.nonTriggerInput && !f.hasVersions) return true;
  if (f.nonTriggerInput && f.pinned && !f.pinFound) return true;
  return false;
}

export type ScanDecision = 'check' | 'not-selected' | 'never' | 'interval-not-elapsed';

/** Whether the periodic scan creates a check now (the one-running-check rule is applied after). */
export function scanDecision(f: CheckFacts, interval: CheckInterval): ScanDecision {
  if (!scannerSelects(f)) return 'not-selected';
  if (interval.never) return 'never';
  if (!f.intervalElapsed) return 'interval-not-elapsed';
  return 'check';
}

export function toPlannerTypes(types: readonly ResourceType[]): PlannerResourceType[] {
  return types.map((t) => ({
    name: t.name ?? '',
    type: t.type ?? '',
    ...(t.source ? { source: t.source } : {}),
    ...(t.params ? { params: t.params } : {}),
    ...(t.privileged === true ? { privileged: true } : {}),
    ...(typeof t.check_every === 'string' ? { check_every: t.check_every } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
    ...(t.defaults ? { defaults: t.defaults } : {}),
  }));
}

export interface CheckPlanOptions {
  /** The version to check from (a pin, or a manual check's `from`). */
  from?: Version | null;
  /** A manual check: skip the interval (and, unless shallow, on the nested type checks too). */
  skipInterval?: boolean;
  /** Manual check: do not skip the interval of the nested type checks. */
  shallow?: boolean;
  interval: CheckInterval;
  planId?: string;
}

/** The check plan of a resource: `{id, check: {name, type, source: defaults⊕source, …, image}}`. */
export function resourceCheckPlan(resource: Resource, types: readonly ResourceType[], opts: CheckPlanOptions): Plan {
  const planTypes = toPlannerTypes(types);
  const id = opts.planId ?? '1';
  const type = resource.type ?? '';
  const tags = resource.tags && resource.tags.length > 0 ? resource.tags : undefined;
  const skip = opts.skipInterval === true;
  const check: CheckPlan = {
    name: resource.name ?? '',
    type,
    source: applyDefaults(resource.source, type, planTypes),
    ...(tags ? { tags } : {}),
    timeout: resource.check_timeout ?? DEFAULT_CHECK_TIMEOUT,
    ...(opts.from ? { from_version: opts.from } : {}),
    interval: opts.interval.never ? formatDuration(DEFAULT_INTERVALS.resourceMs) : opts.interval.text,
    ...(skip ? { skip_interval: true } : {}),
    resource: resource.name ?? '',
    image: imageForType(id, type, planTypes, tags, skip && !opts.shallow),
  };
  return { id, check };
}

/** The check plan of a resource type (its own image's versions, saved to the type's scope). */
export function resourceTypeCheckPlan(type: ResourceType, types: readonly ResourceType[], opts: CheckPlanOptions): Plan {
  const name = type.name ?? '';
  // the type itself is left out of the lookup, so `name: git, type: git` reaches the base type
  const others = toPlannerTypes(types.filter((t) => t.name !== name));
  const id = opts.planId ?? '1';
  const base = type.type ?? '';
  const tags = type.tags && type.tags.length > 0 ? type.tags : undefined;
  const skip = opts.skipInterval === true;
  const check: CheckPlan = {
    name,
    type: base,
    source: applyDefaults(type.source, base, others),
    ...(tags ? { tags } : {}),
    timeout: DEFAULT_CHECK_TIMEOUT,
    ...(opts.from ? { from_version: opts.from } : {}),
    interval: opts.interval.never ? formatDuration(DEFAULT_INTERVALS.resourceTypeMs) : opts.interval.text,
    ...(skip ? { skip_interval: true } : {}),
    resource_type: name,
    image: imageForType(id, base, others, tags, skip && !opts.shallow),
  };
  return { id, check };
}
