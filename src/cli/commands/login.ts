// `jetway login`: exchanges a user name and password for a token and saves the target in
// ~/.jetwayrc. The password comes from -p, else $JETWAY_PASSWORD, else a prompt.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { ApiClient } from '../client/http.ts';
import { addTargetOption, readLine, readPassword, run, targetName } from '../client/common.ts';
import { loadTargets, saveTarget, targetsPath } from '../client/targets.ts';
import type { TokenResponse } from '../../api/wire.ts';

type Options = { target?: string; concourseUrl?: string; username?: string; password?: string; team?: string };

export function registerLogin(program: Command, io: CliIO): void {
  addTargetOption(program.command('login'))
    .description('Log in to a Jetway server and save it as a target')
    .option('-c, --concourse-url <url>', 'the server URL (default: the saved target\'s)')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password (default: $JETWAY_PASSWORD, else a prompt)')
    .option('-n, --team-name <team>', 'team (default: main)')
    .action(async (opts: Options & { teamName?: string }) => {
      const name = targetName(opts);
      if (!name) throw usageError('error: required option -t, --target <name> not specified');
      const existing = loadTargets().targets[name];
      const url = (opts.concourseUrl ?? existing?.api)?.replace(/\/+$/, '');
      if (!url) throw usageError(`error: target ${name} is unknown: pass -c <url>`);
      if (!/^https?:\/\//.test(url)) throw usageError(`error: -c must be an http(s) URL (got '${url}')`);
      const team = opts.teamName ?? existing?.team ?? 'main';
      let username = opts.username;
      if (!username) {
        io.stderr('username: ');
        username = (await readLine()).trim();
      }
      if (!username) throw usageError('error: no username given (-u)');
      const password = opts.password ?? process.env.JETWAY_PASSWORD ?? (await readPassword(io, 'password: '));
      if (!password) throw usageError('error: no password given (-p, $JETWAY_PASSWORD or the prompt)');

      await run(async () => {
        const client = new ApiClient(url);
        io.stdout(`logging in to team '${team}'\n\n`);
        const res = await client.request('POST', '/api/v1/token', { body: { username, password } });
        const body = res.json<TokenResponse>();
        if (!body.teams.includes(team)) {
          throw new CliExit(1, `error: user ${username} is not a member of team '${team}' (member of: ${body.teams.join(', ')})`);
        }
        saveTarget(name, { api: url, team, token: { type: 'bearer', value: body.access_token, ...(body.expiry ? { expiry: body.expiry } : {}) } });
        io.stdout(`target saved (${targetsPath()})\n`);
      });
    });
}
