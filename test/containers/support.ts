// Images for the container runtime's tests, made on disk as registry-image's `in` leaves them
// (rootfs/ + metadata.json), from the host's static busybox: no registry needed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RUNC, probeContainers } from '../../src/runtime/local/containers/runc.ts';

export const BUSYBOX = '/bin/busybox';

/** Why these tests cannot run here (skipped with it), or false. */
export async function skipContainers(): Promise<string | false> {
  if (!existsSync(BUSYBOX)) return `no static ${BUSYBOX} for the test image`;
  const mode = await probeContainers(DEFAULT_RUNC);
  if (mode.mode === 'unusable') return mode.reason;
  // these tests make rootful runtimes; rootless containers have their own (rootless.test.ts)
  return mode.mode === 'rootful' ? false : 'the tests run as a user that is not root (rootless containers: test/containers/rootless.test.ts, run as root)';
}

export interface ImageDirOptions {
  env?: string[];
  user?: string;
  files?: Record<string, string>;
}

/** A busybox image directory: every applet linked in /bin, root and `nonroot` (1000) users. */
export function busyboxImage(dir: string, opts: ImageDirOptions = {}): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/nonroot']) mkdirSync(join(rootfs, d), { recursive: true });
  execFileSync('chmod', ['1777', join(rootfs, 'tmp')]);
  execFileSync('chown', ['1000:1000', join(rootfs, 'home/nonroot')]);
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:1000:1000:nonroot:/home/nonroot:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnonroot:x:1000:\nextra:x:2000:nonroot\n');
  for (const [path, content] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(rootfs, path, '..'), { recursive: true });
    writeFileSync(join(rootfs, path), content, { mode: 0o755 });
  }
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ env: opts.env ?? ['PATH=/bin'], user: opts.user ?? '' }));
  return dir;
}
