// `jetway logout`: removes a target (or, with --all, every target) from ~/.jetwayrc, as fly
// does. First each token is revoked on its server (DELETE /api/v1/token), so a copy of it
// stops working too; that is best effort: a server that cannot be reached gets a warning, and
// the target is removed all the same.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { ApiClient, ApiRequestError } from '../client/http.ts';
import { addTargetOption, targetName } from '../client/common.ts';
import { loadTargets, saveTargets, type Target } from '../client/targets.ts';

/** A server that does not answer must not hang the logout. */
const REVOKE_TIMEOUT_MS = 10_000;

/** The warning when the token could not be revoked; undefined when it was (or there was none). */
async function revoke(name: string, target: Target): Promise<string | undefined> {
  if (!target.token) return undefined;
  try {
    await ApiClient.forTarget(name, target).request('DELETE', '/api/v1/token', { signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS) });
    return undefined;
  } catch (err) {
    // the messages name the server and the reason; none contains the token
    const reason =
      err instanceof ApiRequestError
        ? `${err.message} (HTTP ${err.status})`
        : (err instanceof Error ? err.message : String(err)).replace(/^error: /, '');
    return `warning: could not revoke the token of target ${name} on the server: ${reason}\n(it stays valid there until it expires)\n`;
  }
}

export function registerLogout(program: Command, io: CliIO): void {
  addTargetOption(program.command('logout'))
    .description('Log out of a target: revoke its token on the server and remove it from ~/.jetwayrc')
    .option('-a, --all', 'log out of every saved target')
    .action(async (opts: { target?: string; all?: boolean }) => {
      if (opts.all && opts.target) throw usageError('error: -t, --target and -a, --all cannot be combined');
      const file = loadTargets();
      if (opts.all) {
        const targets = Object.entries(file.targets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        // in parallel, so that servers that do not answer cost one timeout, not one each
        const warnings = await Promise.all(targets.map(([n, t]) => revoke(n, t)));
        for (const w of warnings) if (w) io.stderr(w);
        if (targets.length > 0) saveTargets({ ...file, targets: {} });
        io.stdout('logged out of all targets\n');
        return;
      }
      const name = targetName(opts);
      if (!name) throw usageError('error: no target specified: pass -t, --target <name> (or -a, --all for every target)');
      const target = file.targets[name];
      if (!target) {
        const known = Object.keys(file.targets).sort();
        throw new CliExit(1, `error: unknown target: ${name}\n${known.length > 0 ? `known targets: ${known.join(', ')}` : 'no targets are saved'}`);
      }
      const warning = await revoke(name, target);
      if (warning) io.stderr(warning);
      delete file.targets[name];
      saveTargets(file);
      io.stdout(`logged out of target: ${name}\n`);
    });
}
