// `npm install` (prepare): writes the bundles Jetway runs while they are fresh (newer than every
// source file): dist/resources-cli.mjs, the built-in resource types, which resource processes run
// (src/resources/command.ts), dist/cli/jetway.mjs, the jetway command (bin/jetway.js), and
// dist/ui, the web UI's script and stylesheet (src/ui/server.ts serves them).
import { writeCliBundle } from '../src/cli/bundle.ts';
import { packagePath } from '../src/package.ts';
import { resourcesBundlePath } from '../src/resources/command.ts';
import { writeResourcesBundle } from '../src/resources/bundle.ts';
import { writeUiBundle } from '../src/ui/bundle.ts';

await writeResourcesBundle(resourcesBundlePath());
console.log(`bundled the resource types into ${resourcesBundlePath()}`);
console.log(`bundled the jetway command into ${await writeCliBundle(packagePath('dist', 'cli'))}`);
console.log(`bundled the web UI into ${(await writeUiBundle(packagePath('dist', 'ui'))).join(', ')}`);
