// A resource's pin and its versions as the resource page shows them: which row is the pinned
// version, each row's state and buttons, and what the pin banner offers. Pure: used by the
// browser bundle and table-tested under node.
import type { Resource, ResourceVersion } from '../../api/wire.ts';

/** A button of a version row, named as the API's action (`PUT …/versions/:id/<action>`). */
export type VersionAction = 'pin' | 'disable' | 'enable';

/** A version row: its state (shown as text, not only by colour) and its buttons, in order. */
export interface VersionRow {
  pinned: boolean;
  enabled: boolean;
  /** the row's state words: 'pinned', 'disabled' (none for an enabled, unpinned version) */
  states: string[];
  actions: VersionAction[];
  /** the row's CSS classes (see style.css) */
  className: string;
}

/** The pin banner of a pinned resource. */
export interface PinBanner {
  version: Record<string, string>;
  /** pinned by `version:` in the pipeline config: only a new config changes or removes it */
  inConfig: boolean;
  comment: string;
  canUnpin: boolean;
  /** set-pipeline resets a config pin's comment, so it is edited only on a pin made here */
  canEditComment: boolean;
  /** the id of the listed version the pin resolves to; undefined when none of the listed versions matches */
  versionId: number | undefined;
}

/** A version as text: `ref: abc, version: v1` (its fields in the order the API gives them). */
export function formatVersion(version: Record<string, string>): string {
  return Object.entries(version)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/** Whether a pin names a version: every field of the pin has the version's value (a pin in the config may name only some fields). */
export function pinMatches(pin: Record<string, string>, version: Record<string, string>): boolean {
  return Object.entries(pin).every(([k, v]) => Object.hasOwn(version, k) && version[k] === v);
}

/**
 * The listed version a pin resolves to: the newest one it matches (as the scheduler picks it),
 * that is the first of a newest-first list.
 */
export function pinnedVersionId(pin: Record<string, string> | undefined, versions: readonly Pick<ResourceVersion, 'id' | 'version'>[]): number | undefined {
  if (!pin) return undefined;
  return versions.find((v) => pinMatches(pin, v.version))?.id;
}

/** The pin banner of a resource (undefined when it is not pinned). */
export function pinBanner(
  resource: Pick<Resource, 'pinned_version' | 'pinned_in_config' | 'pin_comment'>,
  versions: readonly Pick<ResourceVersion, 'id' | 'version'>[],
): PinBanner | undefined {
  const pin = resource.pinned_version;
  if (!pin) return undefined;
  const inConfig = resource.pinned_in_config === true;
  return {
    version: pin,
    inConfig,
    comment: resource.pin_comment ?? '',
    canUnpin: !inConfig,
    canEditComment: !inConfig,
    versionId: pinnedVersionId(pin, versions),
  };
}

/**
 * A version row. The pinned version is marked and has no pin button; while the config pins the
 * resource no version can be pinned here (the API refuses with 409). Any version can be
 * disabled or enabled: a disabled version is not used by jobs, though a pin to it still is.
 */
export function versionRow(version: Pick<ResourceVersion, 'id' | 'enabled'>, banner: PinBanner | undefined): VersionRow {
  const pinned = banner !== undefined && banner.versionId === version.id;
  const states: string[] = [];
  if (pinned) states.push('pinned');
  if (!version.enabled) states.push('disabled');
  const actions: VersionAction[] = [];
  if (!pinned && !banner?.inConfig) actions.push('pin');
  actions.push(version.enabled ? 'disable' : 'enable');
  return { pinned, enabled: version.enabled, states, actions, className: ['version', ...states].join(' ') };
}
