// How to run a built-in resource type as a process: `node <bundle> <type> <script> [dir]` when
// the bundle (dist/resources-cli.mjs, written by `npm install` through the prepare script) is
// newer than every source file, else `node --import <tsx loader> <cli.ts> …`. All paths are
// absolute so the process works from any working directory.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ResourceScript = 'check' | 'in' | 'out';

export interface ProcessCommand {
  command: string;
  args: string[];
}

/** Whether this module runs from TypeScript sources (through tsx) rather than a compiled build. */
const fromSources = import.meta.url.endsWith('.ts');

/** The absolute path of the protocol entry point next to this module (cli.ts, or cli.js when built). */
export const cliPath = fileURLToPath(new URL(fromSources ? './cli.ts' : './cli.js', import.meta.url));

/** Running inside the bundle itself (a resource process writing mirror_self's scripts). */
const inBundle = import.meta.url.endsWith('/resources-cli.mjs');

/** Where the prepare script writes the bundled entry point. */
export const BUNDLE_PATH = inBundle ? fileURLToPath(import.meta.url) : fileURLToPath(new URL('../../dist/resources-cli.mjs', import.meta.url));
const SOURCES = fileURLToPath(new URL('../', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let bundleIsFresh: boolean | undefined;
/** Decided once per process: a stale bundle (sources edited since) is never used. */
function useBundle(): boolean {
  if (bundleIsFresh === undefined) {
    try {
      bundleIsFresh = process.env.JETWAY_RESOURCE_BUNDLE !== 'off' && statSync(BUNDLE_PATH).mtimeMs >= newestSource(SOURCES);
    } catch {
      bundleIsFresh = false;
    }
  }
  return bundleIsFresh;
}

function tsxLoader(): string {
  // `import.meta.resolve` gives the file URL of tsx's loader as installed for this project.
  return import.meta.resolve('tsx');
}

/** The command and arguments that run `<type> <script> [dir]`. */
export function resourceCommand(type: string, script: ResourceScript, dir?: string): ProcessCommand {
  const args = inBundle ? [BUNDLE_PATH] : !fromSources ? [cliPath] : useBundle() ? [BUNDLE_PATH] : ['--import', tsxLoader(), cliPath];
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
