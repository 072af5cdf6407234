// For the client command tests: a real API server listening on a port, a temporary HOME (so
// ~/.jetwayrc is the test's), and runCli with captured output.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../../src/cli/program.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { startApi, type TestApi } from '../api/helpers.ts';
import type { ApiServerOptions } from '../../src/api/index.ts';
import type { TestDatabase } from '../support/db.ts';

export { PASSWORD, PIPELINE } from '../api/helpers.ts';

export interface CliServer {
  api: TestApi;
  url: string;
  home: string;
  dir: string;
  close(): Promise<void>;
}

/** `extra` server options (hooks) and a database owned by the caller (a test node's) are optional. */
export async function startCliServer(extra: Partial<ApiServerOptions> = {}, database?: TestDatabase): Promise<CliServer> {
  const api = await startApi(extra, database);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (api.app.server.address() as AddressInfo).port;
  const home = mkdtempSync(join(tmpdir(), 'jetway-home-'));
  process.env.HOME = home;
  delete process.env.JETWAY_TARGET;
  delete process.env.JETWAY_PASSWORD;
  return { api, url: `http://127.0.0.1:${port}`, home, dir: mkdtempSync(join(tmpdir(), 'jetway-cli-')), close: () => api.close() };
}

/**
 * Every token revoked in SQL, as an operator or another node would, and the change heard by the
 * server (it keeps tokens while it listens: src/api/lookup-cache.ts), so its next request is refused.
 */
export async function revokeAllTokens(s: CliServer): Promise<void> {
  await s.api.t.db.query('DELETE FROM access_tokens');
  await s.api.lookups.heardUpTo();
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI as at a terminal (tables with their headers); fly-habits.test.ts runs it into a pipe. */
export async function jetway(...argv: string[]): Promise<Run> {
  const r = { code: 0, out: '', err: '' };
  const io: CliIO = {
    stdoutIsTTY: true,
    stdout: (t) => {
      r.out += t;
    },
    stderr: (t) => {
      r.err += t;
    },
  };
  r.code = await runCli(argv, io);
  return r;
}
