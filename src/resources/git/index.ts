// The `git` resource type (github.com/concourse/git-resource), on the `git` binary.
//
// source: uri (required), branch, paths, ignore_paths, private_key, private_key_passphrase,
//   username, password, tag_filter, tag_regex, disable_ci_skip, version_depth, git_config.
// check: commits `{"ref": sha}` on the branch after the given one, oldest first (first check, or
//   a given ref no longer on the branch: the newest only); with tag_filter/tag_regex the newest
//   matching tag as `{"ref": tag, "commit": sha}`.
// in: clones at the ref (params depth, submodules) and writes .git/ref and friends; metadata
//   commit, author, author_date, committer, committer_date, branch, tags, message.
// out: pushes params.repository (a directory under the inputs) to the branch; params rebase,
//   merge, tag (a file holding the tag name), tag_prefix, annotate, force, only_tag.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Fields, isObject, toVersion } from '../fields.ts';
import { ResourceError, type CheckRequest, type InRequest, type Metadata, type OutRequest, type ResourceContext, type ResourceResult, type ResourceTypeImpl } from '../protocol.ts';
import type { Version } from '../../model/version.ts';
import { withGit, type GitCredentials, type GitSession } from './git.ts';

export interface GitSource {
  uri: string;
  branch: string | undefined;
  paths: string[] | undefined;
  ignorePaths: string[] | undefined;
  tagFilter: string | undefined;
  tagRegex: string | undefined;
  disableCiSkip: boolean;
  versionDepth: number;
  creds: GitCredentials;
}

export function parseSource(raw: CheckRequest['source'] | undefined): GitSource {
  const f = new Fields(raw ?? {}, 'source');
  const uri = (f.string('uri') ?? '').trim();
  if (uri === '') throw new ResourceError('source.uri is required and must not be empty');
  const tagFilter = f.string('tag_filter')?.trim() || undefined;
  const tagRegex = f.string('tag_regex')?.trim() || undefined;
  if (tagFilter && tagRegex) throw new ResourceError('Cannot provide both tag_filter and tag_regex');
  const versionDepth = f.int('version_depth') ?? 1;
  if (versionDepth <= 0) throw new ResourceError('invalid source.version_depth: must be greater than 0');
  const config: { name: string; value: string }[] = [];
  for (const [i, entry] of (f.list('git_config') ?? []).entries()) {
    const e = new Fields(isObject(entry) ? entry : undefined, `source.git_config[${i}]`);
    const name = e.string('name');
    if (!name) throw new ResourceError(`invalid source.git_config[${i}]: expected {name, value}`);
    config.push({ name, value: e.string('value') ?? '' });
  }
  const { uri: bareUri, username: uriUser, password: uriPassword } = splitUserinfo(uri);
  const username = f.string('username');
  const password = f.string('password');
  return {
    uri: bareUri,
    branch: f.string('branch')?.trim() || undefined,
    paths: f.stringList('paths'),
    ignorePaths: f.stringList('ignore_paths'),
    tagFilter,
    tagRegex,
    disableCiSkip: f.bool('disable_ci_skip'),
    versionDepth,
    creds: {
      // credentials written into an http(s) uri go through askpass like source.username/password
      username: username ?? uriUser,
      password: password ?? uriPassword,
      config,
      privateKey: f.string('private_key'),
      privateKeyPassphrase: f.string('private_key_passphrase'),
    },
  };
}

/**
 * An http(s) uri without its `user:password@`, and the two decoded: git would otherwise get them
 * as an argument (readable by every local user) and store them in the clone's remote. Other
 * schemes keep their user (`ssh://git@host/...`: a login name, not a secret).
 */
export function splitUserinfo(uri: string): { uri: string; username?: string; password?: string } {
  const m = /^(https?:\/\/)([^/@?#]*)@(.*)$/i.exec(uri);
  if (!m) return { uri };
  const [, scheme = '', userinfo = '', rest = ''] = m;
  const colon = userinfo.indexOf(':');
  const decode = (v: string): string => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1));
  return { uri: `${scheme}${rest}`, ...(username !== '' ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** `-- paths :!ignored` when the source filters paths, else nothing. */
function pathspec(src: GitSource): string[] {
  if (!src.paths?.length && !src.ignorePaths?.length) return [];
  const paths = src.paths?.length ? src.paths : ['.'];
  return ['--', ...paths, ...(src.ignorePaths ?? []).map((p) => `:!${p}`)];
}

function skipCiArgs(src: GitSource): string[] {
  return src.disableCiSkip ? [] : ['-E', '--invert-grep', '--grep=\\[(ci[[:space:]]skip|skip[[:space:]]ci)\\]'];
}

/** The range start (`^ref~1`, or nothing for a root commit) when `ref` is a commit on HEAD's history. */
async function rangeExclusion(git: GitSession, cwd: string, ref: string, mustBeAncestor: boolean): Promise<string[] | undefined> {
  if (!(await git.succeeds(['cat-file', '-e', `${ref}^{commit}`], { cwd }))) return undefined;
  if (mustBeAncestor && !(await git.succeeds(['merge-base', '--is-ancestor', `${ref}^{commit}`, 'HEAD'], { cwd }))) return undefined;
  const parents = lines(await git.output(['rev-list', '--parents', '-n', '1', `${ref}^{commit}`], { cwd }))[0]?.split(' ') ?? [];
  return parents.length > 1 ? [`^${ref}~1`] : [];
}

async function check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
  const src = parseSource(req.source);
  const given = req.version ? toVersion(req.version) : undefined;
  const ref = given?.ref;
  const tagMode = src.tagFilter !== undefined || src.tagRegex !== undefined;

  return withGit(src.creds, ctx.stderr, ctx.signal, async (git) => {
    const repo = join(git.workdir, 'repo.git');
    const clone = ['clone', '--bare', '--quiet'];
    if (!tagMode) clone.push('--single-branch', '--no-tags');
    if (src.branch) clone.push('--branch', src.branch);
    clone.push('--', src.uri, repo);
    await git.run(clone, { log: true });
    return checkRepository(git, repo, src, ref);
  });
}

/**
 * The versions of a check, read from a bare repository holding the source's refs: a fresh clone
 * (the script) or the web node's mirror of the source (in-process checks, mirror.ts). One
 * function for both, so both answer the same.
 */
export async function checkRepository(git: GitSession, repo: string, src: GitSource, ref: string | undefined): Promise<Version[]> {
  const tagMode = isTagMode(src);
  const c: string[] = [];

  if (!(await git.succeeds([...c, 'rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd: repo }))) {
    git.log('the repository has no commits yet\n');
    return [];
  }

  if (!tagMode) {
    const exclusion = ref ? await rangeExclusion(git, repo, ref, true) : undefined;
    const args = [...c, 'rev-list', '--first-parent', ...skipCiArgs(src)];
    if (exclusion) args.push('--reverse', 'HEAD', ...exclusion);
    else args.push('-n', String(src.versionDepth), 'HEAD');
    args.push(...pathspec(src));
    let shas = lines(await git.output(args, { cwd: repo }));
    if (!exclusion) shas = shas.reverse();
    return shas.map((sha) => ({ ref: sha }));
  }

  // Tags: the newest tags (by creation date) matching the filter whose commits pass the other filters.
  const tagArgs = [...c, 'tag', '--sort=creatordate'];
  const refIsTag = ref !== undefined && (await git.succeeds([...c, 'rev-parse', '--verify', '-q', `refs/tags/${ref}`], { cwd: repo }));
  if (ref && refIsTag && src.branch) tagArgs.push('--contains', ref, '--merged', src.branch);
  else if (src.branch) tagArgs.push('--merged', src.branch);
  if (src.tagFilter) tagArgs.push('--list', src.tagFilter);
  let tags = lines(await git.output(tagArgs, { cwd: repo }));
  if (src.tagRegex) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${src.tagRegex})$`);
    } catch {
      throw new ResourceError(`invalid source.tag_regex: ${src.tagRegex}`);
    }
    tags = tags.filter((t) => re.test(t));
  }
  if (ref && refIsTag && !src.branch) {
    const at = tags.indexOf(ref);
    if (at >= 0) tags = tags.slice(at);
  }
  if (tags.length === 0) return [];

  const exclusion = ref && refIsTag ? await rangeExclusion(git, repo, ref, false) : undefined;
  const allowed = new Set(
    lines(await git.output([...c, 'rev-list', '--all', '--first-parent', ...skipCiArgs(src), ...(exclusion ?? []), ...pathspec(src)], { cwd: repo })),
  );
  const versions: Version[] = [];
  for (const tag of tags) {
    const commit = await git.output([...c, 'rev-list', '-n', '1', `refs/tags/${tag}`], { cwd: repo });
    if (allowed.has(commit)) versions.push({ ref: tag, commit });
  }
  return versions.slice(-src.versionDepth);
}

/** Whether the source checks tags (tag_filter / tag_regex) rather than a branch's commits. */
export function isTagMode(src: GitSource): boolean {
  return src.tagFilter !== undefined || src.tagRegex !== undefined;
}

const METADATA_FORMAT = ['%H', '%an', '%ae', '%ai', '%cn', '%ce', '%ci', '%ct', '%B'].join('%x00');

interface CommitInfo {
  sha: string;
  author: string;
  authorEmail: string;
  authorDate: string;
  committer: string;
  committerEmail: string;
  committerDate: string;
  commitTimestamp: string;
  message: string;
}

async function commitInfo(git: GitSession, cwd: string): Promise<CommitInfo> {
  const out = (await git.run(['log', '-1', `--format=${METADATA_FORMAT}`, 'HEAD'], { cwd })).stdout;
  const [sha = '', author = '', authorEmail = '', authorDate = '', committer = '', committerEmail = '', committerDate = '', ts = '', ...rest] =
    out.split('\0');
  return {
    sha,
    author,
    authorEmail,
    authorDate,
    committer,
    committerEmail,
    committerDate,
    commitTimestamp: ts,
    message: rest.join('\0').replace(/\n+$/, ''),
  };
}

async function gitMetadata(git: GitSession, cwd: string, branch: string | undefined): Promise<{ info: CommitInfo; tags: string[]; metadata: Metadata }> {
  const info = await commitInfo(git, cwd);
  const tags = lines(await git.output(['tag', '--points-at', 'HEAD'], { cwd }));
  const metadata: Metadata = [
    { name: 'commit', value: info.sha },
    { name: 'author', value: info.author },
    { name: 'author_date', value: info.authorDate },
  ];
  if (info.committer !== info.author || info.committerEmail !== info.authorEmail) metadata.push({ name: 'committer', value: info.committer });
  metadata.push({ name: 'committer_date', value: info.committerDate });
  if (branch) metadata.push({ name: 'branch', value: branch });
  if (tags.length > 0) metadata.push({ name: 'tags', value: tags.join(',') });
  metadata.push({ name: 'message', value: info.message });
  return { info, tags, metadata };
}

/** Resolves `path` inside `dir`, refusing paths that escape it. */
function inside(dir: string, path: string, what: string): string {
  const target = resolve(dir, path);
  const rel = relative(resolve(dir), target);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ResourceError(`${what} '${path}' is outside the sources directory`);
  return target;
}

async function get(req: InRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const src = parseSource(req.source);
  const version = toVersion(req.version);
  const ref = version.ref;
  if (!ref) throw new ResourceError('invalid version: missing "ref"');
  const params = new Fields(req.params ?? {}, 'params');
  const depth = params.int('depth');
  if (depth !== undefined && depth < 0) throw new ResourceError('invalid params.depth: must be positive');
  const submodulesRaw = params.raw('submodules');
  let submodules: 'all' | 'none' | string[] = 'all';
  if (submodulesRaw === 'none') submodules = 'none';
  else if (Array.isArray(submodulesRaw)) submodules = params.stringList('submodules') ?? [];
  else if (submodulesRaw !== undefined && submodulesRaw !== 'all') throw new ResourceError('invalid params.submodules: expected "all", "none" or a list of paths');

  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new ResourceError(`destination '${dir}' is not empty`);

  return withGit(src.creds, ctx.stderr, ctx.signal, async (git) => {
    const c: string[] = [];
    const clone = [...c, 'clone', '--quiet'];
    if (depth) clone.push('--depth', String(depth));
    if (src.branch) clone.push('--branch', src.branch, '--single-branch');
    clone.push('--', src.uri, dir);
    git.log(`Cloning ${src.uri}${src.branch ? ` (branch ${src.branch})` : ''}\n`);
    await git.run(clone, { log: true });

    const found = (): Promise<boolean> => git.succeeds([...c, 'cat-file', '-e', `${ref}^{commit}`], { cwd: dir });
    if (!(await found())) {
      // Maybe a tag outside the cloned branch, or a commit beyond the shallow depth.
      await git.run([...c, 'fetch', '--quiet', 'origin', `+refs/tags/${ref}:refs/tags/${ref}`], { cwd: dir, allowFailure: true });
      for (let deepen = depth ?? 0; !(await found()) && depth && deepen < 4096; deepen *= 2) {
        await git.run([...c, 'fetch', '--quiet', `--deepen=${deepen}`, 'origin'], { cwd: dir, allowFailure: true });
      }
      if (!(await found()) && existsSync(join(dir, '.git', 'shallow'))) {
        await git.run([...c, 'fetch', '--quiet', '--unshallow', 'origin'], { cwd: dir, allowFailure: true });
      }
      if (!(await found())) throw new ResourceError(`ref ${ref} not found in ${git.redact(src.uri)}${src.branch ? ` on branch ${src.branch}` : ''}`);
    }

    const checkout = [...c, '-c', 'advice.detachedHead=false', 'checkout', '--quiet'];
    if (src.branch) checkout.push('-B', src.branch);
    checkout.push(`${ref}^{commit}`);
    await git.run(checkout, { cwd: dir });

    if (submodules !== 'none' && existsSync(join(dir, '.gitmodules'))) {
      const sub = [...c, '-c', 'protocol.file.allow=always', 'submodule', 'update', '--init', '--recursive', '--quiet'];
      if (depth) sub.push('--depth', String(depth));
      if (Array.isArray(submodules)) sub.push('--', ...submodules);
      await git.run(sub, { cwd: dir, log: true });
    }

    const { info, tags, metadata } = await gitMetadata(git, dir, src.branch);
    const gitDir = join(dir, '.git');
    const files: Record<string, string> = {
      ref: `${ref}\n`,
      short_ref: `${info.sha.slice(0, 7)}\n`,
      commit: `${info.sha}\n`,
      commit_message: `${info.message}\n`,
      author: `${info.author}\n`,
      author_date: `${info.authorDate}\n`,
      committer: `${info.committerEmail}\n`,
      committer_name: `${info.committer}\n`,
      commit_timestamp: `${info.commitTimestamp}\n`,
      tags: tags.join(','),
    };
    if (src.branch) files.branch = `${src.branch}\n`;
    for (const [name, content] of Object.entries(files)) await writeFile(join(gitDir, name), content);

    return { version, metadata };
  });
}

/** Whether a failed push was rejected because the branch moved (so a rebase can retry). */
function rejectedAsStale(stderr: string): boolean {
  return /\[rejected\]|\[remote rejected\].*cannot lock ref|non-fast-forward|fetch first/.test(stderr);
}

const MAX_PUSH_ATTEMPTS = 10;

async function put(req: OutRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
  const src = parseSource(req.source);
  const params = new Fields(req.params ?? {}, 'params');
  const repository = params.string('repository');
  if (!repository) throw new ResourceError('invalid payload (missing params.repository)');
  const onlyTag = params.bool('only_tag');
  const rebase = params.bool('rebase');
  const merge = params.bool('merge');
  const force = params.bool('force');
  const branch = params.string('branch') || src.branch;
  if (!branch && !onlyTag) throw new ResourceError('invalid payload (missing branch)');
  if (rebase && merge) throw new ResourceError('invalid push strategy (either merge or rebase can be set, but not both)');

  const repoDir = inside(dir, repository, 'params.repository');
  if (!existsSync(join(repoDir, '.git')) && !existsSync(join(repoDir, 'HEAD'))) {
    throw new ResourceError(`params.repository '${repository}' is not a git repository`);
  }

  let tagName: string | undefined;
  const tagFile = params.string('tag');
  if (tagFile) {
    try {
      tagName = (await readFile(inside(dir, tagFile, 'params.tag'), 'utf8')).trim();
    } catch (err) {
      if (err instanceof ResourceError) throw err;
      throw new ResourceError(`tag file '${tagFile}' does not exist`);
    }
    if (tagName === '') throw new ResourceError(`tag file '${tagFile}' is empty`);
  }
  const tagPrefix = params.string('tag_prefix') ?? '';
  const annotateFile = params.string('annotate');
  const annotatePath = annotateFile ? inside(dir, annotateFile, 'params.annotate') : undefined;
  if (annotatePath && !existsSync(annotatePath)) throw new ResourceError(`annotation file '${annotateFile}' does not exist`);

  return withGit(src.creds, ctx.stderr, ctx.signal, async (git) => {
    const cwd = repoDir;
    const c: string[] = [];
    // Rebasing, merging and annotated tags write commits or tags: supply an identity if the repository has none.
    if (!(await git.succeeds([...c, 'config', 'user.email'], { cwd }))) c.push('-c', 'user.name=jetway', '-c', 'user.email=jetway@localhost');

    const tag = async (): Promise<void> => {
      if (!tagName) return;
      const args = [...c, 'tag', '-f', `${tagPrefix}${tagName}`];
      if (annotatePath) args.push('-a', '-F', annotatePath);
      await git.run(args, { cwd });
    };
    const push = (): Promise<{ code: number; stderr: string }> =>
      git.run([...c, 'push', '--tags', src.uri, `HEAD:refs/heads/${branch}`, ...(force ? ['--force'] : [])], { cwd, log: true, allowFailure: true });

    if (onlyTag) {
      await tag();
      await git.run([...c, 'push', '--tags', src.uri, ...(force ? ['--force'] : [])], { cwd, log: true });
    } else if (rebase || merge) {
      for (let attempt = 1; ; attempt++) {
        git.log(rebase ? 'rebasing...\n' : 'merging...\n');
        const pull = rebase ? ['pull', '--rebase=merges', '--no-edit'] : ['pull', '--no-rebase', '--no-edit'];
        await git.run([...c, ...pull, src.uri, branch ?? ''], { cwd, log: true });
        await tag();
        const result = await push();
        if (result.code === 0) break;
        if (!rejectedAsStale(result.stderr)) throw new ResourceError(`push failed:\n${git.redact(result.stderr.trim())}`);
        if (attempt >= MAX_PUSH_ATTEMPTS) throw new ResourceError(`push still rejected after ${attempt} attempts`);
        git.log('the branch moved; trying again\n');
      }
    } else {
      await tag();
      const result = await push();
      if (result.code !== 0) throw new ResourceError(`push failed:\n${git.redact(result.stderr.trim())}`);
    }
    git.log('pushed\n');

    const { info, metadata } = await gitMetadata(git, cwd, branch);
    const version: Version = { ref: info.sha };
    if (params.string('branch')) version.branch = branch ?? '';
    return { version, metadata };
  });
}

export const gitResource: ResourceTypeImpl = { name: 'git', check, in: get, out: put };
export default gitResource;
