// What every benchmark gets and returns.
import type { Database } from '../src/db/database.ts';

export interface BenchContext {
  /** a fresh, migrated database on the benchmark's Postgres */
  freshDatabase(): Promise<Database>;
  /** fewer iterations (CI smoke runs) */
  quick: boolean;
  progress(message: string): void;
}

/** A figure, or named figures (nested for benchmarks with several cases). */
export type BenchValue = number | { [key: string]: BenchValue };

export interface BenchResult {
  /** the key in the JSON output */
  key: string;
  title: string;
  value: BenchValue;
  unit: string;
  /** a readable table of the figures, printed instead of the one-line summary */
  table?: string;
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank]! * 100) / 100;
}
