// parseGetcap (src/runtime/local/containers/rootfs.ts): which of getcap's lines are put back on a
// team's shifted image copy. An image is untrusted: a line counts only for a regular file the walk
// found, with a capability text after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGetcap } from '../../../src/runtime/local/containers/rootfs.ts';

const files = new Set(['/c/rootfs/bin/ping', '/c/rootfs/bin/my tool', '/c/rootfs/usr/bin/arping']);

const rows: { name: string; lines: string[]; expected: { file: string; caps: string }[] }[] = [
  { name: 'one file, one capability', lines: ['/c/rootfs/bin/ping cap_net_raw=ep'], expected: [{ file: '/c/rootfs/bin/ping', caps: 'cap_net_raw=ep' }] },
  { name: 'several capabilities and clauses', lines: ['/c/rootfs/usr/bin/arping cap_net_admin,cap_net_raw+eip cap_sys_nice=p'], expected: [{ file: '/c/rootfs/usr/bin/arping', caps: 'cap_net_admin,cap_net_raw+eip cap_sys_nice=p' }] },
  { name: 'a space in the file name', lines: ['/c/rootfs/bin/my tool cap_net_raw=ep'], expected: [{ file: '/c/rootfs/bin/my tool', caps: 'cap_net_raw=ep' }] },
  { name: 'a path the walk did not find (a name made up by a line break)', lines: ['/etc/shadow cap_net_raw=ep'], expected: [] },
  { name: 'not a capability text', lines: ['/c/rootfs/bin/ping ; rm -rf /'], expected: [] },
  { name: 'an empty capability text', lines: ['/c/rootfs/bin/ping '], expected: [] },
  { name: 'no capability at all', lines: ['/c/rootfs/bin/ping'], expected: [] },
  { name: 'numbered capabilities (newer than libcap knows) and all', lines: ['/c/rootfs/bin/ping 41,all=ep'], expected: [{ file: '/c/rootfs/bin/ping', caps: '41,all=ep' }] },
];

for (const row of rows) test(`parseGetcap: ${row.name}`, () => assert.deepEqual(parseGetcap(row.lines, files), row.expected));
