// What a fetched image is to a runtime: a `repository@digest` for one that boots images, its env
// (metadata.json), and the pull credentials of a registry-image source. A fetched image's directory
// was filled by a resource type's `in`, which may be a custom type's code: its files are read
// inside the artifact only, as load_var's are (src/engine/artifact-files.ts; docs/security.md
// "Builds"), so a `repository` or `metadata.json` symlinked to the web node's files is a step error.
import { ArtifactFileNotFound, readArtifactFile } from '../artifact-files.ts';
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

/** Who reads a fetched image's files, as its errors name it: the step and the image's artifact. */
export interface ImageFiles {
  /** `task 'unit'`, `image 'my-type'` */
  step: string;
  /** the artifact's name: the task's `image:`, or the image get's name */
  artifact: string;
}

const FETCHED_IMAGE: ImageFiles = { step: 'image', artifact: 'image' };

/** `repository`, `digest` and `metadata.json` are small; a larger one is refused unread. */
const IMAGE_FILE_LIMIT = 1024 * 1024;

/**
 * A file of a fetched image's directory, or undefined when it has none. Anything else the
 * directory could hold (a symlink out of it, a FIFO, a directory, a huge file) is an error.
 */
async function readImageFile(artifact: Artifact, file: string, who: ImageFiles): Promise<string | undefined> {
  try {
    return await readArtifactFile({ step: who.step, path: `${who.artifact}/${file}`, artifact: () => artifact, limit: IMAGE_FILE_LIMIT });
  } catch (err) {
    if (err instanceof ArtifactFileNotFound) return undefined;
    throw err;
  }
}

/**
 * The `repository@digest` of a fetched image: an image-reference artifact as is, else the
 * `repository` and `digest` files registry-image's `in` writes (the version's digest wins).
 */
export async function imageReferenceOf(artifact: Artifact, version?: Version, who: ImageFiles = FETCHED_IMAGE): Promise<string> {
  if (artifact.kind === 'image-ref') return artifact.reference;
  const read = async (name: string): Promise<string | undefined> => (await readImageFile(artifact, name, who))?.trim();
  const repository = await read('repository');
  const digest = version?.digest ?? (await read('digest'));
  if (!repository) {
    throw new Error('the image was fetched without a `repository` file: only registry images (registry-image, or a type that produces them) can run as pods');
  }
  return podImageReference({ repository, ...(digest ? { digest } : {}) });
}

/**
 * The env of a fetched image directory (`metadata.json` next to its rootfs): none without one or
 * with a malformed one; a metadata.json that leads out of the directory is an error.
 */
export async function fetchedImageEnv(artifact: Artifact, who: ImageFiles = FETCHED_IMAGE): Promise<Record<string, string>> {
  if (artifact.kind !== 'volume') return {};
  const text = await readImageFile(artifact, 'metadata.json', who);
  if (text === undefined) return {};
  try {
    const meta = JSON.parse(text) as { env?: unknown };
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
