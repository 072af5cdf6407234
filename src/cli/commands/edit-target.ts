// `jetway edit-target` (fly's `etg`, fly/commands/edit_target.go): renames a saved target or
// changes its URL or team, offline, in ~/.jetwayrc. Two things differ from fly on purpose: a new
// name that is already a target is refused (fly overwrites it silently), and a new URL drops the
// saved token (fly keeps it, and would send one server's token to another): log in again.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, targetName } from '../client/common.ts';
import { loadTargets, saveTargets, type TargetsFile } from '../client/targets.ts';

export interface TargetEdit {
  newName?: string;
  url?: string;
  team?: string;
}

/** The targets file with `name` edited, and what to tell the user; throws CliExit on bad input (nothing changed). */
export function editTarget(file: TargetsFile, name: string, edit: TargetEdit): { file: TargetsFile; notes: string[] } {
  if (!edit.newName && !edit.url && !edit.team) throw usageError('error: no attributes specified to update: give --target-name, -u, --concourse-url or -n, --team-name');
  const target = file.targets[name];
  if (!target) {
    const known = Object.keys(file.targets).sort();
    throw new CliExit(1, `error: unknown target: ${name}\n${known.length > 0 ? `known targets: ${known.join(', ')}` : 'no targets are saved'}`);
  }
  const notes: string[] = [];
  const updated = { ...target };
  if (edit.url) {
    const url = edit.url.replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw usageError(`error: -u, --concourse-url must be an http(s) URL (got '${edit.url}')`);
    if (url !== target.api) {
      updated.api = url;
      if (updated.token) {
        delete updated.token;
        notes.push(`the saved token was for ${target.api}: log in again (jetway login -t ${edit.newName ?? name})`);
      }
    }
  }
  if (edit.team) {
    if (/[\s/\\]/.test(edit.team)) throw usageError(`error: -n, --team-name: '${edit.team}' is not a team name`);
    updated.team = edit.team;
  }
  const targets = { ...file.targets };
  if (edit.newName && edit.newName !== name) {
    if (/[\s/\\]/.test(edit.newName)) throw usageError(`error: --target-name: '${edit.newName}' is not a target name`);
    if (targets[edit.newName]) throw new CliExit(1, `error: target ${edit.newName} exists already: delete it first (jetway delete-target -t ${edit.newName})`);
    delete targets[name];
    targets[edit.newName] = updated;
  } else {
    targets[name] = updated;
  }
  return { file: { ...file, targets }, notes };
}

export function registerEditTarget(program: Command, io: CliIO): void {
  addTargetOption(program.command('edit-target'))
    .description("Edit a saved target (offline): its name, URL or team")
    .option('--target-name <name>', 'a new name for the target')
    .option('-u, --concourse-url <url>', 'a new URL (drops the saved token: log in again)')
    .option('-n, --team-name <team>', 'a new team')
    .action((opts: { target?: string; targetName?: string; concourseUrl?: string; teamName?: string }) => {
      const name = targetName(opts);
      if (!name) throw usageError('error: no target specified: pass -t, --target <name>');
      const { file, notes } = editTarget(loadTargets(), name, {
        ...(opts.targetName ? { newName: opts.targetName } : {}),
        ...(opts.concourseUrl ? { url: opts.concourseUrl } : {}),
        ...(opts.teamName ? { team: opts.teamName } : {}),
      });
      saveTargets(file);
      for (const note of notes) io.stderr(`${note}\n`);
      io.stdout(`Updated target: ${name}\n`);
    });
}
