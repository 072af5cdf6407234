// The read-only requirements folder beside the checkout (../shared): fixtures and reference cases.
import { packagePath } from '../../src/package.ts';

export const SHARED = packagePath('..', 'shared');
export const PIPELINE_FIXTURES = packagePath('..', 'shared', 'fixtures', 'pipelines');
