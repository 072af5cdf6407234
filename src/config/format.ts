// The canonical form of a pipeline, as `fly format-pipeline` prints it: the config as the
// schema reads it (unknown top-level keys dropped, keys in the schema's order), re-emitted as
// YAML. Comments and anchors do not survive. Vars are not interpolated.
import { stringify } from 'yaml';
import { pipelineConfigSchema, type PipelineConfig } from './schema.ts';
import { yamlTags } from './yaml-source.ts';
import { decodePipeline } from './load.ts';
import type { Diagnostic } from './diagnostic.ts';

/** The YAML text for a config. */
export function stringifyPipeline(config: PipelineConfig): string {
  // decode again so the key order is the schema's, whatever order the object was built in
  const canonical = pipelineConfigSchema.parse(config);
  // YAML 1.1 like the reader, so strings such as "yes" stay quoted
  return stringify(canonical, { version: '1.1', customTags: yamlTags, lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
}

/**
 * Formats pipeline text. Like fly, formatting needs a config that decodes, not a valid one:
 * a pipeline with, say, an unused resource still formats.
 */
export function formatPipeline(text: string, file?: string): { text?: string; errors: Diagnostic[] } {
  const decoded = decodePipeline(text, file !== undefined ? { file } : {});
  if (!decoded.config) return { errors: decoded.errors };
  return { text: stringifyPipeline(decoded.config), errors: [] };
}
