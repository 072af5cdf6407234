// The pipeline-configuration layer: schema and types, the parsed step tree, validation,
// ((var)) interpolation, loading with positions, and the canonical format.
export * from './schema.ts';
export {
  parseStep,
  jobStep,
  walkSteps,
  childSteps,
  jobInputs,
  jobOutputs,
  stepLabel,
  StepConfigError,
  STEP_PRECEDENCE,
  type Step,
  type StepIssue,
  type ConfigPath,
  type JobInput,
  type JobOutput,
  type GetStep,
  type PutStep,
  type TaskStep,
  type RunStep,
  type SetPipelineStep,
  type LoadVarStep,
  type DoStep,
  type InParallelStep,
  type TryStep,
  type TimeoutStep,
  type AttemptsStep,
  type AcrossStep,
  type HookStep,
  type HookKind,
} from './steps.ts';
export { parseDuration, isDuration } from './duration.ts';
export { globMatch, expandGlob, isValidGlob } from './glob.ts';
export { checkIdentifier } from './identifier.ts';
export { isVarRef, parseVarName, type VarName } from './var-syntax.ts';
export { loadPipeline, loadTaskConfig, type LoadOptions, type LoadResult } from './load.ts';
export { validatePipeline, validateTaskConfig, PRODUCES_VALUES, BASE_RESOURCE_TYPES, type ValidateOptions } from './validate.ts';
export { formatDiagnostic, type Diagnostic, type Severity, type Finding } from './diagnostic.ts';
export { describePath } from './config-path.ts';
export { interpolateDocument, lookupVar, mergeVars, parseStringVar, parseYamlVar, type Vars, type VarFlags } from './vars.ts';
export { repositoryProblem, tagProblem, checkImageSource } from './image-ref.ts';
export { formatPipeline, stringifyPipeline } from './format.ts';
export { decodePipeline } from './load.ts';
