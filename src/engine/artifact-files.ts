// Reading one file out of a build's artifact (`<artifact>/<path>`), for the steps that do it in
// the web node itself: load_var `file:`, task `file:`, set_pipeline `file:` and `var_files:`.
// An artifact is a directory a task, a get or an upload filled, so its content is the build's
// code: a `..`, an absolute path or a symlink must not lead out of it into the web node's own
// files (issue 16, finding 3; docs/security.md "Builds"). The file is resolved after following
// symlinks and must stay inside the artifact's resolved root; it must be a regular file no larger
// than a limit. Every refusal is one line naming the step, the path and the artifact, never the
// volume's path on the web node.
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import type { Artifact } from '../model/artifact.ts';

/** The most a vars file, a task config or a pipeline read from an artifact may hold: 10 MiB. */
export const ARTIFACT_FILE_LIMIT = 10 * 1024 * 1024;

/** A file an artifact cannot give; its message is the step's error as the user reads it. */
export class ArtifactFileError extends Error {}

/** The file is not in the artifact (nor a dangling symlink's target): a reader for which it is optional tells it apart. */
export class ArtifactFileNotFound extends ArtifactFileError {}

export interface ArtifactFileRequest {
  /** the step, as its errors name it: `load_var 'v'`, `task 'unit'`, `set_pipeline 'child'` */
  step: string;
  /** `<artifact>/<path inside it>`, as the pipeline wrote it */
  path: string;
  /** the build's artifact of a name (RunState.artifact) */
  artifact: (name: string) => Artifact | undefined;
  /** bytes; ARTIFACT_FILE_LIMIT by default */
  limit?: number;
}

/** The artifact's name and the normalized path inside it; refuses paths that leave it by their text alone. */
export function splitArtifactPath(step: string, path: string): { artifactName: string; inside: string } {
  // JSON quoting shows control characters instead of printing them into the log
  const shown = JSON.stringify(path).slice(1, -1);
  if (path.includes('\0')) throw new ArtifactFileError(`${step}: file '${shown}' contains a NUL byte`);
  if (path.startsWith('/')) throw new ArtifactFileError(`${step}: file '${shown}' is an absolute path; name a file inside an artifact as <artifact>/<path>`);
  const slash = path.indexOf('/');
  const artifactName = slash < 0 ? path : path.slice(0, slash);
  const rest = slash < 0 ? '' : path.slice(slash + 1);
  if (artifactName === '' || artifactName === '.' || artifactName === '..' || rest.replace(/\/+$/, '') === '') {
    throw new ArtifactFileError(`${step}: file '${shown}' names no file inside an artifact; write <artifact>/<path>`);
  }
  const inside = posix.normalize(rest.replace(/^\/+/, ''));
  if (inside === '..' || inside.startsWith('../')) throw new ArtifactFileError(`${step}: file '${shown}' is outside artifact '${artifactName}'`);
  return { artifactName, inside };
}

/**
 * The file's text (UTF-8). Refuses, as an ArtifactFileError: an unknown artifact or an image
 * reference, a path that leaves the artifact (by `..` or through a symlink), a missing file,
 * anything but a regular file, and a file over the limit.
 */
export async function readArtifactFile(req: ArtifactFileRequest): Promise<string> {
  const { step, path } = req;
  const limit = req.limit ?? ARTIFACT_FILE_LIMIT;
  const shown = JSON.stringify(path).slice(1, -1);
  const { artifactName, inside } = splitArtifactPath(step, path);
  const artifact = req.artifact(artifactName);
  if (!artifact) throw new ArtifactFileError(`${step}: unknown artifact '${artifactName}' in '${shown}'`);
  if (artifact.kind !== 'volume') throw new ArtifactFileError(`${step}: artifact '${artifactName}' is an image reference; '${shown}' cannot be read from it`);
  const where = `file '${shown}'`;
  const notFound = (): ArtifactFileError => new ArtifactFileNotFound(`${step}: ${where} not found in artifact '${artifactName}'`);
  const outside = (): ArtifactFileError => new ArtifactFileError(`${step}: ${where} is outside artifact '${artifactName}' (through a symlink)`);

  const root = await realpath(artifact.path).catch(() => {
    throw new ArtifactFileError(`${step}: artifact '${artifactName}' is no longer available`);
  });
  let resolved: string;
  try {
    resolved = await realpath(join(root, inside));
  } catch (err) {
    if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) throw notFound();
    if (isCode(err, 'ELOOP')) throw new ArtifactFileError(`${step}: ${where} in artifact '${artifactName}' is a symlink loop`);
    throw new ArtifactFileError(`${step}: ${where} in artifact '${artifactName}' cannot be read (${codeOf(err)})`);
  }
  if (!within(root, resolved)) throw outside();
  const notRegular = (): ArtifactFileError => new ArtifactFileError(`${step}: ${where} in artifact '${artifactName}' is not a regular file`);
  // before opening: opening a device or a FIFO can have effects of its own
  if (!(await lstat(resolved).then((s) => s.isFile(), () => false))) throw notRegular();

  // O_NOFOLLOW: the resolved path's last part cannot have become a symlink since; O_NONBLOCK: a
  // FIFO planted in the artifact cannot hang the web node on open (it is refused below).
  let handle;
  try {
    handle = await open(resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isCode(err, 'ENOENT')) throw notFound();
    if (isCode(err, 'ELOOP')) throw outside();
    throw new ArtifactFileError(`${step}: ${where} in artifact '${artifactName}' cannot be read (${codeOf(err)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notRegular();
    // A directory above the file swapped for a symlink between realpath and open would go
    // unseen by the check above: on Linux, ask the kernel where the open file really is.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => resolved);
    if (!within(root, opened)) throw outside();
    const tooLarge = (): ArtifactFileError =>
      new ArtifactFileError(`${step}: ${where} in artifact '${artifactName}' is larger than the ${formatBytes(limit)} limit`);
    if (stat.size > limit) throw tooLarge();
    // read at most limit + 1 bytes: a file that grows while it is read is still bounded
    const buffer = Buffer.alloc(Math.min(stat.size, limit) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > limit) throw tooLarge();
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function codeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
