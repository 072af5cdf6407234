// Runs the test suite on node:test. Node 20's runner takes no globs, so this finds the test
// files itself (test/**/*.test.ts, or the paths given as arguments) and runs them in one
// `node --test` process tree.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function findTests(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return findTests(child);
      return entry.name.endsWith('.test.ts') ? [child] : [];
    })
    .sort();
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap((root) => findTests(resolve(root)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: process.env },
);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
