// Jetway's version, from package.json. Its own module: reading package.json at import time must not
// happen in bundles that only need package.ts's paths (the resource scripts run inside images,
// where no package.json exists).
import { readFileSync } from 'node:fs';
import { packagePath } from './package.ts';

export const JETWAY_VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;

/**
 * The Concourse release whose API and fly Jetway follows (docs/concourse-compatibility.md), and
 * the version /api/v1/info reports to fly by default: fly errors on a server of another
 * major.minor, so an operator whose teams use another fly sets `jetway web --concourse-version`.
 */
export const CONCOURSE_COMPATIBLE_VERSION = '8.2.5';
