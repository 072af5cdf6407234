// fly's components commands (fly/commands/get_components.go, pause_component.go,
// unpause_component.go): the web nodes' periodic passes (GET /api/v1/components, admins), and
// pausing them across every web node, e.g. before an upgrade (--runtime-components).
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, collect, connect, enc, formatTable, goDuration, printJson, run, wantsJson } from '../client/common.ts';
import type { Component } from '../../api/wire.ts';
// --runtime-components and --gc-components send Concourse's names, as fly does; the server pauses
// the Jetway passes doing their work (src/component/concourse-names.ts)
import { CONCOURSE_GC_COMPONENTS, CONCOURSE_RUNTIME_COMPONENTS } from '../../component/concourse-names.ts';

/** Local `yyyy-mm-dd hh:mm:ss` (Go's time.DateTime), as fly prints `last ran`. */
function dateTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${String(d.getFullYear()).padStart(4, '0')}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function registerComponents(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('get-components')))
    .description("List the web nodes' components: their interval, last run and whether they are paused (admins)")
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const { client } = connect(opts);
      await run(async () => {
        const components = (await client.get<Component[]>('/api/v1/components')).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
        if (wantsJson(opts)) return printJson(io, components);
        io.stdout(formatTable(['name', 'interval', 'last ran', 'paused'], components.map((c) => [c.name, goDuration(c.interval / 1e6), dateTime(c.last_ran), String(c.paused)])));
      });
    });

  for (const [verb, past] of [
    ['pause', 'paused'],
    ['unpause', 'unpaused'],
  ] as const) {
    addTargetOption(program.command(`${verb}-component`))
      .description(`${verb === 'pause' ? 'Pause' : 'Unpause'} components on every web node (admins)`)
      .option('-a, --all', `${verb}s all components`)
      .option('-n, --name <name>', `a component to ${verb} (repeatable)`, collect, [])
      .option('--runtime-components', `${verb}s the components that start and run builds (Concourse's ${CONCOURSE_RUNTIME_COMPONENTS.join(', ')}: Jetway's checker and scheduler)`)
      .option('--gc-components', `${verb}s the garbage-collecting components (Concourse's collectors: Jetway's gc and kubernetes-reaper)`)
      .action(async (opts: { target?: string; all?: boolean; name: string[]; runtimeComponents?: boolean; gcComponents?: boolean }) => {
        const names = [...opts.name, ...(opts.runtimeComponents ? CONCOURSE_RUNTIME_COMPONENTS : []), ...(opts.gcComponents ? CONCOURSE_GC_COMPONENTS : [])];
        if (!opts.all && names.length === 0) throw usageError('error: --name or --all must be provided');
        const { client } = connect(opts);
        await run(async () => {
          if (opts.all) {
            await client.request('PUT', `/api/v1/components/${verb}`);
            io.stdout(`all components ${past}\n`);
            return;
          }
          for (const name of names) {
            await client.request('PUT', `/api/v1/components/${enc(name)}/${verb}`);
            io.stdout(`${past} '${name}'\n`);
          }
        });
      });
  }
}
