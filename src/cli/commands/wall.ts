// fly's `set-wall`, `get-wall` and `clear-wall` (fly/commands/set_wall.go, get_wall.go,
// clear_wall.go): the message every user sees on top of the UI, set and cleared by admins
// (PUT/GET/DELETE /api/v1/wall), with an optional time to live. The lines printed are fly's.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { usageError } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, goDuration, printJson, requireOption, run, wantsJson } from '../client/common.ts';
import { parseDuration } from '../../config/duration.ts';
import type { Wall } from '../../api/wire.ts';

const NANOS_PER_MS = 1_000_000;

export function registerWall(program: Command, io: CliIO): void {
  addTargetOption(program.command('set-wall'))
    .description('Set a wall message that every user sees (admins)')
    .option('-m, --message <text>', 'the message')
    .option('--ttl <duration>', 'how long it stays (e.g. 1h30m); none: until cleared')
    .action(async (opts: { target?: string; message?: string; ttl?: string }) => {
      const message = requireOption(opts.message, '-m, --message');
      const ttlMs = opts.ttl === undefined ? 0 : parseDuration(opts.ttl);
      if (ttlMs === undefined || ttlMs < 0) throw usageError(`--ttl: '${opts.ttl}' is not a duration (e.g. 30m, 1h30m)`);
      const { client } = connect(opts);
      await run(async () => {
        await client.request('PUT', '/api/v1/wall', { body: { message, ...(ttlMs > 0 ? { TTL: Math.round(ttlMs * NANOS_PER_MS) } : {}) } });
        io.stdout('Wall message set successfully\n');
        io.stdout(ttlMs === 0 ? 'No expiration set\n' : `Message will expire in ${goDuration(ttlMs)}\n`);
      });
    });

  addOutputOptions(addTargetOption(program.command('get-wall')))
    .description('Show the wall message')
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const wall = await client.get<Wall>('/api/v1/wall');
        if (json) return printJson(io, wall);
        if (!wall.message) return io.stdout('No wall message is currently set\n');
        io.stdout(`Wall Message: ${wall.message}\n`);
        io.stdout(wall.TTL ? `Expires in: ${goDuration(wall.TTL / NANOS_PER_MS)}\n` : 'No expiration set\n');
      });
    });

  addTargetOption(program.command('clear-wall'))
    .description('Clear the wall message (admins)')
    .action(async (opts: { target?: string }) => {
      const { client } = connect(opts);
      await run(async () => {
        await client.request('DELETE', '/api/v1/wall');
        io.stdout('Wall message cleared successfully\n');
      });
    });
}
