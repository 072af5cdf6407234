import { readFileSync } from 'node:fs';
import { packagePath } from '../package.ts';

/** Jetway's version, from package.json. */
export const JETWAY_VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
