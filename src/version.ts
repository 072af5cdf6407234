// Jetway's version, from package.json. Its own module: reading package.json at import time must not
// happen in bundles that only need package.ts's paths (the resource scripts run inside images,
// where no package.json exists).
import { readFileSync } from 'node:fs';
import { packagePath } from './package.ts';

export const JETWAY_VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
