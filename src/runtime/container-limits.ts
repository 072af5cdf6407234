// Concourse's `container_limits` (a task's config, overridden by the step's) as the runtime's
// ContainerSpec.limits: cpu in shares (1024 = one CPU), memory in bytes; 0 or null is no limit.
// Memory may be a size string, read as Concourse does (bytefmt: every unit a power of 1024).
import type { ContainerSpec } from './runtime.ts';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Bytes of a memory limit (`1073741824`, `512MB`, `1GiB`, `2G`), or an error naming the value. */
export function memoryBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([BKMGT]?)(?:I?B)?$/i.exec(value.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) throw new Error(`container_limits.memory: '${value}' is not a size (bytes, or e.g. 512MB, 1GB)`);
  return Math.ceil(Number(m[1]) * unit);
}

/** The limits of a task: the step's container_limits over its config's, key by key. */
export function containerLimits(...sources: (Record<string, unknown> | undefined)[]): ContainerSpec['limits'] | undefined {
  let cpu: number | undefined;
  let memory: number | undefined;
  for (const source of sources) {
    if (!source) continue;
    if (typeof source.cpu === 'number') cpu = source.cpu;
    if (typeof source.memory === 'number' || typeof source.memory === 'string') memory = memoryBytes(source.memory);
  }
  if (cpu === undefined && memory === undefined) return undefined;
  return { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
}
