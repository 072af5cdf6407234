// Turns zod's issues into readable findings ("expected boolean, got string "yes"",
// `unknown fields ["x"]`), each with the config path of the offending value or key.
import type { z } from 'zod';
import type { ConfigPath } from './steps.ts';
import { error, type Finding } from './diagnostic.ts';

/** The type of a key the schema does not know (an error, or a warning where a lenient decode would drop it). */
export const UNKNOWN_FIELDS = 'unknown_fields';

type Issue = z.core.$ZodIssue;

function valueAt(root: unknown, path: ConfigPath): unknown {
  let cur = root;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** How a value reads in a message: its type, and a short rendering. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

function toPath(p: readonly PropertyKey[]): ConfigPath {
  return p.map((s) => (typeof s === 'number' ? s : String(s)));
}

function expectation(issue: Issue): string | undefined {
  if (issue.code === 'invalid_type') return issue.expected === 'record' || issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : issue.expected;
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v)).join(' or ');
  if (issue.code === 'custom' && issue.message === 'expected a ((var))') return undefined; // implied everywhere
  return undefined;
}

/**
 * A union fails in every branch. When all branches fail on the value itself, say what was
 * expected from each; when one branch got further (a map with one wrong entry), report that.
 */
function unionExpectations(issue: Extract<Issue, { code: 'invalid_union' }>): string[] {
  return issue.errors.flatMap((branch) =>
    branch.flatMap((i) => (i.code === 'invalid_union' ? unionExpectations(i) : [expectation(i)].filter((e): e is string => e !== undefined))),
  );
}

function flattenUnion(issue: Extract<Issue, { code: 'invalid_union' }>, base: ConfigPath): { path: ConfigPath; issue: Issue }[] {
  const branches = issue.errors;
  const deeper = branches.find((b) => b.some((i) => i.path.length > 0 || i.code === 'unrecognized_keys'));
  if (deeper) return deeper.flatMap((i) => flatten(i, base));
  const custom = branches.flat().find((i) => i.code === 'custom' && i.message !== 'expected a ((var))');
  if (custom) return [{ path: base, issue: custom }];
  const expected = [...new Set(unionExpectations(issue))];
  const synthetic: Issue = { code: 'custom', message: `expected ${expected.join(' or ')}`, path: [], input: undefined };
  return [{ path: base, issue: synthetic }];
}

function flatten(issue: Issue, base: ConfigPath): { path: ConfigPath; issue: Issue }[] {
  const path = [...base, ...toPath(issue.path)];
  if (issue.code === 'invalid_union') return flattenUnion(issue, path);
  return [{ path, issue }];
}

export function schemaFindings(issues: readonly Issue[], raw: unknown): { findings: Finding[]; badPaths: ConfigPath[] } {
  const findings: Finding[] = [];
  const badPaths: ConfigPath[] = [];
  for (const { path, issue } of issues.flatMap((i) => flatten(i, []))) {
    const value = valueAt(raw, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        findings.push(error(path, `unknown fields ${JSON.stringify(issue.keys)}`, { key: issue.keys[0] ?? '', type: UNKNOWN_FIELDS }));
        for (const k of issue.keys) badPaths.push([...path, k]);
        break;
      case 'invalid_type':
        if (value === undefined) {
          const key = String(path.at(-1));
          findings.push(error(path.slice(0, -1), `missing required field '${key}'`));
        } else {
          findings.push(error(path, `expected ${expectation(issue) ?? issue.expected}, got ${describeValue(value)}`));
        }
        badPaths.push(path);
        break;
      case 'invalid_value':
        findings.push(error(path, `expected ${expectation(issue) ?? ''}, got ${describeValue(value)}`));
        badPaths.push(path);
        break;
      case 'custom':
        findings.push(
          error(path, issue.message.startsWith('expected ') && value !== undefined ? `${issue.message}, got ${describeValue(value)}` : issue.message),
        );
        badPaths.push(path);
        break;
      default:
        findings.push(error(path, issue.message));
        badPaths.push(path);
    }
  }
  return { findings, badPaths };
}
