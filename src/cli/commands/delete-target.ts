// `jetway delete-target` (fly's `dtg`): removes a saved target (or, with --all, every one) from
// ~/.jetwayrc without asking its server anything, as fly's does (fly/commands/delete_target.go).
// `jetway logout` also revokes the token on the server first.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, targetName } from '../client/common.ts';
import { loadTargets, saveTargets } from '../client/targets.ts';

export function registerDeleteTarget(program: Command, io: CliIO): void {
  addTargetOption(program.command('delete-target'))
    .description('Delete a saved target from ~/.jetwayrc (offline; jetway logout also revokes its token)')
    .option('-a, --all', 'delete every saved target')
    .action((opts: { target?: string; all?: boolean }) => {
      if (opts.all && opts.target) throw usageError('error: -t, --target and -a, --all cannot be combined');
      const file = loadTargets();
      if (opts.all) {
        saveTargets({ ...file, targets: {} });
        io.stdout('deleted all targets\n');
        return;
      }
      const name = targetName(opts);
      if (!name) throw usageError('error: no target specified: pass -t, --target <name> (or -a, --all for every target)');
      if (!file.targets[name]) {
        const known = Object.keys(file.targets).sort();
        throw new CliExit(1, `error: unknown target: ${name}\n${known.length > 0 ? `known targets: ${known.join(', ')}` : 'no targets are saved'}`);
      }
      delete file.targets[name];
      saveTargets(file);
      io.stdout(`deleted target: ${name}\n`);
    });
}
