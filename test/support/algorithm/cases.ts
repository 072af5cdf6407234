// The `concourse-input-resolution-cases/v1` fixture format (docs/concourse-semantics.md §0): parsing, the
// inputs and store a case describes, and the comparison of a result with a case's expectations.
import { z } from 'zod';
import { canonicalJson, versionDigest } from '../../../src/model/version.ts';
import type { MemoryStoreData } from '../../../src/scheduler/algorithm/memory-store.ts';
import { isResolveError, type AlgorithmInput, type ComputeResult } from '../../../src/scheduler/algorithm/types.ts';
import type { Version } from '../../../src/model/version.ts';

const caseInputSchema = z.object({
  name: z.string(),
  resource: z.string(),
  passed: z.array(z.string()),
  version: z.union([z.literal('latest'), z.literal('every'), z.object({ pinned: z.string() })]),
});

const caseDbSchema = z.object({
  jobs: z.record(z.string(), z.number().int()),
  resources: z.record(z.string(), z.object({ id: z.number().int(), has_scope: z.boolean() })),
  versions: z.record(
    z.string(),
    z.array(z.object({ version: z.string(), check_order: z.number().int(), disabled: z.boolean() })),
  ),
  builds: z.array(
    z.object({ id: z.number().int(), job: z.string(), status: z.string(), rerun_of: z.number().int().nullable() }),
  ),
  build_inputs: z.array(
    z.object({ build_id: z.number().int(), resource: z.string(), version: z.string(), name: z.string() }),
  ),
  build_outputs: z.array(z.object({ build_id: z.number().int(), resource: z.string(), version: z.string() })),
  successful_build_outputs: z.array(
    z.object({
      build_id: z.number().int(),
      job: z.string(),
      rerun_of: z.number().int().nullable(),
      outputs: z.array(z.object({ resource: z.string(), version: z.string() })),
    }),
  ),
  build_pipes: z.array(z.object({ from_build_id: z.number().int(), to_build_id: z.number().int() })),
});

const expectedSchema = z.object({
  ok: z.boolean(),
  values: z.record(z.string(), z.string()).optional(),
  errors: z.record(z.string(), z.string()).optional(),
  passed_build_ids: z.record(z.string(), z.array(z.number().int())).optional(),
  has_next: z.boolean().optional(),
  first_occurrence: z.record(z.string(), z.boolean()).optional(),
});

const caseSchema = z.object({
  id: z.string(),
  name: z.string(),
  source: z.string().optional(),
  harness: z.string().optional(),
  iterations: z.number().int().optional(),
  harness_notes: z.array(z.string()).optional(),
  job: z.string().optional(),
  inputs: z.array(caseInputSchema),
  expected: expectedSchema,
  db: caseDbSchema,
});

export const caseFileSchema = z.object({
  format: z.literal('concourse-input-resolution-cases/v1'),
  cases: z.array(caseSchema).default([]),
  first_occurrence_cases: z.array(caseSchema).default([]),
});

export type ResolutionCase = z.infer<typeof caseSchema>;
export type CaseDb = z.infer<typeof caseDbSchema>;
export type CaseFile = z.infer<typeof caseFileSchema>;

/** Cases of a file, resolution cases first, each tagged with whether it is a first-occurrence case. */
export function allCases(file: CaseFile): { testCase: ResolutionCase; firstOccurrence: boolean }[] {
  return [
    ...file.cases.map((testCase) => ({ testCase, firstOccurrence: false })),
    ...file.first_occurrence_cases.map((testCase) => ({ testCase, firstOccurrence: true })),
  ];
}

export function parseCaseFile(json: unknown): CaseFile {
  return caseFileSchema.parse(json);
}

/** A version named X is `{"ver": "X"}`. */
export function caseVersion(name: string): Version {
  return { ver: name };
}

/** The job a case resolves: `current`, or the FoCase's `job` (`j1`). */
export function caseJobName(testCase: ResolutionCase): string {
  return testCase.job ?? 'current';
}

function lookup(map: Record<string, number>, key: string, what: string): number {
  const id = map[key];
  if (id === undefined) throw new Error(`case refers to unknown ${what} ${key}`);
  return id;
}

export function caseJobId(testCase: ResolutionCase): number {
  return lookup(testCase.db.jobs, caseJobName(testCase), 'job');
}

export function caseResourceId(db: CaseDb, name: string): number {
  const resource = db.resources[name];
  if (!resource) throw new Error(`case refers to unknown resource ${name}`);
  return resource.id;
}

/** The input configs of a case: passed mapped to job ids, `pinned` X to `{"ver": X}`. */
export function caseInputs(testCase: ResolutionCase): AlgorithmInput[] {
  const { db } = testCase;
  return testCase.inputs.map((input) => {
    const result: AlgorithmInput = {
      name: input.name,
      resourceId: caseResourceId(db, input.resource),
      passed: new Set(input.passed.map((job) => lookup(db.jobs, job, 'job'))),
      useEvery: input.version === 'every',
      trigger: true,
    };
    if (typeof input.version === 'object') result.pinnedVersion = caseVersion(input.version.pinned);
    return result;
  });
}

/** The case's `db` section as in-memory store data. */
export function caseStoreData(db: CaseDb): MemoryStoreData {
  const resourceId = (name: string): number => caseResourceId(db, name);
  const jobId = (name: string): number => lookup(db.jobs, name, 'job');
  const digest = (name: string): string => versionDigest(caseVersion(name));
  return {
    resources: Object.values(db.resources).map((r) => ({ id: r.id, hasScope: r.has_scope })),
    versions: Object.entries(db.versions).flatMap(([resource, list]) =>
      list.map((v) => ({
        resourceId: resourceId(resource),
        version: caseVersion(v.version),
        checkOrder: v.check_order,
        disabled: v.disabled,
      })),
    ),
    builds: db.builds.map((b) => ({ id: b.id, jobId: jobId(b.job), status: b.status, rerunOf: b.rerun_of })),
    buildInputs: db.build_inputs.map((i) => ({
      buildId: i.build_id,
      resourceId: resourceId(i.resource),
      digest: digest(i.version),
      name: i.name,
    })),
    successfulBuildOutputs: db.successful_build_outputs.map((row) => ({
      buildId: row.build_id,
      jobId: jobId(row.job),
      rerunOf: row.rerun_of,
      outputs: row.outputs.map((o) => ({ resourceId: resourceId(o.resource), digest: digest(o.version) })),
    })),
    buildPipes: db.build_pipes.map((p) => ({ fromBuildId: p.from_build_id, toBuildId: p.to_build_id })),
  };
}

function describeVersion(version: Version): string {
  const keys = Object.keys(version);
  return keys.length === 1 && keys[0] === 'ver' ? (version.ver ?? '') : canonicalJson(version);
}

/**
 * Differences between a result and the case's expectations, empty when the case passes. `ok` and
 * `errors` are always compared; values, passed build ids (as sets) and has_next only when ok;
 * first_occurrence for first-occurrence cases.
 */
export function compareCaseResult(testCase: ResolutionCase, result: ComputeResult): string[] {
  const { expected } = testCase;
  const diffs: string[] = [];
  if (result.ok !== expected.ok) diffs.push(`ok: expected ${expected.ok}, got ${result.ok}`);

  const expectedErrors = expected.errors ?? {};
  for (const input of testCase.inputs) {
    const got = result.mapping[input.name];
    const want = expectedErrors[input.name];
    if (!got) {
      diffs.push(`${input.name}: no result`);
    } else if (want !== undefined && (!isResolveError(got) || got.resolveError !== want)) {
      diffs.push(`${input.name}: expected error ${JSON.stringify(want)}, got ${describeResult(got)}`);
    } else if (want === undefined && isResolveError(got)) {
      diffs.push(`${input.name}: unexpected error ${JSON.stringify(got.resolveError)}`);
    }
  }
  if (!expected.ok) return diffs;

  for (const [name, value] of Object.entries(expected.values ?? {})) {
    const got = result.mapping[name];
    if (got && !isResolveError(got) && got.versionDigest !== versionDigest(caseVersion(value))) {
      diffs.push(`${name}: expected version ${value}, got ${describeVersion(got.version)}`);
    }
  }
  for (const [name, ids] of Object.entries(expected.passed_build_ids ?? {})) {
    const got = result.mapping[name];
    if (!got || isResolveError(got)) continue;
    const want = [...new Set(ids)].sort((a, b) => a - b);
    const have = [...new Set(got.passedBuildIds)].sort((a, b) => a - b);
    if (want.join(',') !== have.join(',')) {
      diffs.push(`${name}: expected passed builds [${want.join(',')}], got [${have.join(',')}]`);
    }
  }
  if (expected.has_next !== undefined && expected.has_next !== result.hasNext) {
    diffs.push(`has_next: expected ${expected.has_next}, got ${result.hasNext}`);
  }
  for (const [name, first] of Object.entries(expected.first_occurrence ?? {})) {
    const got = result.mapping[name];
    if (got && !isResolveError(got) && got.firstOccurrence !== first) {
      diffs.push(`${name}: expected first_occurrence ${first}, got ${got.firstOccurrence}`);
    }
  }
  return diffs;
}

function describeResult(result: ComputeResult['mapping'][string]): string {
  return isResolveError(result) ? JSON.stringify(result.resolveError) : `version ${describeVersion(result.version)}`;
}
