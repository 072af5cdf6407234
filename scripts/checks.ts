// `npm test`'s static checks, run side by side: the type checker, ESLint and the layer rules are
// each single-threaded, so on CI's two cores running them at once takes about the time of the
// longest instead of the sum. Each one's output is printed whole when it ends (never interleaved),
// and the script exits non-zero, naming the failed checks, when any fails.
import { spawn } from 'node:child_process';

const CHECKS: { name: string; script: string }[] = [
  { name: 'typecheck', script: 'typecheck' },
  { name: 'eslint', script: 'lint:eslint' },
  { name: 'layers', script: 'lint:layers' },
];

function run(check: { name: string; script: string }): Promise<{ name: string; code: number; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', check.script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => resolve({ name: check.name, code: 1, output: `${output}${err.message}\n`, seconds: 0 }));
    child.on('close', (code, signal) => resolve({ name: check.name, code: code ?? (signal ? 1 : 0), output, seconds: (Date.now() - started) / 1000 }));
  });
}

const results = await Promise.all(
  CHECKS.map(async (check) => {
    const r = await run(check);
    process.stdout.write(`${r.code === 0 ? '✔' : '✖'} ${r.name} (${r.seconds.toFixed(1)} s)\n${r.output}`);
    return r;
  }),
);
const failed = results.filter((r) => r.code !== 0).map((r) => r.name);
if (failed.length > 0) {
  console.error(`static checks failed: ${failed.join(', ')}`);
  process.exit(1);
}
