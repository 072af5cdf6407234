// `jetway edit-target`'s edit of the targets file (src/cli/commands/edit-target.ts), one row per
// case: what fly does, a taken name refused, a new URL dropping the token, bad input refused with
// nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editTarget, type TargetEdit } from '../../src/cli/commands/edit-target.ts';
import type { TargetsFile } from '../../src/cli/client/targets.ts';

const TOKEN = { type: 'bearer', value: 'secret-token' };
const file = (): TargetsFile => ({
  targets: {
    ci: { api: 'https://ci.example', team: 'main', token: TOKEN },
    other: { api: 'https://other.example', team: 'a' },
  },
});

const ok: { name: string; edit: TargetEdit; targets: TargetsFile['targets']; notes?: RegExp }[] = [
  { name: 'rename', edit: { newName: 'prod' }, targets: { prod: { api: 'https://ci.example', team: 'main', token: TOKEN }, other: file().targets.other! } },
  { name: 'a new team keeps the token', edit: { team: 'b' }, targets: { ci: { api: 'https://ci.example', team: 'b', token: TOKEN }, other: file().targets.other! } },
  {
    name: 'a new URL drops the token and says so',
    edit: { url: 'https://new.example/' },
    targets: { ci: { api: 'https://new.example', team: 'main' }, other: file().targets.other! },
    notes: /the saved token was for https:\/\/ci\.example: log in again \(jetway login -t ci\)/,
  },
  { name: 'the same URL keeps the token', edit: { url: 'https://ci.example' }, targets: file().targets },
  {
    name: 'rename, URL and team at once',
    edit: { newName: 'prod', url: 'http://10.0.0.1:8080', team: 'b' },
    targets: { prod: { api: 'http://10.0.0.1:8080', team: 'b' }, other: file().targets.other! },
    notes: /log in again \(jetway login -t prod\)/,
  },
];
for (const row of ok) {
  test(`editTarget: ${row.name}`, () => {
    const { file: edited, notes } = editTarget(file(), 'ci', row.edit);
    assert.deepEqual(edited.targets, row.targets);
    if (row.notes) assert.match(notes.join('\n'), row.notes);
    else assert.deepEqual(notes, []);
  });
}

const refused: { name: string; target?: string; edit: TargetEdit; message: RegExp }[] = [
  { name: 'nothing to change', edit: {}, message: /no attributes specified to update/ },
  { name: 'an unknown target', target: 'nope', edit: { team: 'b' }, message: /unknown target: nope\nknown targets: ci, other/ },
  { name: 'a name that is a target already', edit: { newName: 'other' }, message: /target other exists already/ },
  { name: 'not an http(s) URL', edit: { url: 'ftp://x' }, message: /-u, --concourse-url must be an http\(s\) URL \(got 'ftp:\/\/x'\)/ },
  { name: 'a team name with a slash', edit: { team: 'a/b' }, message: /-n, --team-name: 'a\/b' is not a team name/ },
  { name: 'a target name with a space', edit: { newName: 'a b' }, message: /--target-name: 'a b' is not a target name/ },
];
for (const row of refused) {
  test(`editTarget refuses ${row.name}, changing nothing`, () => {
    const before = file();
    assert.throws(() => editTarget(before, row.target ?? 'ci', row.edit), row.message);
    assert.deepEqual(before, file());
  });
}
