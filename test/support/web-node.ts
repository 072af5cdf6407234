// A web node in this process for a test file (Postgres of its own, the local runtime, a temporary
// data dir), started before the file's tests and stopped after them: the set-up test/web's
// end-to-end files share.
import { before, after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { freePort } from '../../src/db/embedded.ts';
import { startWebNode, type WebNode, type WebNodeOptions } from '../../src/web/web-node.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestWebNode {
  readonly node: WebNode;
  readonly tdb: TestDatabase;
  /** the temporary folder: the node's data dir is `data` inside it */
  readonly dir: string;
}

/** The node of a test file: its parts once started, and `ready()` for the file's own before(). */
export interface TestWebNodeHandle extends TestWebNode {
  /** Resolves once the node is started (Node 20 does not wait for one root before() to end to begin the next). */
  ready(): Promise<TestWebNode>;
}

/**
 * Registers hooks starting a web node with `options` over quick defaults (checks every 200 ms,
 * scheduling every second, logs silent); `home` also points HOME at the folder (the CLI's
 * targets file), restored after.
 */
export function useWebNode(name: string, options: Partial<WebNodeOptions> & { localUsers: string[] }, opts: { home?: boolean } = {}): TestWebNodeHandle {
  let state: TestWebNode | undefined;
  let starting: Promise<TestWebNode> | undefined;
  const savedHome = process.env.HOME;
  const start = async (): Promise<TestWebNode> => {
    const tdb = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), `jw-${name}-`));
    if (opts.home) process.env.HOME = dir;
    const node = await startWebNode({
      port: await freePort(),
      bindIp: '127.0.0.1',
      dataDir: join(dir, 'data'),
      postgresUrl: tdb.url,
      runtime: 'local',
      logger: pino({ level: 'silent' }),
      checkerIntervalMs: 200,
      schedulerIntervalMs: 1000,
      ...options,
    });
    return (state = { node, tdb, dir });
  };
  const ready = (): Promise<TestWebNode> => (starting ??= start());
  before(ready);
  after(async () => {
    await state?.node.stop();
    if (opts.home) process.env.HOME = savedHome;
    await state?.tdb.drop();
    if (state) await rm(state.dir, { recursive: true, force: true });
  });
  const get = (): TestWebNode => {
    if (!state) throw new Error('the web node is not started yet: await ready() in before()');
    return state;
  };
  return {
    ready,
    get node() {
      return get().node;
    },
    get tdb() {
      return get().tdb;
    },
    get dir() {
      return get().dir;
    },
  };
}
