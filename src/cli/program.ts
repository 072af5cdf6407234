import { Command, CommanderError } from 'commander';
import { CliExit, type CliIO } from './io.ts';
import { registerCommands } from './commands/index.ts';
import { addFlyAliases } from './aliases.ts';
import { setGlobalTarget, setTableHeaders } from './client/common.ts';
import { JETWAY_VERSION } from '../version.ts';

export function buildProgram(io: CliIO): Command {
  const program = new Command('jetway')
    .description('Jetway: a Kubernetes-native CI/CD engine that runs Concourse pipelines')
    .version(JETWAY_VERSION)
    // an unknown command: commander's closest commands ("Did you mean …?") and a pointer, not
    // the whole usage (as fly); each command's own errors show that command's help (below)
    .showHelpAfterError("run 'jetway --help' to list the commands")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    // `jetway -t ci pipelines` as fly allows; program options are only read before the command,
    // so a command's own `-t` is its own
    .option('-t, --target <name>', 'target for the command (the same as the command\'s own -t)')
    .enablePositionalOptions()
    .hook('preSubcommand', (cmd) => {
      setGlobalTarget(cmd.opts<{ target?: string }>().target);
    });
  setGlobalTarget(undefined);
  program.option('--print-table-headers', 'print table headers even when the output is not a terminal');
  registerCommands(program, io, runCli);
  addFlyAliases(program);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError();
    // fly takes its global flags after the command too (`fly pipelines --print-table-headers`)
    if (!cmd.options.some((o) => o.long === '--print-table-headers')) cmd.option('--print-table-headers', 'print table headers even when the output is not a terminal');
  }
  program.hook('preAction', (_program, action) => {
    const flag = (c: Command): boolean => c.opts<{ printTableHeaders?: boolean }>().printTableHeaders === true;
    setTableHeaders(io.stdoutIsTTY === true || flag(program) || flag(action));
  });
  return program;
}

/** Runs the CLI with argv (without node and script) and returns the exit status. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) io.stderr(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof CommanderError) {
      // help and version exit 0; every other commander error is a usage error
      if (err.exitCode === 0) return 0;
      return 2;
    }
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
