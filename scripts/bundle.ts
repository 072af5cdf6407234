// `npm install` (prepare): writes the bundles Jetway runs while they are fresh (newer than every
// source file): dist/resources-cli.mjs, the built-in resource types, which resource processes run
// (src/resources/command.ts), and dist/cli/jetway.mjs, the jetway command (bin/jetway.js).
import { writeCliBundle } from '../src/cli/bundle.ts';
import { packagePath } from '../src/package.ts';
import { resourcesBundlePath } from '../src/resources/command.ts';
import { writeResourcesBundle } from '../src/resources/bundle.ts';

await writeResourcesBundle(resourcesBundlePath());
console.log(`bundled the resource types into ${resourcesBundlePath()}`);
console.log(`bundled the jetway command into ${await writeCliBundle(packagePath('dist', 'cli'))}`);
