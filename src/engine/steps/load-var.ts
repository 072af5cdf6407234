// load_var: reads a file from an artifact into a local var (`((.:name))`). Its value is
// redacted from logs unless `reveal: true`.
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { LoadVarPlan, PlanId } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { readArtifactFile } from '../artifact-files.ts';
import type { StepDeps } from './deps.ts';

/** The format from `format:`, else from the file's extension, else `trim` (Concourse's rule). */
export function loadVarFormat(file: string, format?: string): string {
  if (format) return format;
  const ext = extname(file).slice(1);
  return ext === 'json' || ext === 'yaml' || ext === 'yml' ? ext : 'trim';
}

export function parseLoadedVar(text: string, format: string): unknown {
  switch (format) {
    case 'json':
      return JSON.parse(text) as unknown;
    case 'yaml':
    case 'yml':
      return parseYaml(text) as unknown;
    case 'raw':
      return text;
    default:
      return text.trim();
  }
}

export async function runLoadVar(id: PlanId, plan: LoadVarPlan, ctx: StepContext, deps: StepDeps): Promise<boolean> {
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  await ctx.emit(buildEvent('start', { time: unixNow(), origin: { id } }));
  // inside its artifact only, and bounded (src/engine/artifact-files.ts; docs/security.md "Builds")
  const text = await readArtifactFile({ step: `load_var '${plan.name}'`, path: plan.file, artifact: (name) => ctx.state.artifact(name) });
  let value: unknown;
  try {
    value = parseLoadedVar(text, loadVarFormat(plan.file, plan.format));
  } catch (err) {
    throw new Error(`load_var '${plan.name}': ${plan.file} is not valid ${plan.format ?? loadVarFormat(plan.file)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (plan.reveal !== true) deps.redactor.add(value);
  ctx.state.setLocalVar(plan.name, value);
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}
