// LISTEN: how a web node hears what other nodes (and its own statements' triggers) changed.
// Every listener of one pool shares one connection, held while any listens (a pool's connections
// are few: each LISTEN on its own would take one from the queries). Postgres delivers a NOTIFY
// only after its transaction commits, to every session listening at that moment; a notification
// sent while no connection listened is lost, so a consumer that caches must stop trusting its
// cache on onError (after which it listens again by calling listen again).
import type pg from 'pg';

export interface Listener {
  /** Stops listening; the shared connection goes back to the pool when nobody listens. */
  close(): Promise<void>;
}

export interface NotificationHandlers {
  /** A NOTIFY on one of the channels, with its payload ('' when none). */
  onNotification(channel: string, payload: string): void;
  /** The connection failed: no more notifications will come to this listener. */
  onError(err: Error): void;
}

/** What listeners are told when their database is closed: not a failure, nothing to retry. */
export class ListeningEndedError extends Error {
  constructor() {
    super('the database was closed');
    this.name = 'ListeningEndedError';
  }
}

/** Channel names are identifiers written into LISTEN: only these shapes are accepted. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

interface Subscription {
  channels: ReadonlySet<string>;
  handlers: NotificationHandlers;
}

/** One pool's listening connection and who listens on it. */
class SharedConnection {
  private readonly subscriptions = new Set<Subscription>();
  private readonly listening = new Set<string>();
  /** LISTEN/UNLISTEN in order: one statement at a time on the connection */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: pg.PoolClient,
    private readonly onGone: () => void,
  ) {
    client.on('notification', (msg) => {
      for (const s of [...this.subscriptions]) if (s.channels.has(msg.channel)) s.handlers.onNotification(msg.channel, msg.payload ?? '');
    });
    client.on('error', (err) => this.fail(err));
  }

  private run(sql: string): Promise<void> {
    const next = this.queue.then(() => this.client.query(sql));
    this.queue = next.catch(() => undefined);
    return next.then(() => undefined);
  }

  /** Released (nobody listened, or it broke): a new listener needs a new connection. */
  gone = false;

  async add(s: Subscription): Promise<void> {
    if (this.gone) throw new Error('the listening connection was released');
    this.subscriptions.add(s);
    try {
      for (const c of s.channels) {
        if (this.listening.has(c)) continue;
        this.listening.add(c);
        await this.run(`LISTEN ${c}`);
      }
    } catch (err) {
      this.subscriptions.delete(s);
      this.fail(err instanceof Error ? err : new Error(String(err)), s);
      throw err;
    }
  }

  async remove(s: Subscription): Promise<void> {
    if (!this.subscriptions.delete(s)) return;
    if (this.gone) return;
    const still = new Set([...this.subscriptions].flatMap((x) => [...x.channels]));
    for (const c of s.channels) {
      if (still.has(c) || !this.listening.has(c)) continue;
      this.listening.delete(c);
      await this.run(`UNLISTEN ${c}`).catch(() => undefined);
    }
    // not if it failed (or was ended) during an UNLISTEN: released already
    if (this.subscriptions.size === 0 && !this.gone) this.release(false);
  }

  /** The database is closing: listeners are told, and the connection goes (a pool's end waits for it). */
  end(): void {
    this.fail(new ListeningEndedError());
  }

  /** The connection broke: every listener is told, and the next listen opens another. */
  private fail(err: Error, except?: Subscription): void {
    if (this.gone) return;
    const told = [...this.subscriptions];
    this.subscriptions.clear();
    this.release(true);
    for (const s of told) if (s !== except) s.handlers.onError(err);
  }

  private release(destroy: boolean): void {
    this.gone = true;
    this.onGone();
    this.client.removeAllListeners('notification');
    this.client.removeAllListeners('error');
    // a broken connection is destroyed; a clean one goes back (UNLISTENed) to the pool
    this.client.release(destroy);
  }
}

const shared = new WeakMap<pg.Pool, Promise<SharedConnection>>();

function connectionOf(pool: pg.Pool): Promise<SharedConnection> {
  const existing = shared.get(pool);
  if (existing) return existing;
  const forget = (): void => {
    if (shared.get(pool) === c) shared.delete(pool);
  };
  const c = pool.connect().then((client) => new SharedConnection(client, forget));
  c.catch(forget);
  shared.set(pool, c);
  return c;
}

/**
 * Ends the pool's listening connection, if any (the database closes: pg's pool.end waits for
 * every checked-out connection, and a listener's is never given back otherwise).
 */
export async function endListening(pool: pg.Pool): Promise<void> {
  const c = shared.get(pool);
  if (!c) return;
  shared.delete(pool);
  const connection = await c.catch(() => undefined);
  connection?.end();
}

/** What listen needs of a database: its pool (database.ts imports this module: no import back). */
export interface Pooled {
  readonly pool: pg.Pool;
}

export async function listen(db: Pooled, channels: readonly string[], handlers: NotificationHandlers): Promise<Listener> {
  for (const c of channels) if (!CHANNEL.test(c)) throw new Error(`invalid LISTEN channel '${c}'`);
  const subscription: Subscription = { channels: new Set(channels), handlers };
  let connection = await connectionOf(db.pool);
  // released between being shared and this listener joining it: a new one
  if (connection.gone) connection = await connectionOf(db.pool);
  await connection.add(subscription);
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      await connection.remove(subscription);
    },
  };
}

/** Sends a notification (committed at once: not in a caller's transaction). */
export async function notify(db: { query(text: string, values: readonly unknown[]): Promise<unknown> }, channel: string, payload: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
}
