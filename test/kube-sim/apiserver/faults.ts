// Request faults: a share of API requests answered 429 (with Retry-After, as API Priority and
// Fairness rejects) or 500. The draw uses a seeded generator so a run is reproducible.

export interface FaultSettings {
  /** share (0..1) of matching requests answered 429 TooManyRequests */
  throttleShare: number;
  /** share (0..1) of matching requests answered 500 InternalError */
  errorShare: number;
  /** the Retry-After header (and details.retryAfterSeconds) of a 429 */
  retryAfterSeconds: number;
  /** only requests with these verbs (get, list, watch, create, update, patch, delete); empty: all */
  verbs: string[];
  /** only requests on these resources (`pods`, or with a subresource `pods/log`); empty: all */
  resources: string[];
  /** seed of the generator (set it again to restart the sequence) */
  seed: number;
}

export const NO_FAULTS: FaultSettings = { throttleShare: 0, errorShare: 0, retryAfterSeconds: 1, verbs: [], resources: [], seed: 1 };

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function checkFaultSettings(settings: Partial<FaultSettings>): string | undefined {
  for (const key of ['throttleShare', 'errorShare'] as const) {
    const v = settings[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) return `${key} must be a number between 0 and 1`;
  }
  if (settings.throttleShare !== undefined && settings.errorShare !== undefined && settings.throttleShare + settings.errorShare > 1) {
    return 'throttleShare + errorShare must not exceed 1';
  }
  const r = settings.retryAfterSeconds;
  if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 0)) return 'retryAfterSeconds must be an integer >= 0';
  for (const key of ['verbs', 'resources'] as const) {
    const v = settings[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) return `${key} must be a list of strings`;
  }
  return undefined;
}

export class RequestFaults {
  private settings: FaultSettings = { ...NO_FAULTS };
  private random = mulberry32(NO_FAULTS.seed);
  /** how many requests were answered with an injected fault */
  injected = { throttled: 0, errored: 0 };

  get(): FaultSettings {
    return { ...this.settings, verbs: [...this.settings.verbs], resources: [...this.settings.resources] };
  }

  set(settings: Partial<FaultSettings>): void {
    const problem = checkFaultSettings(settings);
    if (problem) throw new Error(problem);
    const next = { ...this.settings, ...settings };
    if (next.throttleShare + next.errorShare > 1) throw new Error('throttleShare + errorShare must not exceed 1');
    if (settings.seed !== undefined || settings.throttleShare !== undefined || settings.errorShare !== undefined) this.random = mulberry32(next.seed);
    this.settings = next;
  }

  reset(): void {
    this.settings = { ...NO_FAULTS };
    this.random = mulberry32(NO_FAULTS.seed);
  }

  /** Whether this request gets a fault. */
  decide(verb: string, resource: string | undefined, subresource: string | undefined): 'throttle' | 'error' | undefined {
    const s = this.settings;
    if (s.throttleShare === 0 && s.errorShare === 0) return undefined;
    if (s.verbs.length > 0 && !s.verbs.includes(verb)) return undefined;
    if (s.resources.length > 0) {
      const full = subresource ? `${resource}/${subresource}` : resource;
      if (!full || !(s.resources.includes(full) || (resource !== undefined && s.resources.includes(resource) && !subresource))) return undefined;
    }
    const draw = this.random();
    if (draw < s.throttleShare) {
      this.injected.throttled++;
      return 'throttle';
    }
    if (draw < s.throttleShare + s.errorShare) {
      this.injected.errored++;
      return 'error';
    }
    return undefined;
  }
}
