// Loading a pipeline from YAML text: parse (with positions), interpolate vars, check the schema,
// validate, and locate every finding at a config path and a file position. One run reports
// every problem it can find.
import type { z } from 'zod';
import { pipelineConfigSchema, taskConfigSchema, type PipelineConfig, type TaskConfig } from './schema.ts';
import { validatePipeline, validateTaskConfig, type ValidateOptions } from './validate.ts';
import { interpolateDocument, type Vars } from './vars.ts';
import { parseYaml, locate, positionOf, type SourceDocument } from './yaml-source.ts';
import { describePath } from './config-path.ts';
import { schemaFindings, UNKNOWN_FIELDS } from './schema-issues.ts';
import type { Diagnostic, Finding } from './diagnostic.ts';
import type { ConfigPath } from './steps.ts';

export type LoadOptions = {
  /** file name used in diagnostics */
  file?: string;
  /** static vars (from -v/-y/-l); unknown vars are left in place */
  vars?: Vars;
  /** every var still unresolved after interpolation is an error (local `((.:x))` vars excepted) */
  strict?: boolean;
  /** the base resource types a web node knows (validatePipeline's option; default Concourse's) */
  baseResourceTypes?: readonly string[];
  /** unknown resource types are left to the web node the pipeline is sent to (validatePipeline's option) */
  typesCheckedByServer?: boolean;
  /**
   * Keys the schema does not know (in resources, jobs, task configs, ...) are warnings, dropped,
   * as fly's `validate-pipeline` without `--strict` decodes leniently; the web node refuses them
   * when the pipeline is set, as Concourse's server decodes strictly (atc/config.go).
   */
  unknownFieldsAsWarnings?: boolean;
};

export type LoadResult<T> = {
  /** present only when there are no errors */
  config?: T;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** the vars left unresolved, as written inside `((…))` */
  unresolvedVars: string[];
};

// Free-form values keep their nulls (a task param of null means ""); elsewhere a null is the
// Go zero value, i.e. the same as leaving the key out.
const FREE_FORM = new Set(['source', 'params', 'get_params', 'vars', 'defaults', 'instance_vars', 'version', 'values']);

function stripNulls(value: unknown, path: ConfigPath = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => stripNulls(v, [...path, i]));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null) continue;
    const freeForm = FREE_FORM.has(k) || (path[0] === 'var_sources' && path.length === 2 && k === 'config');
    out[k] = freeForm ? v : stripNulls(v, [...path, k]);
  }
  return out;
}

function startsWith(path: ConfigPath, prefix: ConfigPath): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
}

/** Removes the value at a path so the rest of the config can still be validated. */
function prune(root: unknown, path: ConfigPath): void {
  if (path.length === 0) return;
  let cur: unknown = root;
  for (const seg of path.slice(0, -1)) {
    if (typeof cur !== 'object' || cur === null) return;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  const last = path.at(-1) as string | number;
  if (Array.isArray(cur) && typeof last === 'number') cur[last] = {};
  else if (typeof cur === 'object' && cur !== null) delete (cur as Record<string, unknown>)[String(last)];
}

type Checked<T> = { value?: T; findings: Finding[]; badPaths: ConfigPath[] };

/**
 * Checks the schema; on failure, prunes what is wrong and retries so that semantic validation
 * can still run on the rest (and report its problems in the same run).
 */
function checkSchema<S extends z.ZodType>(schema: S, raw: unknown): Checked<z.infer<S>> {
  const first = schema.safeParse(raw);
  if (first.success) return { value: first.data, findings: [], badPaths: [] };
  const { findings, badPaths } = schemaFindings(first.error.issues, raw);
  const copy: unknown = structuredClone(raw);
  let issues = first.error.issues;
  for (let round = 0; round < 8; round++) {
    for (const p of schemaFindings(issues, copy).badPaths) prune(copy, p);
    const again = schema.safeParse(copy);
    if (again.success) return { value: again.data, findings, badPaths };
    issues = again.error.issues;
  }
  return { findings, badPaths };
}

type Prepared = { src: SourceDocument; raw?: unknown; findings: Finding[]; unresolved: string[] };

/** YAML → interpolated plain JSON-like value, with YAML and interpolation findings. */
function prepare(text: string, opts: LoadOptions): Prepared {
  const src = parseYaml(text);
  const findings: Finding[] = [];
  for (const e of src.doc.errors) {
    const pos = positionOf(src, e.pos[0]);
    const message = e.code === 'DUPLICATE_KEY' ? 'duplicate key (map keys must be unique)' : `YAML: ${e.message.split('\n')[0]}`;
    findings.push({ severity: 'error', message, at: [], line: pos.line, column: pos.column });
  }
  for (const w of src.doc.warnings) {
    const pos = positionOf(src, w.pos[0]);
    findings.push({ severity: 'warning', type: 'yaml', message: w.message.split('\n')[0] ?? '', at: [], line: pos.line, column: pos.column });
  }
  // A syntax error leaves a document that cannot be trusted; a duplicate key can (later wins).
  if (src.doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return { src, findings, unresolved: [] };
  const interpolation = interpolateDocument(src, opts.vars ?? {}, opts.strict ?? false);
  findings.push(...interpolation.findings);
  const raw: unknown = stripNulls(src.doc.toJS({ maxAliasCount: 10_000 }) ?? {});
  return { src, raw, findings, unresolved: interpolation.unresolved };
}

function locateAll(findings: Finding[], src: SourceDocument, raw: unknown, file: string | undefined) {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (const f of findings) {
    const pos = f.line !== undefined ? { line: f.line, column: f.column ?? 1 } : locate(src, f.at, f.key);
    const d: Diagnostic = {
      severity: f.severity,
      ...(f.type !== undefined ? { type: f.type } : {}),
      message: f.message,
      path: f.path ?? describePath(raw, f.at),
      ...(file !== undefined ? { file } : {}),
      ...(pos ? { line: pos.line, column: pos.column } : {}),
    };
    (f.severity === 'error' ? errors : warnings).push(d);
  }
  const byPosition = (a: Diagnostic, b: Diagnostic) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
  return { errors: errors.sort(byPosition), warnings: warnings.sort(byPosition) };
}

/** A schema's unknown-fields error as the warning a lenient decode gives. */
const lenient = (f: Finding): Finding => (f.type === UNKNOWN_FIELDS && f.severity === 'error' ? { ...f, severity: 'warning', message: `${f.message} (ignored; refused when the pipeline is set)` } : f);

function load<T>(
  text: string,
  opts: LoadOptions,
  check: (raw: unknown) => Checked<T>,
  validate: (value: T) => Finding[],
): LoadResult<T> {
  const prep = prepare(text, opts);
  const findings = [...prep.findings];
  let value: T | undefined;
  if (prep.raw !== undefined) {
    if (typeof prep.raw !== 'object' || Array.isArray(prep.raw)) {
      findings.push({ severity: 'error', message: 'the configuration must be a YAML mapping', at: [] });
    } else {
      const checked = check(prep.raw);
      findings.push(...(opts.unknownFieldsAsWarnings ? checked.findings.map(lenient) : checked.findings));
      value = checked.value;
      if (value !== undefined) {
        // what the schema already reported is not reported again as a consequence
        const semantic = validate(value).filter((f) => !checked.badPaths.some((p) => startsWith(f.at, p)));
        findings.push(...semantic);
      }
    }
  }
  const { errors, warnings } = locateAll(findings, prep.src, prep.raw, opts.file);
  return { ...(errors.length === 0 && value !== undefined ? { config: value } : {}), errors, warnings, unresolvedVars: prep.unresolved };
}

/**
 * Decodes a pipeline without semantic validation (what `fly format-pipeline` needs): errors are
 * only YAML, interpolation and schema problems.
 */
export function decodePipeline(text: string, opts: LoadOptions = {}): LoadResult<PipelineConfig> {
  return load(
    text,
    opts,
    (raw) => {
      const checked = checkSchema(pipelineConfigSchema, raw);
      return checked.findings.length > 0 ? { findings: checked.findings, badPaths: checked.badPaths } : checked;
    },
    () => [],
  );
}

/** Parses, interpolates and validates a pipeline. `config` is set only when there are no errors. */
export function loadPipeline(text: string, opts: LoadOptions = {}): LoadResult<PipelineConfig> {
  const v: ValidateOptions = {
    ...(opts.baseResourceTypes ? { baseResourceTypes: opts.baseResourceTypes } : {}),
    ...(opts.typesCheckedByServer ? { typesCheckedByServer: true } : {}),
  };
  return load(text, opts, (raw) => checkSchema(pipelineConfigSchema, raw), (config) => validatePipeline(config, v));
}

/** The same for a task config file (`task: x, file: ...`), e.g. testflight's clearlinux.yml. */
export function loadTaskConfig(text: string, opts: LoadOptions = {}): LoadResult<TaskConfig> {
  return load(
    text,
    opts,
    (raw) => checkSchema(taskConfigSchema, raw),
    (config) => validateTaskConfig(config, [], new Set(['registry-image'])),
  );
}
