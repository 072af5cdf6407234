// npm run --silent kube-sim:push-image -- --registry HOST:PORT [--creds USER:PASS] --repo NAME --tag TAG [--file /path/in/image=CONTENT ...]
//
// Builds a small image (the busybox base, so `sh` works, plus the given files) and pushes it to
// HOST:PORT/NAME:TAG (plain http for loopback registries); prints the manifest digest as the last line.
import { RegistryClient } from '../../../src/images/registry-client.ts';
import { buildBusyboxImage, pushImage } from './build.ts';
import { credsFlag, parseFlags, registryFlag, repoFlag, runMain, tagFlag, UsageError } from './cli-args.ts';

const USAGE = 'kube-sim:push-image --registry HOST:PORT [--creds USER:PASS] --repo NAME --tag TAG [--file /path/in/image=CONTENT ...]';

runMain(USAGE, async () => {
  const flags = parseFlags(process.argv.slice(2), {
    values: { registry: { required: true }, creds: {}, repo: { required: true }, tag: { required: true }, file: { multi: true } },
  });
  const registry = registryFlag(flags.get('registry')?.[0] ?? '');
  const repo = repoFlag(registry, flags.get('repo')?.[0] ?? '');
  const tag = tagFlag(flags.get('tag')?.[0] ?? '');
  const creds = credsFlag(flags.get('creds')?.[0]);
  const files: Record<string, string> = {};
  for (const spec of flags.get('file') ?? []) {
    const eq = spec.indexOf('=');
    const path = eq > 0 ? spec.slice(0, eq) : '';
    if (!path.startsWith('/') || path.endsWith('/') || path.split('/').includes('..')) throw new UsageError(`flag --file: '${spec}' is not /path/in/image=CONTENT`);
    files[path] = spec.slice(eq + 1);
  }
  const image = await buildBusyboxImage(files);
  const digest = await pushImage(new RegistryClient({ userAgent: 'kube-sim-push-image' }), repo, tag, image, creds);
  process.stdout.write(`pushed ${registry}/${repo.path}:${tag}\n${digest}\n`);
});
