// One-off builds (`jetway execute`): uploaded directories come in as artifacts, and named
// artifacts go out as tarballs the client downloads. Tarballs live in the web node's artifact
// directory; the store records where.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import type { ArtifactInputPlan, ArtifactOutputPlan, PlanId } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import type { StepDeps } from './deps.ts';

/** Whether a tarball is gzipped (its magic bytes); uploads may be either. */
export async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export async function runArtifactInput(id: PlanId, plan: ArtifactInputPlan, ctx: StepContext, deps: StepDeps): Promise<boolean> {
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  const location = await deps.store.claimUploadedArtifact(plan.artifact_id, deps.build.id);
  if (!location) throw new Error(`artifact ${plan.artifact_id} (input '${plan.name}') not found`);
  const dir = join(deps.artifactsDir, 'extracted', randomUUID());
  await mkdir(dir, { recursive: true });
  await tar.x({ file: location, cwd: dir, gzip: await isGzip(location), preservePaths: false });
  ctx.state.registerArtifact(plan.name, { kind: 'volume', path: dir });
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}

export async function runArtifactOutput(id: PlanId, plan: ArtifactOutputPlan, ctx: StepContext, deps: StepDeps): Promise<boolean> {
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  const artifact = ctx.state.artifact(plan.name);
  if (!artifact) throw new Error(`output '${plan.name}' was not produced`);
  if (artifact.kind !== 'volume') throw new Error(`output '${plan.name}' is an image reference, not a directory`);
  const dir = join(deps.artifactsDir, 'outputs');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${randomUUID()}.tgz`);
  await tar.c({ gzip: true, file, cwd: artifact.path, portable: true }, ['.']);
  await deps.store.saveArtifactOutput(deps.build.id, plan.name, file);
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}

/** Streams a stored artifact tarball (gzip). */
export function artifactStream(location: string): NodeJS.ReadableStream {
  return createReadStream(location);
}
