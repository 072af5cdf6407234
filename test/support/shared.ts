// The read-only requirements folder (fixtures and reference cases): `../shared` beside the
// checkout, else JETWAY_SHARED_DIR, else the workplace's /work/shared (a clone made elsewhere,
// e.g. in /tmp, still finds it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../../src/package.ts';

function sharedDir(): string {
  const candidates = [packagePath('..', 'shared'), process.env.JETWAY_SHARED_DIR, '/work/shared'].filter((d): d is string => d !== undefined && d !== '');
  return candidates.find((d) => existsSync(join(d, 'fixtures'))) ?? candidates[0]!;
}

export const SHARED = sharedDir();
export const PIPELINE_FIXTURES = join(SHARED, 'fixtures', 'pipelines');
