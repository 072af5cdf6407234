// npm run --silent kube-sim:push-resource-types -- --registry HOST:PORT [--creds USER:PASS]
//
// Builds Jetway's built-in resource types as images (resource-types.ts) and pushes each as
// jetway/<type>-resource:stable, printing `HOST:PORT/jetway/<type>-resource@sha256:…` per type
// (sizes go to stderr).
import { RegistryClient } from '../../../src/images/registry-client.ts';
import { imageSize, pushImage } from './build.ts';
import { credsFlag, parseFlags, registryFlag, repoFlag, runMain } from './cli-args.ts';
import { buildResourceTypeImage, RESOURCE_TYPES, resourceRepository } from './resource-types.ts';

runMain('kube-sim:push-resource-types --registry HOST:PORT [--creds USER:PASS]', async () => {
  const flags = parseFlags(process.argv.slice(2), { values: { registry: { required: true }, creds: {} } });
  const registry = registryFlag(flags.get('registry')?.[0] ?? '');
  const creds = credsFlag(flags.get('creds')?.[0]);
  const client = new RegistryClient({ userAgent: 'kube-sim-push-resource-types' });
  for (const type of RESOURCE_TYPES) {
    const image = await buildResourceTypeImage(type);
    const repo = repoFlag(registry, resourceRepository(type));
    const digest = await pushImage(client, repo, 'stable', image, creds);
    process.stderr.write(`${type}: ${(imageSize(image) / 1024 / 1024).toFixed(1)} MiB compressed\n`);
    process.stdout.write(`${registry}/${repo.path}@${digest}\n`);
  }
});
