// `jetway images push`: builds the images Jetway needs (the web node, the helper, each built-in
// resource type; src/packaging/images.ts) and pushes them to a registry the user names, without a
// Docker daemon. Prints each `repository@digest` (JSON with --json); progress goes to stderr.
// The same inputs give the same digests (docs/kubernetes-runtime.md, "Images").
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseRepository, tagProblem } from '../../images/reference.ts';
import type { RegistryCredentials } from '../../images/registry-client.ts';
import { errorText } from '../../log.ts';
import { JETWAY_VERSION } from '../../version.ts';
import { CliExit, usageError, type CliIO } from '../io.ts';

interface PushOptions {
  registry: string;
  username?: string;
  password?: string;
  passwordFile?: string;
  passwordStdin?: boolean;
  tag: string;
  json?: boolean;
  insecure?: boolean;
  busybox: string;
  allowMissingApplet: string[];
  only: string[];
  cacheDir?: string;
}

/** One pushed image, as printed with --json. */
export interface PushedImageJson {
  /** `web`, `helper` or a resource type */
  name: string;
  /** `REG/jetway/helper` */
  repository: string;
  tag: string;
  digest: string;
  /** `REG/jetway/helper@sha256:…` */
  reference: string;
  /** bytes stored in the registry (config, compressed layers, manifest) */
  size: number;
}

/** `REG` is `host[:port]` with an optional path prefix; returns it without trailing slashes, or throws a usage error. */
export function registryArgument(value: string): string {
  const reg = value.replace(/\/+$/, '');
  const first = reg.split('/')[0] ?? '';
  if (!/[.:]/.test(first) && first !== 'localhost') {
    throw usageError(`error: --registry '${value}' must start with a registry host (with a '.' or a port, or localhost), e.g. registry.example.com/team or 127.0.0.1:5000`);
  }
  try {
    parseRepository(`${reg}/jetway/helper`);
  } catch (err) {
    throw usageError(`error: --registry '${value}': ${errorText(err)}`);
  }
  return reg;
}

/** The registry password: exactly one of --password (or JETWAY_REGISTRY_PASSWORD), --password-file, --password-stdin. */
async function credentials(opts: PushOptions, io: CliIO): Promise<RegistryCredentials | undefined> {
  const sources = [opts.password !== undefined, opts.passwordFile !== undefined, opts.passwordStdin === true].filter(Boolean).length;
  if (sources > 1) throw usageError('error: give the registry password one way: --password (or JETWAY_REGISTRY_PASSWORD), --password-file or --password-stdin');
  let password: string | undefined = opts.password;
  if (opts.passwordFile !== undefined) {
    try {
      password = readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw usageError(`error: --password-file ${opts.passwordFile}: ${errorText(err)}`);
    }
  }
  if (opts.passwordStdin) {
    let text = '';
    if (io.stdin) for await (const chunk of io.stdin) text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    password = text.replace(/\r?\n$/, '');
  }
  if (opts.username === undefined && password === undefined) return undefined;
  if (opts.username === undefined || opts.username === '') throw usageError('error: a registry password needs --username (or JETWAY_REGISTRY_USERNAME)');
  if (password === undefined || password === '') {
    throw usageError('error: --username needs a password: --password-file, --password-stdin or JETWAY_REGISTRY_PASSWORD');
  }
  return { username: opts.username, password };
}

export function registerImages(program: Command, io: CliIO): void {
  const images = program.command('images').description("build and push the images Jetway needs on Kubernetes (no Docker daemon needed)");
  images
    .command('push')
    .description(
      'build the web node (jetway/jetway), the helper (jetway/helper) and each built-in resource type (jetway/<type>-resource) and push them to REG; prints each repository@digest',
    )
    .requiredOption('--registry <REG>', 'where to push: a registry host with an optional path prefix (registry.example.com/team, 127.0.0.1:5000)')
    .addOption(new Option('--username <user>', 'registry user').env('JETWAY_REGISTRY_USERNAME'))
    .addOption(new Option('--password <password>', 'registry password (prefer the environment variable or --password-file: arguments are visible to other users)').env('JETWAY_REGISTRY_PASSWORD'))
    .option('--password-file <file>', 'read the registry password from a file (a trailing newline is dropped)')
    .option('--password-stdin', 'read the registry password from stdin')
    .option('--tag <tag>', 'the tag pushed with each image (the defaults of deploy/ and of jetway web name this version)', JETWAY_VERSION)
    .option('--json', 'print the pushed images as JSON')
    .option('--insecure', 'plain http to a registry that is not on this machine (loopback registries always are)')
    .option('--busybox <path>', "the static busybox of every image (its applets must include the runtime's, chpst too)", '/bin/busybox')
    .option('--allow-missing-applet <applet>', 'push a helper whose busybox lacks this applet (repeatable; e.g. chpst: tasks with a named run.user then fail clearly)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--only <image>', 'only this image (repeatable): web, helper, or a resource type (mock, time, git, registry-image)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('--cache-dir <dir>', 'where the fetched Node distribution is kept (default $XDG_CACHE_HOME/jetway or ~/.cache/jetway)').env('JETWAY_CACHE_DIR'))
    .action(async (opts: PushOptions) => {
      const registry = registryArgument(opts.registry);
      const problem = tagProblem(opts.tag);
      if (problem) throw usageError(`error: --tag '${opts.tag}': ${problem}`);
      const creds = await credentials(opts, io);
      // loaded here: the images' code bundles with esbuild, which the web node never needs
      const { pushImageSet } = await import('../../packaging/push.ts');
      let pushed: PushedImageJson[];
      try {
        pushed = await pushImageSet({
          registry,
          tag: opts.tag,
          ...(creds ? { credentials: creds } : {}),
          insecure: opts.insecure === true,
          busyboxPath: opts.busybox,
          allowMissingApplets: opts.allowMissingApplet,
          only: opts.only,
          ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
          progress: (line) => io.stderr(`${line}\n`),
          pushed: (p) => {
            if (!opts.json) io.stdout(`${p.reference}\n`);
          },
        });
      } catch (err) {
        if (err instanceof CliExit) throw err;
        throw new CliExit(1, `error: ${errorText(err)}`);
      }
      if (opts.json) io.stdout(`${JSON.stringify({ registry, tag: opts.tag, images: pushed }, null, 2)}\n`);
    });
}
