import { runCli } from './program.ts';
import { processIO } from './io.ts';

// An explicit exit with the command's status (handles left open, such as an embedded Postgres's
// child process, would otherwise keep the process alive). Writes to stdout and stderr are
// synchronous on Linux pipes and files.
process.exit(await runCli(process.argv.slice(2), processIO));
