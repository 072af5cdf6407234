// What a fetched image is to a runtime: a `repository@digest` for one that boots images, its env
// (metadata.json), and the pull credentials of a registry-image source.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRepository, podImageReference } from '../../images/reference.ts';
import type { Artifact } from '../../model/artifact.ts';
import type { Version } from '../../model/version.ts';
import type { PullCredentials } from '../../runtime/runtime.ts';

/** `repository` + `username`/`password` of an (interpolated) registry-image source. */
export function pullCredentialsOf(source: unknown): PullCredentials | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const { repository, username, password } = source as Record<string, unknown>;
  if (typeof repository !== 'string' || typeof username !== 'string' || typeof password !== 'string' || !username) return undefined;
  try {
    return { registry: parseRepository(repository).registry, username, password };
  } catch {
    return undefined;
  }
}

/**
 * The `repository@digest` of a fetched image: an image-reference artifact as is, else the
 * `repository` and `digest` files registry-image's `in` writes (the version's digest wins).
 */
export async function imageReferenceOf(artifact: Artifact, version?: Version): Promise<string> {
  if (artifact.kind === 'image-ref') return artifact.reference;
  const read = (name: string): Promise<string | undefined> =>
    readFile(join(artifact.path, name), 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    );
  const repository = await read('repository');
  const digest = version?.digest ?? (await read('digest'));
  if (!repository) {
    throw new Error('the image was fetched without a `repository` file: only registry images (registry-image, or a type that produces them) can run as pods');
  }
  return podImageReference({ repository, ...(digest ? { digest } : {}) });
}

/** The env of a fetched image directory (`metadata.json` next to its rootfs), if any. */
export async function fetchedImageEnv(artifact: Artifact): Promise<Record<string, string>> {
  if (artifact.kind !== 'volume') return {};
  try {
    const meta = JSON.parse(await readFile(join(artifact.path, 'metadata.json'), 'utf8')) as { env?: unknown };
    const env: Record<string, string> = {};
    for (const entry of Array.isArray(meta.env) ? meta.env : []) {
      if (typeof entry !== 'string') continue;
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
  } catch {
    return {};
  }
}
