// Concourse's identifier rule (atc/configvalidate): an empty name is an error, anything else
// that breaks the rule is only a warning so that old pipelines keep loading.
const VALID = /^[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d][\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]*$/u;
const START = /^[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d]/u;
const ALLOWED = /[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]/u;

export type IdentifierProblem = { severity: 'error' | 'warning'; message: string };

/** Returns the problem with a name, or undefined when it is a valid identifier. */
export function checkIdentifier(name: string): IdentifierProblem | undefined {
  if (name === '') return { severity: 'error', message: 'identifier cannot be an empty string' };
  if (VALID.test(name) && !/^\d+$/.test(name)) return undefined;
  let reason: string;
  if (/^\d+$/.test(name)) reason = 'cannot be just numbers';
  else if (!START.test(name)) reason = 'must start with a lowercase letter or a number';
  else {
    const bad = [...name].find((c) => !ALLOWED.test(c)) ?? '';
    reason = `illegal character '${bad}'`;
  }
  return { severity: 'warning', message: `'${name}' is not a valid identifier: ${reason}` };
}
