// Flag parsing for the image commands: `--name value` or `--name=value`; a bad flag exits 2 naming it.
import { parseRepository, tagProblem } from '../../../src/images/reference.ts';
import type { RegistryCredentials, RepositoryRef } from '../../../src/images/registry-client.ts';

export class UsageError extends Error {}

export interface FlagSpec {
  /** flags that take a value; `multi` ones may repeat */
  values: Record<string, { required?: boolean; multi?: boolean }>;
}

export function parseFlags(argv: string[], spec: FlagSpec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const def = spec.values[name];
    if (!def) throw new UsageError(`unknown flag --${name}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`flag --${name} needs a value`);
    const list = out.get(name) ?? [];
    if (list.length > 0 && !def.multi) throw new UsageError(`flag --${name} given twice`);
    list.push(value);
    out.set(name, list);
  }
  for (const [name, def] of Object.entries(spec.values)) if (def.required && !out.has(name)) throw new UsageError(`flag --${name} is required`);
  return out;
}

export function registryFlag(value: string): string {
  if (!/^[a-zA-Z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(value)) throw new UsageError(`flag --registry: '${value}' is not HOST:PORT`);
  return value;
}

export function credsFlag(value: string | undefined): RegistryCredentials | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError('flag --creds: expected USER:PASS');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

export function repoFlag(registry: string, name: string): RepositoryRef {
  try {
    const parsed = parseRepository(`${registry}/${name}`);
    return { registry: parsed.registry, path: parsed.path };
  } catch (err) {
    throw new UsageError(`flag --repo: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function tagFlag(tag: string): string {
  const problem = tagProblem(tag);
  if (problem) throw new UsageError(`flag --tag: ${problem}`);
  return tag;
}

/** Runs a command's main: usage errors exit 2, other failures 1. */
export function runMain(usage: string, main: () => Promise<void>): void {
  main().then(
    () => {
      process.exitCode = 0;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message}\nusage: ${usage}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
