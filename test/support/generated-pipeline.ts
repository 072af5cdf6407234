// A large pipeline made up for the pipeline graph's layout test and benchmark (npm run bench):
// jobs in stages of ten, each stage's jobs getting versions that passed one or two jobs of the
// stage before, some fresh resources along the way and a put every few jobs. Deterministic (a
// fixed linear congruential sequence), so every run draws the same graph.
import type { GraphJob } from '../../src/ui/app/graph-layout.ts';

export interface GeneratedPipeline {
  jobs: GraphJob[];
  resources: string[];
}

export function generatedPipeline(jobCount = 100, resourceCount = 50, seed = 42): GeneratedPipeline {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const resources = Array.from({ length: resourceCount }, (_, i) => `resource-${i}`);
  const stage = 10;
  const jobs: GraphJob[] = [];
  for (let i = 0; i < jobCount; i++) {
    const s = Math.floor(i / stage);
    const inputs: GraphJob['inputs'][number][] = [];
    if (s === 0) {
      for (let k = 0; k < 2; k++) {
        const r = resources[next(resourceCount)]!;
        if (!inputs.some((x) => x.resource === r)) inputs.push({ name: r, resource: r, trigger: k === 0 });
      }
    } else {
      const before = jobs.slice((s - 1) * stage, s * stage);
      const upstream = [before[next(before.length)]!.name, before[next(before.length)]!.name];
      const r = resources[(i + s) % resourceCount]!;
      inputs.push({ name: r, resource: r, trigger: true, passed: [...new Set(upstream)] });
      if (next(3) === 0) {
        const fresh = resources[next(resourceCount)]!;
        if (fresh !== r) inputs.push({ name: fresh, resource: fresh, trigger: false });
      }
    }
    const outputs = next(4) === 0 ? [{ name: resources[(i * 7) % resourceCount]!, resource: resources[(i * 7) % resourceCount]! }] : [];
    jobs.push({ name: `job-${String(i).padStart(3, '0')}`, inputs, outputs });
  }
  return { jobs, resources };
}
