// How a local step runs its resource type's script (check/in/out), for both local runtimes: a
// built-in type's through Jetway's resources bundle (resourceCommand), a fetched type's from its
// image's `/opt/resource/<script>`, under `root`: the image's rootfs on the host (processes) or
// `/` inside the container (containers).
import { posix } from 'node:path';
import { resourceCommand } from '../../resources/command.ts';
import type { ContainerImage, ProcessSpec } from '../runtime.ts';

export function resourceScript(image: ContainerImage, script: 'check' | 'in' | 'out', root: (image: Extract<ContainerImage, { kind: 'artifact' }>) => string): ProcessSpec {
  if (image.kind === 'base-type') {
    const { command, args } = resourceCommand(image.type, script);
    return { path: command, args };
  }
  if (image.kind === 'artifact') return { path: posix.join(root(image), 'opt', 'resource', script) };
  throw new Error(`the local runtime cannot run resource scripts from ${image.kind === 'reference' ? `the image ${image.reference}` : 'no image'}`);
}
