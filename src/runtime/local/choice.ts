// Which local runtime a web node runs (docs/local-containers.md): `--local-runtime` (or
// JETWAY_LOCAL_RUNTIME) says auto (the default), containers or processes. Containers where runc is
// usable (root, runc installed, overlay mounts work), else host processes with one line saying why.
// A pure decision, table-tested (test/runtime/local/choice.test.ts).

export type LocalRuntimeKind = 'auto' | 'processes' | 'containers';

export const LOCAL_RUNTIME_KINDS: readonly LocalRuntimeKind[] = ['auto', 'containers', 'processes'];

export interface LocalRuntimeChoice {
  kind: 'processes' | 'containers';
  /** the one start-up line when containers were wanted but cannot run here */
  warning?: string;
}

/**
 * The runtime for `requested` (undefined: auto), given why containers cannot run here (undefined:
 * they can). `probe` is only called when containers are wanted.
 */
export async function chooseLocalRuntime(requested: LocalRuntimeKind | undefined, probe: () => Promise<string | undefined>): Promise<LocalRuntimeChoice> {
  const kind = requested ?? 'auto';
  if (kind === 'processes') return { kind: 'processes' };
  const unusable = await probe();
  if (unusable === undefined) return { kind: 'containers' };
  return { kind: 'processes', warning: `local runtime: containers cannot run here (${unusable}): steps run as host processes` };
}

/** A `--local-runtime` value or JETWAY_LOCAL_RUNTIME, checked (undefined when not set). */
export function parseLocalRuntimeKind(value: string | undefined, where: string): LocalRuntimeKind | undefined {
  if (value === undefined || value === '') return undefined;
  if ((LOCAL_RUNTIME_KINDS as readonly string[]).includes(value)) return value as LocalRuntimeKind;
  throw new Error(`${where}: '${value}' is not one of ${LOCAL_RUNTIME_KINDS.join(', ')}`);
}
