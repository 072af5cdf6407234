// `jetway status`: whether the target's saved token still works, asked of the server
// (GET /api/v1/user), as fly status does. Exit 0 when it does, 1 otherwise.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { ApiRequestError } from '../client/http.ts';
import { addTargetOption, connect, run } from '../client/common.ts';

export function registerStatus(program: Command, io: CliIO): void {
  addTargetOption(program.command('status'))
    .description("Check that the target's saved token is still valid")
    .action(async (opts: { target?: string }) => {
      const { name, target, client } = connect(opts);
      if (!target.token) throw new CliExit(1, `logged out: no token is saved for target ${name}; log in: jetway login -t ${name}`);
      await run(async () => {
        try {
          await client.request('GET', '/api/v1/user');
        } catch (err) {
          if (err instanceof ApiRequestError && err.status === 401) {
            // the server's reason (expired, revoked, unknown user) after fly's advice
            const reason = err.message.split('\n')[0] ?? '';
            throw new CliExit(1, `token expired or invalid: please login again: jetway login -t ${name}\n(the server said: ${reason})`);
          }
          throw err;
        }
        io.stdout('logged in successfully\n');
      });
    });
}
