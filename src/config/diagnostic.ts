// What validation reports, and how it is printed.
import type { ConfigPath } from './steps.ts';

export type Severity = 'error' | 'warning';

/** A problem with a pipeline, located both in the config (Concourse-style path) and in the file. */
export type Diagnostic = {
  severity: Severity;
  /** warning category, as Concourse names them: invalid_identifier, deprecated_field, pipeline, var_shadowed */
  type?: string;
  message: string;
  /** e.g. `jobs.build.plan.do[1].get(repo).passed`; empty for whole-file problems such as YAML syntax */
  path: string;
  file?: string;
  line?: number;
  column?: number;
};

/**
 * A diagnostic before it is located: `at` is the structural path in the raw config, and `key`
 * names a key of the object at `at` when the key itself is the problem (unknown fields).
 */
export type Finding = {
  severity: Severity;
  type?: string;
  message: string;
  at: ConfigPath;
  key?: string;
  /** overrides the display path computed from `at` (e.g. `resources[1]` for duplicates) */
  path?: string;
  /** a position already known (YAML syntax errors, interpolation) */
  line?: number;
  column?: number;
};

export function error(at: ConfigPath, message: string, extra: Partial<Finding> = {}): Finding {
  return { severity: 'error', message, at, ...extra };
}

export function warning(at: ConfigPath, type: string, message: string, extra: Partial<Finding> = {}): Finding {
  return { severity: 'warning', type, message, at, ...extra };
}

/** `file:line:col: error: path: message`, leaving out the parts that are unknown. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file ?? (d.line !== undefined ? '<input>' : undefined), d.line, d.line !== undefined ? d.column : undefined]
    .filter((p) => p !== undefined)
    .join(':');
  const kind = d.type && d.severity === 'warning' ? `warning (${d.type})` : d.severity;
  return `${where ? `${where}: ` : ''}${kind}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
}
