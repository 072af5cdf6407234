// `jetway targets` (`ts`): the saved targets of ~/.jetwayrc as a table, or JSON; never a token.
// Offline, as fly's: the expiry is the one the token endpoint reported at login (Jetway's
// tokens are opaque, there is no JWT to decode); `jetway status` asks the server.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, formatTable, printJson, rfc1123Utc, wantsJson } from '../client/common.ts';
import { loadTargets, type Target } from '../client/targets.ts';

export interface TargetRow {
  name: string;
  url: string;
  team: string;
  /** Whether a token is saved (not whether the server still accepts it). */
  has_token: boolean;
  /** ISO 8601; null without a token, or for a token saved before expiries were kept. */
  expiry: string | null;
  expired: boolean | null;
}

export function targetRow(name: string, target: Target, now = new Date()): TargetRow {
  const parsed = target.token?.expiry ? new Date(target.token.expiry) : undefined;
  const expiry = parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
  return {
    name,
    url: target.api,
    team: target.team,
    has_token: target.token !== undefined,
    expiry: expiry?.toISOString() ?? null,
    expired: expiry ? expiry.getTime() <= now.getTime() : null,
  };
}

/**
 * fly's expiry cell (fly/commands/targets.go): the expiry in UTC as RFC 1123, `n/a` without a
 * token, `n/a: invalid token` when the expiry cannot be told (for Jetway, a token saved before
 * expiries were kept). Whether it has passed is in --json (expired).
 */
function expiryCell(row: TargetRow): string {
  if (!row.has_token) return 'n/a';
  if (row.expiry === null) return 'n/a: invalid token';
  return rfc1123Utc(new Date(row.expiry));
}

export function registerTargets(program: Command, io: CliIO): void {
  addOutputOptions(program.command('targets').alias('ts'))
    .description('List the saved targets (~/.jetwayrc) and when their tokens expire')
    .action((opts: { output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const rows = Object.entries(loadTargets().targets)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, target]) => targetRow(name, target));
      if (json) return printJson(io, rows);
      io.stdout(formatTable(['name', 'url', 'team', 'expiry'], rows.map((r) => [r.name, r.url, r.team, expiryCell(r)])));
    });
}
