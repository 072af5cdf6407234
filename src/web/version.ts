import { readFileSync } from 'node:fs';

/** Jetway's version, from package.json. */
export const JETWAY_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
