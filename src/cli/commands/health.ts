// fly's `health` (fly/commands/health.go): GET /api/v1/health (no login needed) as a table of
// subsystems (overall, database, workers, each component) or JSON. Unlike fly, a `failing`
// health exits 1, so a script can act on it.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson } from '../client/common.ts';
import type { Health } from '../../api/wire.ts';

const rfc3339 = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/** The table's rows as fly's renderTable makes them (and Jetway's disk). */
export function healthRows(h: Health): string[][] {
  const workers = `${h.workers.running}/${h.workers.total} running${h.workers.unhealthy_workers?.length ? ` (unhealthy: ${h.workers.unhealthy_workers.join(', ')})` : ''}`;
  return [
    ['overall', h.status, rfc3339(h.timestamp)],
    ['database', h.database.status, h.database.error ?? ''],
    ['workers', h.workers.status, workers],
    ...(h.disk ? [['disk', h.disk.status, h.disk.error]] : []),
    ...h.components.map((c) => [c.name, c.status, [c.paused ? 'paused' : '', c.last_ran.startsWith('0001-') ? '' : `last ran: ${rfc3339(c.last_ran)}`].filter(Boolean).join(', ')]),
  ];
}

export function registerHealth(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('health')))
    .description("The server's health: database, web nodes, components")
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const { client } = connect(opts);
      await run(async () => {
        const res = await client.request('GET', '/api/v1/health', { accept: (s) => s === 200 || s === 503 });
        const health = res.json<Health>();
        if (wantsJson(opts)) printJson(io, health);
        else io.stdout(formatTable(['subsystem', 'status', 'detail'], healthRows(health)));
        if (health.status === 'failing') throw new CliExit(1, 'error: the server is failing');
      });
    });
}
