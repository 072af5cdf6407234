// Pod names, labels and annotations of step pods. Pure.
//
// Names are readable and unique: `<pipeline>-<job>-b<build>-<type>-<8 hex>` for a job's steps,
// `chk-<resource>-<8 hex>` for checks, `build-<id>-<type>-<8 hex>` for one-off builds. The
// 8 hex come from the container handle (a UUID: its first 8 hex digits; anything else: a hash),
// so two pods never share a name even when everything else is equal. A name is a DNS-1123 label:
// at most 63 characters of [a-z0-9-], starting and ending with a letter or digit. When the name
// parts are too long, the free parts (pipeline, job, resource) are truncated fairly and the fixed
// parts (prefix, build, type, hex) always survive.
//
// Labels make pods findable with `kubectl get pods -l jetway.dev/pipeline=...`; label values are
// limited to 63 characters of [A-Za-z0-9._-], so the full names are kept in annotations.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ContainerMetadata } from '../runtime.ts';

export const MAX_NAME = 63;

/** Label (and annotation) keys. */
export const LABELS = {
  pipeline: 'jetway.dev/pipeline',
  job: 'jetway.dev/job',
  build: 'jetway.dev/build',
  buildId: 'jetway.dev/build-id',
  step: 'jetway.dev/step',
  type: 'jetway.dev/type',
  handle: 'jetway.dev/handle',
  team: 'jetway.dev/team',
  purpose: 'jetway.dev/purpose',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Annotation keys beyond the labels' (which are repeated as annotations, unabridged). */
export const ANNOTATIONS = {
  planId: 'jetway.dev/plan-id',
  /**
   * A failed step's pod kept for debugging: until when (RFC 3339). Every web node's reaper reads
   * it, so a pod one node keeps is not deleted early by another's (docs/web-nodes.md).
   */
  retainUntil: 'jetway.dev/retain-until',
} as const;

/**
 * When a pod kept for debugging may go (from its retain-until annotation); undefined when it is
 * not kept, or the annotation is not a time (then it is treated as not kept).
 */
export function retainedUntil(annotations: Record<string, string> | undefined): Date | undefined {
  const raw = annotations?.[ANNOTATIONS.retainUntil];
  if (raw === undefined) return undefined;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Whether a pod is still kept for debugging at `now` (by whichever web node kept it). */
export function keptForDebugging(annotations: Record<string, string> | undefined, now: Date): boolean {
  const until = retainedUntil(annotations);
  return until !== undefined && until.getTime() > now.getTime();
}

/** Every object Jetway creates carries this label; the reaper lists pods with it. */
export const MANAGED_BY = 'jetway';
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/** The 8 hex digits that make a pod's name unique: a UUID's first 8, else a hash of the handle. */
export function handleHex(handle: string): string {
  const hex = handle.toLowerCase().replace(/-/g, '');
  if (/^[0-9a-f]{8}/.test(hex)) return hex.slice(0, 8);
  return createHash('sha256').update(handle).digest('hex').slice(0, 8);
}

/** The absolute working directory of a step in its pod: `/tmp/build/<8 hex>`. */
export function workDirFor(handle: string): string {
  return posix.join('/tmp/build', handleHex(handle));
}

/** A name part: lowercase ASCII letters, digits and single '-', never at either end ('' when nothing is left). */
export function sanitizeNamePart(value: string): string {
  return stripDiacritics(value)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The pod name of a step (see the file comment). */
export function podName(meta: ContainerMetadata, handle: string): string {
  const hex = handleHex(handle);
  if (meta.type === 'check') {
    return joinFair(['chk'], [meta.step ?? ''], [hex]);
  }
  const type = meta.type;
  if (meta.pipeline && meta.job) {
    return joinFair([], [meta.pipeline, meta.job], [`b${fixedPart(meta.build ?? String(meta.buildId ?? ''))}`, type, hex]);
  }
  const id = meta.buildId !== undefined ? String(meta.buildId) : (meta.build ?? '');
  return joinFair(['build'], [], [fixedPart(id), type, hex]);
}

/**
 * Joins prefix, free and suffix parts with '-' into at most 63 characters: sanitised, empty parts
 * dropped, free parts truncated fairly (each gets an equal share; what a short part leaves goes to
 * the longer ones).
 */
function joinFair(prefix: string[], free: string[], suffix: string[]): string {
  const clean = (list: string[]): string[] => list.map(sanitizeNamePart).filter((p) => p !== '');
  const pre = clean(prefix);
  const post = clean(suffix);
  const parts = clean(free);
  const fixed = [...pre, ...post];
  const fixedLength = fixed.reduce((n, p) => n + p.length, 0) + Math.max(0, fixed.length - 1);
  const budget = MAX_NAME - fixedLength - parts.length; // one '-' per free part
  const lengths = fairShares(parts.map((p) => p.length), Math.max(0, budget));
  const cut = parts.map((p, i) => p.slice(0, lengths[i]).replace(/-+$/, '')).filter((p) => p !== '');
  return [...pre, ...cut, ...post].join('-');
}

/** Water-filling: lengths within a total, each as large as possible, the shortest served first. */
export function fairShares(lengths: number[], total: number): number[] {
  const out = lengths.map(() => 0);
  let left = total;
  const order = lengths.map((n, i) => ({ n, i })).sort((a, b) => a.n - b.n);
  order.forEach(({ n, i }, k) => {
    const share = Math.floor(left / (order.length - k));
    out[i] = Math.min(n, share);
    left -= out[i] ?? 0;
  });
  return out;
}

/** A fixed name part (build name or id) kept short enough to leave room for the rest. */
function fixedPart(value: string): string {
  return sanitizeNamePart(value).slice(0, 12).replace(/-+$/, '');
}

/** A label value: at most 63 of [A-Za-z0-9._-], starting and ending with a letter or digit. */
export function sanitizeLabelValue(value: string): string {
  return stripDiacritics(value)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, MAX_NAME)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The labels of a step's pod (values sanitised; empty ones left out). */
export function podLabels(meta: ContainerMetadata, handle: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.type]: meta.type,
  };
  const put = (key: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    const clean = sanitizeLabelValue(String(value));
    if (clean !== '') labels[key] = clean;
  };
  put(LABELS.handle, handle);
  put(LABELS.pipeline, meta.pipeline);
  put(LABELS.job, meta.job);
  put(LABELS.build, meta.build);
  put(LABELS.buildId, meta.buildId);
  put(LABELS.step, meta.step);
  put(LABELS.team, meta.team);
  if (meta.purpose === 'image') labels[LABELS.purpose] = 'image';
  return labels;
}

/** The annotations of a step's pod: the full, unsanitised names. */
export function podAnnotations(meta: ContainerMetadata, handle: string): Record<string, string> {
  const out: Record<string, string> = { [LABELS.handle]: handle, [LABELS.type]: meta.type };
  const put = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') out[key] = String(value);
  };
  put(LABELS.pipeline, meta.pipeline);
  put(LABELS.job, meta.job);
  put(LABELS.build, meta.build);
  put(LABELS.buildId, meta.buildId);
  put(LABELS.step, meta.step);
  put(LABELS.team, meta.team);
  put(ANNOTATIONS.planId, meta.planId);
  if (meta.purpose) out[LABELS.purpose] = meta.purpose;
  return out;
}

/**
 * A label selector (`k=v,k2=v2`) for pods, with the values sanitised as the labels were, always
 * limited to Jetway's pods: `labelSelector({ [LABELS.pipeline]: 'main' })`.
 */
export function labelSelector(match: Record<string, string | number>): string {
  const parts = [MANAGED_SELECTOR];
  for (const [key, value] of Object.entries(match)) parts.push(`${key}=${sanitizeLabelValue(String(value))}`);
  return parts.join(',');
}

function stripDiacritics(value: string): string {
  return value.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}
