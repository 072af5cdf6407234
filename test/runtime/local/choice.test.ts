// Which local runtime a web node runs (docs/local-containers.md): one row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLocalRuntime, parseLocalRuntimeKind, type LocalRuntimeKind } from '../../../src/runtime/local/choice.ts';

const rows: { name: string; requested: LocalRuntimeKind | undefined; unusable: string | undefined; kind: 'processes' | 'containers'; warning?: string; probed: boolean }[] = [
  { name: 'the default (auto) is containers where runc can run', requested: undefined, unusable: undefined, kind: 'containers', probed: true },
  { name: 'auto without runc: processes, with one line saying why', requested: 'auto', unusable: 'runc is not installed at /usr/sbin/runc (apt-get install runc)', kind: 'processes', warning: 'local runtime: containers cannot run here (runc is not installed at /usr/sbin/runc (apt-get install runc)): steps run as host processes', probed: true },
  { name: 'the default when not root and rootless cannot run: processes, saying why', requested: undefined, unusable: 'no /etc/subuid range for user ci (rootless containers need one: usermod --add-subuids START-END ci)', kind: 'processes', warning: 'local runtime: containers cannot run here (no /etc/subuid range for user ci (rootless containers need one: usermod --add-subuids START-END ci)): steps run as host processes', probed: true },
  { name: 'containers asked for and usable', requested: 'containers', unusable: undefined, kind: 'containers', probed: true },
  { name: 'containers asked for, unusable: processes, saying why', requested: 'containers', unusable: 'overlay mounts fail here (x)', kind: 'processes', warning: 'local runtime: containers cannot run here (overlay mounts fail here (x)): steps run as host processes', probed: true },
  { name: 'processes asked for: no probe, no line (what npm test pins)', requested: 'processes', unusable: undefined, kind: 'processes', probed: false },
];
for (const row of rows) {
  test(`chooseLocalRuntime: ${row.name}`, async () => {
    let probed = false;
    const choice = await chooseLocalRuntime(row.requested, () => {
      probed = true;
      return Promise.resolve(row.unusable);
    });
    assert.deepEqual(choice, { kind: row.kind, ...(row.warning ? { warning: row.warning } : {}) });
    assert.equal(probed, row.probed);
  });
}

const parseRows: { name: string; value: string | undefined; expected?: LocalRuntimeKind | undefined; error?: RegExp }[] = [
  { name: 'unset', value: undefined, expected: undefined },
  { name: 'empty', value: '', expected: undefined },
  { name: 'auto', value: 'auto', expected: 'auto' },
  { name: 'processes', value: 'processes', expected: 'processes' },
  { name: 'containers', value: 'containers', expected: 'containers' },
  { name: 'anything else names the variable and the choices', value: 'docker', error: /^Error: JETWAY_LOCAL_RUNTIME: 'docker' is not one of auto, containers, processes$/ },
];
for (const row of parseRows) {
  test(`parseLocalRuntimeKind: ${row.name}`, () => {
    if (row.error) assert.throws(() => parseLocalRuntimeKind(row.value, 'JETWAY_LOCAL_RUNTIME'), (e: Error) => row.error!.test(String(e)));
    else assert.equal(parseLocalRuntimeKind(row.value, 'JETWAY_LOCAL_RUNTIME'), row.expected);
  });
}
