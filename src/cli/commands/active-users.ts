// fly's `active-users` (fly/commands/users.go): the users who logged in since a date (default two
// months ago), from GET /api/v1/users?since=yyyy-mm-dd (admins).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { usageError } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson } from '../client/common.ts';
import type { ActiveUser } from '../../api/wire.ts';

/** yyyy-mm-dd of a date, in local time (fly's inputDateLayout for this command). */
function day(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The --since date checked as fly checks it: yyyy-mm-dd, not in the future; default two months ago. */
export function activeUsersSince(since: string | undefined, now: Date): string {
  if (since === undefined) {
    const d = new Date(now);
    d.setMonth(d.getMonth() - 2);
    return day(d);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(since);
  const parsed = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime()) || day(parsed) !== since) throw usageError('--since: since time should be in the format: yyyy-mm-dd');
  if (parsed.getTime() > now.getTime()) throw usageError("--since: since time can't be in the future");
  return since;
}

export function registerActiveUsers(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('active-users')))
    .description('List the users who logged in since a date (admins)')
    .option('--since <yyyy-mm-dd>', 'start of the range of last logins (default: two months ago)')
    .action(async (opts: { target?: string; since?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const since = activeUsersSince(opts.since, new Date());
      const { client } = connect(opts);
      await run(async () => {
        const users = await client.get<ActiveUser[]>(`/api/v1/users?since=${since}`);
        if (json) return printJson(io, users);
        io.stdout(formatTable(['username', 'connector', 'last login'], users.map((u) => [u.username, u.connector, day(new Date(u.last_login * 1000))])));
      });
    });
}
