// Label and field selectors with the syntax of k8s.io/apimachinery/pkg/labels and /fields.
// Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist),
// comma-separated (AND). Fields: `k=v`, `k==v`, `k!=v`, comma-separated; each resource has its own
// set of selectable fields, as on a real server.
import { errors } from './status.ts';
import { validateLabelKey, validateLabelValue } from './validation.ts';

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Labels = Record<string, string> | undefined;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, selector: string): void {
  const problems = validateLabelKey(key);
  if (problems.length > 0) throw errors.badRequest(`unable to parse requirement: invalid label key "${key}": ${problems.join('; ')} (in "${selector}")`);
}

function checkValue(value: string, selector: string): void {
  const problems = validateLabelValue(value);
  if (problems.length > 0) throw errors.badRequest(`unable to parse requirement: invalid label value: "${value}": ${problems.join('; ')} (in "${selector}")`);
}

export function parseLabelSelector(selector: string | null | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part): LabelRequirement => {
    let m = /^!\s*([^\s!=(),]+)$/.exec(part);
    if (m?.[1]) {
      checkKey(m[1], selector);
      return { key: m[1], op: 'notexists' };
    }
    m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m?.[1] && m[2] && m[3] !== undefined) {
      checkKey(m[1], selector);
      const values = m[3].split(',').map((v) => v.trim());
      for (const v of values) checkValue(v, selector);
      return { key: m[1], op: m[2] === 'in' ? 'in' : 'notin', values };
    }
    m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
    if (m?.[1] && m[2] && m[3] !== undefined) {
      checkKey(m[1], selector);
      checkValue(m[3], selector);
      return { key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] };
    }
    m = /^([^\s!=(),]+)$/.exec(part);
    if (m?.[1]) {
      checkKey(m[1], selector);
      return { key: m[1], op: 'exists' };
    }
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchLabels(requirements: LabelRequirement[], labels: Labels): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
        return has && v === r.value;
      case 'neq':
        return !has || v !== r.value;
      case 'in':
        return has && v !== undefined && r.values.includes(v);
      case 'notin':
        return !has || v === undefined || !r.values.includes(v);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
    return false;
  });
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export function parseFieldSelector(selector: string | null | undefined, supported: readonly string[]): FieldRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m?.[1] || !m[2] || m[3] === undefined) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!supported.includes(field)) {
      throw errors.badRequest(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3].trim() };
  });
}

export function matchFields(requirements: FieldRequirement[], fields: Record<string, string>): boolean {
  return requirements.every((r) => {
    const v = fields[r.field] ?? '';
    return r.op === 'eq' ? v === r.value : v !== r.value;
  });
}
