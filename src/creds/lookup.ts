// Concourse's Kubernetes credential manager, its rules without I/O: where `((name))` is looked
// for, and what a Secret is worth as a var.
//
// For a build of pipeline P of team T, `((name))` is the Secret `P.name`, else the Secret `name`,
// both in the namespace `<prefix>T` (prefix `concourse-` by default); a one-off build (no
// pipeline) looks only for `name`. A Secret with a `value` key is that value (a string);
// otherwise its whole data map is the value, so `((name.field))` picks a key.
import type { CredentialScope } from './credential-manager.ts';

export const DEFAULT_NAMESPACE_PREFIX = 'concourse-';

/** A Secret, by namespace and name. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** A Secret's data, decoded. */
export type SecretData = Readonly<Record<string, string>>;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether a namespace could exist (a DNS-1123 label). */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** Whether a Secret could be named so (a DNS-1123 subdomain). */
export function isSecretName(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/**
 * The Secrets `((path...))` is looked for in, in order. Names no Secret can have (`my_var`,
 * `a/b`, a team whose namespace cannot exist) are left out: the API server could only answer
 * 404 for them, so they are not found without a request.
 */
export function secretLookupOrder(prefix: string, scope: CredentialScope, path: string): SecretRef[] {
  const namespace = `${prefix}${scope.team}`;
  if (!isNamespaceName(namespace)) return [];
  const names = scope.pipeline !== undefined && scope.pipeline !== '' ? [`${scope.pipeline}.${path}`, path] : [path];
  return names.filter(isSecretName).map((name) => ({ namespace, name }));
}

/** A Secret as a var: its `value` key when it has one, else its whole data map (a copy). */
export function secretValue(data: SecretData): unknown {
  if (Object.hasOwn(data, 'value')) return data.value;
  return { ...data };
}

/** `namespace/name`, for caches and messages. */
export function secretKey(ref: SecretRef): string {
  return `${ref.namespace}/${ref.name}`;
}
