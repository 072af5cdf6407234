// fly's `workers` and `volumes` (fly/commands/workers.go, volumes.go). Jetway has no Concourse
// workers: each web node is one (src/api/routes/workers.ts), and it keeps no worker volumes, so
// `volumes` lists none (docs/concourse-compatibility.md "Workers, containers, volumes").
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson } from '../client/common.ts';
import type { Worker } from '../../api/wire.ts';

/** A worker's age as fly prints it: `3d`, `2h5m`, `4m10s`, `12s`, or `n/a` without a start time. */
export function workerAge(startTime: number, nowSeconds: number): string {
  const age = nowSeconds - startTime;
  if (startTime <= 0 || age < 0) return 'n/a';
  const [minute, hour, day] = [60, 3600, 86400];
  if (age >= day) return `${Math.floor(age / day)}d`;
  if (age >= hour) return `${Math.floor(age / hour)}h${Math.floor((age % hour) / minute)}m`;
  if (age >= minute) return `${Math.floor(age / minute)}m${age % minute}s`;
  return `${age}s`;
}

const orNone = (s: string): string => (s === '' ? 'none' : s);

export function registerWorkers(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('workers')))
    .description('List the workers (each web node is one)')
    .option('-d, --details', 'also their addresses, active tasks and resource types')
    .action(async (opts: { target?: string; details?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const workers = (await client.get<Worker[]>('/api/v1/workers')).sort((a, b) => a.name.localeCompare(b.name));
        if (json) return printJson(io, workers);
        const now = Math.floor(Date.now() / 1000);
        const headers = ['name', 'containers', 'platform', 'tags', 'team', 'state', 'version', 'age'];
        if (opts.details) headers.push('garden address', 'baggageclaim url', 'active tasks', 'resource types');
        const rows = workers.map((w) => {
          const row = [w.name, String(w.active_containers), w.platform, orNone(w.tags.join(', ')), orNone(w.team), w.state, w.version || 'none', workerAge(w.start_time, now)];
          if (opts.details) row.push(orNone(w.addr), orNone(w.baggageclaim_url), String(w.active_tasks), orNone(w.resource_types.map((t) => t.type).join(', ')));
          return row;
        });
        io.stdout(formatTable(headers, rows));
      });
    });

  addOutputOptions(addTargetOption(program.command('volumes')))
    .description("List the team's volumes (Jetway keeps none: artifacts live and go with their build)")
    .option('-d, --details', "accepted as fly's; Jetway has no volumes to detail")
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const volumes = await client.get<{ id: string; worker_name: string; type: string }[]>(`/api/v1/teams/${encodeURIComponent(team)}/volumes`);
        if (json) return printJson(io, volumes);
        io.stdout(formatTable(['handle', 'worker', 'type', 'identifier'], volumes.map((v) => [v.id, v.worker_name, v.type, ''])));
      });
    });
}
