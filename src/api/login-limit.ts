// Limits on failed logins (POST /api/v1/token), so that passwords cannot be guessed at the
// speed of the network and guessing cannot slow real logins down, without letting an attacker
// lock a user out:
//
// - per (user, address): a few free failures, then an exponential backoff (1 s, 2 s, 4 s, …,
//   at most 15 min) before the next attempt; a success clears it. Only the address that failed
//   waits: the user logs in from anywhere else.
// - per address: a bucket of failures (30, one more every 10 s) for every user together, so
//   one address cannot spray guesses across many users; a success takes nothing from it.
// - per user: a bucket of failures from all addresses (100, one more every 6 s); when it is
//   empty, only addresses that have themselves failed for the user wait (a distributed guess
//   slows down, the user on a clean address does not).
// - per address, at most 4 password checks at a time: concurrent guesses cannot queue the
//   scrypt work that real logins wait behind.
//
// The decisions are pure, with an injected clock so tests use numbers, not time. The failures
// are kept by a LoginFailureStore: in memory by default (bounded tables, the oldest entries go
// first), or in Postgres (src/db/login-failures.ts), where every web node sees them, so that a
// guesser gains nothing by spreading over nodes. The concurrent checks are per node (they guard
// the node's own CPU).

export interface LoginLimitOptions {
  /** failures of a (user, address) before it must wait */
  freeFailures: number;
  /** the first wait, then doubled per failure */
  baseBackoffMs: number;
  /** the longest wait of a (user, address) */
  maxBackoffMs: number;
  /** failures an address may have in its bucket, and how fast one comes back */
  addressBurst: number;
  addressRefillMs: number;
  /** failures a user may have across addresses, and how fast one comes back */
  userBurst: number;
  userRefillMs: number;
  /** password checks at once from one address */
  maxConcurrentPerAddress: number;
  /** entries kept per table */
  maxEntries: number;
  now: () => number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimitOptions = {
  freeFailures: 5,
  baseBackoffMs: 1000,
  maxBackoffMs: 15 * 60 * 1000,
  addressBurst: 30,
  addressRefillMs: 10_000,
  userBurst: 100,
  userRefillMs: 6_000,
  maxConcurrentPerAddress: 4,
  maxEntries: 100_000,
  now: () => Date.now(),
};

/** An attempt refused: why, and in how many seconds to try again (`Retry-After`). */
export interface LoginRefusal {
  reason: string;
  retryAfterSeconds: number;
}

export interface Pair {
  failures: number;
  lastFailure: number;
}

/** A bucket of failures: `tokens` left at `at`, refilled over time. */
export interface Bucket {
  tokens: number;
  at: number;
}

/** What is known of one attempt's (user, address), its address and its user. */
export interface LoginFailureState {
  pair?: Pair | undefined;
  address?: Bucket | undefined;
  user?: Bucket | undefined;
}

/** The buckets' sizes and refill times, for a store that updates them itself. */
export type BucketLimits = Pick<LoginLimitOptions, 'addressBurst' | 'addressRefillMs' | 'userBurst' | 'userRefillMs'>;

/** Where failed logins are kept (a port: in memory below, Postgres in src/db/login-failures.ts). */
export interface LoginFailureStore {
  read(user: string, address: string): Promise<LoginFailureState>;
  /** One more failure of the pair at `now`, and a token out of the address's and the user's buckets (refilled up to `now` first). */
  failed(user: string, address: string, now: number, limits: BucketLimits): Promise<void>;
  /** Clears the pair's failures. */
  succeeded(user: string, address: string): Promise<void>;
}

/** A Map that drops its oldest entry past a size (insertion order; a touched entry moves last). */
class BoundedMap<V> extends Map<string, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: string, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    if (this.size > this.max) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return this;
  }
}

export class LoginLimiter {
  readonly opts: LoginLimitOptions;
  private readonly store: LoginFailureStore;
  private readonly inFlight = new Map<string, number>();

  constructor(opts: Partial<LoginLimitOptions> & { store?: LoginFailureStore } = {}) {
    const { store, ...limits } = opts;
    this.opts = { ...DEFAULT_LOGIN_LIMITS, ...limits };
    this.store = store ?? new MemoryLoginFailures(this.opts.maxEntries);
  }

  /**
   * Whether an attempt may check its password now. When it may, it holds one of the address's
   * concurrent checks until `finish` is called with the outcome.
   */
  async begin(user: string, address: string): Promise<LoginRefusal | { finish: (ok: boolean) => Promise<void> }> {
    const running = this.inFlight.get(address) ?? 0;
    if (running >= this.opts.maxConcurrentPerAddress) {
      return { reason: `too many logins at once from this address (at most ${this.opts.maxConcurrentPerAddress})`, retryAfterSeconds: 1 };
    }
    // held while the store is read too: concurrent attempts cannot all pass one read
    this.inFlight.set(address, running + 1);
    const release = (): void => {
      const n = (this.inFlight.get(address) ?? 1) - 1;
      if (n > 0) this.inFlight.set(address, n);
      else this.inFlight.delete(address);
    };
    let refusal: LoginRefusal | undefined;
    try {
      refusal = loginRefusal(await this.store.read(user, address), user, this.opts, this.opts.now());
    } catch (err) {
      release();
      throw err;
    }
    if (refusal) {
      release();
      return refusal;
    }
    let done = false;
    return {
      finish: async (ok: boolean) => {
        if (done) return;
        done = true;
        try {
          if (ok) await this.store.succeeded(user, address);
          else await this.store.failed(user, address, this.opts.now(), this.opts);
        } finally {
          release();
        }
      },
    };
  }
}

/** Why an attempt must wait, from what is known of its user and address; undefined when it may go on. */
export function loginRefusal(state: LoginFailureState, user: string, o: LoginLimitOptions, now: number): LoginRefusal | undefined {
  const { pair, address: addr, user: u } = state;
  if (pair && pair.failures >= o.freeFailures) {
    const wait = Math.min(o.baseBackoffMs * 2 ** (pair.failures - o.freeFailures), o.maxBackoffMs);
    const until = pair.lastFailure + wait;
    if (now < until) return refuse(`too many failed logins for user ${user} from this address`, until - now);
  }
  if (addr && level(addr, o.addressBurst, o.addressRefillMs, now) < 1) {
    return refuse('too many failed logins from this address', untilToken(addr, o.addressBurst, o.addressRefillMs, now));
  }
  if (pair && pair.failures > 0 && u && level(u, o.userBurst, o.userRefillMs, now) < 1) {
    return refuse(`too many failed logins for user ${user}`, untilToken(u, o.userBurst, o.userRefillMs, now));
  }
  return undefined;
}

/** The failures of one web node, in memory. */
export class MemoryLoginFailures implements LoginFailureStore {
  private readonly pairs: BoundedMap<Pair>;
  private readonly addresses: BoundedMap<Bucket>;
  private readonly users: BoundedMap<Bucket>;

  constructor(maxEntries = DEFAULT_LOGIN_LIMITS.maxEntries) {
    this.pairs = new BoundedMap(maxEntries);
    this.addresses = new BoundedMap(maxEntries);
    this.users = new BoundedMap(maxEntries);
  }

  read(user: string, address: string): Promise<LoginFailureState> {
    return Promise.resolve({ pair: this.pairs.get(pairKey(user, address)), address: this.addresses.get(address), user: this.users.get(user) });
  }

  failed(user: string, address: string, now: number, o: BucketLimits): Promise<void> {
    const key = pairKey(user, address);
    const pair = this.pairs.get(key);
    this.pairs.set(key, { failures: (pair?.failures ?? 0) + 1, lastFailure: now });
    take(this.addresses, address, o.addressBurst, o.addressRefillMs, now);
    take(this.users, user, o.userBurst, o.userRefillMs, now);
    return Promise.resolve();
  }

  succeeded(user: string, address: string): Promise<void> {
    this.pairs.delete(pairKey(user, address));
    return Promise.resolve();
  }
}

const pairKey = (user: string, address: string): string => `${address}\u0000${user}`;

const refuse = (reason: string, waitMs: number): LoginRefusal => ({ reason, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });

/** Tokens in a bucket now (refilled since it was last changed, up to its size). */
function level(b: Bucket, burst: number, refillMs: number, now: number): number {
  return Math.min(burst, b.tokens + Math.max(0, now - b.at) / refillMs);
}

function untilToken(b: Bucket, burst: number, refillMs: number, now: number): number {
  return (1 - level(b, burst, refillMs, now)) * refillMs;
}

function take(map: BoundedMap<Bucket>, key: string, burst: number, refillMs: number, now: number): void {
  const b = map.get(key);
  const tokens = b ? level(b, burst, refillMs, now) : burst;
  map.set(key, { tokens: tokens - 1, at: now });
}
