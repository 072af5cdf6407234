import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource, ResourceVersion } from '../../src/api/wire.ts';
import { formatVersion, pinBanner, pinMatches, pinnedVersionId, versionRow, type PinBanner, type VersionAction } from '../../src/ui/app/versions.ts';

type PinFields = Pick<Resource, 'pinned_version' | 'pinned_in_config' | 'pin_comment'>;
const version = (id: number, v: Record<string, string>, enabled = true): ResourceVersion => ({ id, version: v, metadata: null, enabled });
// newest first, as the API lists them; v1 appears twice (an older check found it again under another ref)
const LIST = [version(4, { version: 'v3', ref: 'c' }), version(3, { version: 'v2', ref: 'b' }), version(2, { version: 'v1', ref: 'b' }), version(1, { version: 'v1', ref: 'a' })];

test('a version as text keeps its fields in order', () => {
  assert.equal(formatVersion({ version: 'v1' }), 'version: v1');
  assert.equal(formatVersion({ ref: 'abc', version: 'v1' }), 'ref: abc, version: v1');
  assert.equal(formatVersion({}), '');
});

const matchCases: { name: string; pin: Record<string, string>; version: Record<string, string>; matches: boolean }[] = [
  { name: 'the same version', pin: { version: 'v1' }, version: { version: 'v1' }, matches: true },
  { name: 'a pin naming some of the fields', pin: { version: 'v1' }, version: { version: 'v1', ref: 'a' }, matches: true },
  { name: 'another value', pin: { version: 'v1' }, version: { version: 'v2' }, matches: false },
  { name: 'a field the version lacks', pin: { version: 'v1', ref: 'a' }, version: { version: 'v1' }, matches: false },
  { name: 'an inherited name is not a field', pin: { toString: 'x' }, version: { version: 'v1' }, matches: false },
];

for (const c of matchCases) {
  test(`pin matching: ${c.name}`, () => {
    assert.equal(pinMatches(c.pin, c.version), c.matches);
  });
}

const idCases: { name: string; pin: Record<string, string> | undefined; id: number | undefined }[] = [
  { name: 'not pinned', pin: undefined, id: undefined },
  { name: 'the whole version', pin: { version: 'v2', ref: 'b' }, id: 3 },
  { name: 'a partial pin resolves to the newest version it matches', pin: { version: 'v1' }, id: 2 },
  { name: 'a partial pin on another field', pin: { ref: 'b' }, id: 3 },
  { name: 'a version not listed', pin: { version: 'v9' }, id: undefined },
];

for (const c of idCases) {
  test(`pinned version id: ${c.name}`, () => {
    assert.equal(pinnedVersionId(c.pin, LIST), c.id);
  });
}

const bannerCases: { name: string; resource: PinFields; banner: PinBanner | undefined }[] = [
  { name: 'not pinned', resource: {}, banner: undefined },
  {
    name: 'pinned here, without a comment',
    resource: { pinned_version: { version: 'v2', ref: 'b' } },
    banner: { version: { version: 'v2', ref: 'b' }, inConfig: false, comment: '', canUnpin: true, canEditComment: true, versionId: 3 },
  },
  {
    name: 'pinned here, with a comment',
    resource: { pinned_version: { version: 'v3', ref: 'c' }, pin_comment: 'v4 breaks the build' },
    banner: { version: { version: 'v3', ref: 'c' }, inConfig: false, comment: 'v4 breaks the build', canUnpin: true, canEditComment: true, versionId: 4 },
  },
  {
    name: 'pinned in the config: neither unpinned nor commented here',
    resource: { pinned_version: { version: 'v1' }, pinned_in_config: true },
    banner: { version: { version: 'v1' }, inConfig: true, comment: '', canUnpin: false, canEditComment: false, versionId: 2 },
  },
  {
    name: 'pinned in the config to a version no check found yet',
    resource: { pinned_version: { version: 'v9' }, pinned_in_config: true },
    banner: { version: { version: 'v9' }, inConfig: true, comment: '', canUnpin: false, canEditComment: false, versionId: undefined },
  },
];

for (const c of bannerCases) {
  test(`pin banner: ${c.name}`, () => {
    assert.deepEqual(pinBanner(c.resource, LIST), c.banner);
  });
}

const rowCases: { name: string; resource: PinFields; id: number; enabled: boolean; states: string[]; actions: VersionAction[]; className: string }[] = [
  { name: 'not pinned, enabled', resource: {}, id: 3, enabled: true, states: [], actions: ['pin', 'disable'], className: 'version' },
  { name: 'not pinned, disabled', resource: {}, id: 3, enabled: false, states: ['disabled'], actions: ['pin', 'enable'], className: 'version disabled' },
  { name: 'the pinned version', resource: { pinned_version: { version: 'v2', ref: 'b' } }, id: 3, enabled: true, states: ['pinned'], actions: ['disable'], className: 'version pinned' },
  {
    name: 'the pinned version, disabled',
    resource: { pinned_version: { version: 'v2', ref: 'b' } },
    id: 3,
    enabled: false,
    states: ['pinned', 'disabled'],
    actions: ['enable'],
    className: 'version pinned disabled',
  },
  { name: 'another version of a pinned resource can be pinned instead', resource: { pinned_version: { version: 'v2', ref: 'b' } }, id: 4, enabled: true, states: [], actions: ['pin', 'disable'], className: 'version' },
  { name: 'an older match of a partial pin is not the pinned one', resource: { pinned_version: { version: 'v1' } }, id: 1, enabled: true, states: [], actions: ['pin', 'disable'], className: 'version' },
  { name: 'the version pinned in the config', resource: { pinned_version: { version: 'v1' }, pinned_in_config: true }, id: 2, enabled: true, states: ['pinned'], actions: ['disable'], className: 'version pinned' },
  { name: 'the config pins another version: no pin button', resource: { pinned_version: { version: 'v1' }, pinned_in_config: true }, id: 4, enabled: false, states: ['disabled'], actions: ['enable'], className: 'version disabled' },
];

for (const c of rowCases) {
  test(`version row: ${c.name}`, () => {
    const v = LIST.find((x) => x.id === c.id)!;
    const row = versionRow({ id: v.id, enabled: c.enabled }, pinBanner(c.resource, LIST));
    assert.deepEqual(row, { pinned: c.states.includes('pinned'), enabled: c.enabled, states: c.states, actions: c.actions, className: c.className });
  });
}
