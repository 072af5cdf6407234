// `npm install` (prepare): bundles the built-in resource types into dist/resources-cli.mjs, which
// resource processes run (see src/resources/command.ts).
import { BUNDLE_PATH } from '../src/resources/command.ts';
import { writeResourcesBundle } from '../src/resources/bundle.ts';

await writeResourcesBundle(BUNDLE_PATH);
console.log(`bundled the resource types into ${BUNDLE_PATH}`);
