// local_container_start_ms: on the local runtime's containers (issue 19), the time from a task
// step's container being asked for to its process running (createContainer + runc start, with the
// image already on disk), median of N; and local_container_image_disk: the disk the image cache
// and N containers of one image use, against the image's own size (goal: one unpacked copy).
// Needs runc as root (else the figures say why they are missing).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerRuntime } from '../src/runtime/local/containers/container-runtime.ts';
import { containersUnusable, DEFAULT_RUNC } from '../src/runtime/local/containers/runc.ts';
import type { Container, ContainerSpec } from '../src/runtime/runtime.ts';
import { median, type BenchContext, type BenchResult } from './harness.ts';

const BUSYBOX = '/bin/busybox';

/** A busybox image as registry-image's `in` leaves it, plus `extraMb` of files (a real image's bulk). */
function makeImage(dir: string, extraMb: number): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'usr/share/data']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  for (const applet of ['sh', 'true', 'cat', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  for (let i = 0; i < extraMb; i++) writeFileSync(join(rootfs, 'usr/share/data', `f${i}`), Buffer.alloc(1 << 20, i));
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ env: ['PATH=/bin'], user: '' }));
  return dir;
}

function diskKb(path: string): number {
  return Number(execFileSync('du', ['-skx', path], { encoding: 'utf8' }).split('\t')[0]);
}

export async function benchLocalContainers(ctx: BenchContext): Promise<BenchResult> {
  const why = await containersUnusable(DEFAULT_RUNC);
  if (why) {
    ctx.progress(`skipped: ${why}`);
    return { key: 'local_container_start_ms', title: `local runtime containers: skipped (${why})`, value: {}, unit: '' };
  }
  const root = mkdtempSync(join(tmpdir(), 'jw-bench-containers-'));
  const runtime = new ContainerRuntime({ root: join(root, 'worker'), failedRetentionMs: 0 });
  try {
    const image = makeImage(join(root, 'image'), 50);
    const spec = (handle: string): ContainerSpec => ({
      handle,
      metadata: { type: 'task', buildId: 1 },
      image: { kind: 'artifact', artifact: { kind: 'volume', path: image } },
      inputs: [],
      outputs: [],
    });
    const runs = ctx.quick ? 5 : 15;
    ctx.progress(`${runs + 1} tasks on a cached image: step start to process running`);
    const samples: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const started = performance.now();
      const c = await runtime.createContainer(spec(`start-${i}`), new AbortController().signal);
      let runningAt = 0;
      (c as Container & { onStarted?: () => void }).onStarted = () => (runningAt = performance.now());
      await c.run({ path: 'true' }, { stdout: () => undefined, stderr: () => undefined }, new AbortController().signal);
      await c.destroy();
      if (i > 0) samples.push(Math.round((runningAt - started) * 100) / 100); // the first prepares the base image
    }
    const n = ctx.quick ? 5 : 20;
    ctx.progress(`${n} containers of one image at once: disk use`);
    const containers: Container[] = [];
    for (let i = 0; i < n; i++) containers.push(await runtime.createContainer(spec(`disk-${i}`), new AbortController().signal));
    const imageKb = diskKb(join(image, 'rootfs'));
    const containersKb = diskKb(join(root, 'worker', 'containers'));
    for (const c of containers) await c.destroy();
    return {
      key: 'local_container_start_ms',
      title: `local runtime containers: step start to process running (median of ${runs}, cached image; goal < 150 ms)`,
      value: median(samples),
      unit: 'ms',
      samples,
      extra: {
        local_container_image_disk: { containers: n, image_mb: Math.round(imageKb / 102.4) / 10, containers_mb: Math.round(containersKb / 102.4) / 10, unpacked_copies: Math.round(((imageKb + containersKb) / imageKb) * 100) / 100 },
      },
    };
  } finally {
    await runtime.close();
    rmSync(root, { recursive: true, force: true });
  }
}
