// Saved targets: ~/.jetwayrc (YAML, like fly's ~/.flyrc), mode 0600 since it holds tokens.
//
//   targets:
//     ci:
//       api: https://ci.example.com
//       team: main
//       token: {type: bearer, value: …, expiry: 2025-01-02T03:04:05.000Z}
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CliExit } from '../io.ts';

const targetSchema = z.object({
  api: z.string(),
  team: z.string().default('main'),
  // expiry: as the token endpoint reported it (tokens are opaque, so `jetway targets` cannot
  // read it from the token as fly does from its JWTs); absent in files saved before it was kept
  token: z.object({ type: z.string(), value: z.string(), expiry: z.string().optional() }).optional(),
  insecure: z.boolean().optional(),
});
const fileSchema = z.object({ targets: z.record(z.string(), targetSchema).default({}) });

export type Target = z.infer<typeof targetSchema>;
export type TargetsFile = z.infer<typeof fileSchema>;

/** $HOME/.jetwayrc (HOME wins over the passwd entry, so tests and scripts can point it elsewhere). */
export function targetsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), '.jetwayrc');
}

export function loadTargets(path = targetsPath()): TargetsFile {
  if (!existsSync(path)) return { targets: {} };
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliExit(1, `error: ${path} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const r = fileSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CliExit(1, `error: ${path} is malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`);
  }
  return r.data;
}

/** Writes the file with mode 0600 (via a temporary file, so a crash never leaves half a file). */
export function saveTargets(file: TargetsFile, path = targetsPath()): void {
  const tmp = `${path}.${process.pid}.tmp`;
  // a fresh account's $HOME may not exist yet (containers, CI users)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(tmp, stringify(file), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function saveTarget(name: string, target: Target, path = targetsPath()): void {
  const file = loadTargets(path);
  file.targets[name] = target;
  saveTargets(file, path);
}

/** The named target; an unknown name is an error that lists the known ones. */
export function getTarget(name: string | undefined, path = targetsPath()): Target {
  if (!name) throw new CliExit(2, 'error: no target specified: pass -t <target> (or set JETWAY_TARGET)');
  const file = loadTargets(path);
  const target = file.targets[name];
  if (!target) {
    const known = Object.keys(file.targets);
    throw new CliExit(
      1,
      `error: unknown target: ${name}\n` +
        (known.length > 0 ? `known targets: ${known.sort().join(', ')}\n` : '') +
        `log in first: jetway login -t ${name} -c <url> -u <user> -p <password>`,
    );
  }
  return target;
}
