// How to run a built-in resource type as a process: `node [--import <tsx loader>] <cli> <type>
// <script> [dir]`, all paths absolute so the process works from any working directory.
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

function tsxLoader(): string {
  // `import.meta.resolve` gives the file URL of tsx's loader as installed for this project.
  return import.meta.resolve('tsx');
}

/** The command and arguments that run `<type> <script> [dir]` through src/resources/cli.ts. */
export function resourceCommand(type: string, script: ResourceScript, dir?: string): ProcessCommand {
  const args = fromSources ? ['--import', tsxLoader(), cliPath] : [cliPath];
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
