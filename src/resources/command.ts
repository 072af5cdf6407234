// How to run a built-in resource type as a process: `node <bundle> <type> <script> [dir]` when
// the bundle (dist/resources-cli.mjs, written by `npm install` through the prepare script) is
// newer than every source file, else `node --import <tsx loader> <cli.ts> …`. All paths are
// absolute so the process works from any working directory.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleIsFresh, packagePath } from '../package.ts';

export type ResourceScript = 'check' | 'in' | 'out';

export interface ProcessCommand {
  command: string;
  args: string[];
}

// set by the resources bundle's build (src/resources/bundle.ts), absent everywhere else
declare const __JETWAY_RESOURCES_BUNDLE__: boolean | undefined;
/** Running inside the resources bundle itself (a resource process, also one in a resource-type image, where no package exists around it). */
const inBundle = typeof __JETWAY_RESOURCES_BUNDLE__ !== 'undefined' && __JETWAY_RESOURCES_BUNDLE__;

/** Where the prepare script writes the bundled entry point. */
export function resourcesBundlePath(): string {
  return inBundle ? fileURLToPath(import.meta.url) : packagePath('dist', 'resources-cli.mjs');
}

/** The protocol entry point in the sources (run through tsx when the bundle is missing or stale). */
export function resourcesCliSource(): string {
  return packagePath('src', 'resources', 'cli.ts');
}

let useBundle: boolean | undefined;
/** Decided once per process. */
function bundleUsable(): boolean {
  useBundle ??= process.env.JETWAY_RESOURCE_BUNDLE !== 'off' && bundleIsFresh(resourcesBundlePath());
  return useBundle;
}

/** Where root keeps copies other users can reach (root-owned, 0755); the embedded Postgres's binaries go there too. */
const ROOT_CACHE = '/var/cache/jetway';

function othersCanTraverse(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

let runnableBundle: string | undefined;
/**
 * As root, resource processes run as the build user, who cannot reach a checkout under a
 * private folder (a `mktemp -d` directory, /root/...): the bundle, one self-contained file, then
 * runs from a copy in /var/cache/jetway, named by the bundle's time and size.
 */
function bundleToRun(): string {
  const path = resourcesBundlePath();
  if (runnableBundle) return runnableBundle;
  if (inBundle || process.getuid?.() !== 0 || othersCanTraverse(dirname(path))) return (runnableBundle = path);
  const st = statSync(path);
  const copy = join(ROOT_CACHE, `resources-cli-${Math.floor(st.mtimeMs)}-${st.size}.mjs`);
  if (!existsSync(copy)) {
    mkdirSync(ROOT_CACHE, { recursive: true, mode: 0o755 });
    chmodSync(ROOT_CACHE, 0o755);
    const partial = `${copy}.${process.pid}`;
    copyFileSync(path, partial);
    chmodSync(partial, 0o644);
    renameSync(partial, copy);
  }
  return (runnableBundle = copy);
}

/** The command and arguments that run `<type> <script> [dir]`. */
export function resourceCommand(type: string, script: ResourceScript, dir?: string): ProcessCommand {
  // `import.meta.resolve` gives the file URL of tsx's loader as installed for this project
  const args = inBundle || bundleUsable() ? [bundleToRun()] : ['--import', import.meta.resolve('tsx'), resourcesCliSource()];
  args.push(type, script);
  if (dir !== undefined) args.push(dir);
  return { command: process.execPath, args };
}

/** Quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A `#!/bin/sh` script that runs the given type's script, passing its arguments on (the dir). */
export function resourceShellScript(type: string, script: ResourceScript): string {
  const { command, args } = resourceCommand(type, script);
  return `#!/bin/sh\nexec ${[command, ...args].map(shellQuote).join(' ')} "$@"\n`;
}
