// Exactly what the Kubernetes runtime may do in its namespace: the Role in deploy/rbac.yaml grants
// this and nothing more (a test compares them), and a 403 from the API server is reported naming
// the missing permission. Pure.

export interface Permission {
  /** API group ('' is the core group) */
  apiGroup: string;
  resource: string;
  verbs: readonly string[];
  /** why the runtime needs it, per verb */
  why: Readonly<Record<string, string>>;
}

export const RUNTIME_PERMISSIONS: readonly Permission[] = [
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['create', 'get', 'list', 'watch', 'delete', 'patch'],
    why: {
      create: 'one pod per step',
      get: "read a step pod's status (running, image pull errors, eviction)",
      list: 'find Jetway pods without a record (reaper) and re-attach running steps after a restart',
      watch: 'follow a pod until it runs or fails, without polling',
      delete: 'remove finished pods (failed ones after the retention period) and orphans',
      patch: "mark a failed step's pod as kept for debugging (retain-until), for every web node's reaper",
    },
  },
  {
    apiGroup: '',
    resource: 'pods/exec',
    verbs: ['create'],
    why: { create: 'run resource scripts and task processes, and stream artifacts in and out as tar' },
  },
  {
    apiGroup: '',
    resource: 'pods/log',
    verbs: ['get'],
    why: { get: "show a container's log when it fails before any process ran (e.g. the init container)" },
  },
  {
    apiGroup: '',
    resource: 'secrets',
    verbs: ['create', 'get', 'delete'],
    why: {
      create: "a build's pull secret for a private registry-image (decision 10); a task pod's env secret (its params)",
      get: 'find a build pull secret that already exists (reused by the build\'s pods)',
      delete: "remove a build's pull secret with its pods; a task pod's env secret once the pod runs",
    },
  },
  {
    apiGroup: '',
    resource: 'events',
    verbs: ['list', 'watch'],
    why: {
      list: "the kubelet's messages about a pod (image pull failures, scheduling, eviction)",
      watch: 'follow those messages while a pod starts',
    },
  },
];

/** `verb resource` pairs, e.g. `create pods/exec`, sorted. */
export function permissionPairs(perms: readonly Permission[] = RUNTIME_PERMISSIONS): string[] {
  return perms.flatMap((p) => p.verbs.map((v) => `${v} ${p.apiGroup === '' ? '' : `${p.apiGroup}/`}${p.resource}`)).sort();
}

/**
 * The message for a 403 on a request: which permission is missing, for which service account
 * and namespace, and where the Role is. `resource` may carry its subresource (`pods/exec`).
 */
export function forbiddenMessage(verb: string, resource: string, namespace: string | undefined, serverMessage?: string): string {
  const where = namespace !== undefined ? ` in namespace '${namespace}'` : '';
  const known = RUNTIME_PERMISSIONS.find((p) => p.resource === resource && p.verbs.includes(verb));
  const why = known ? ` (needed to ${known.why[verb] ?? 'run steps'})` : '';
  const detail = serverMessage ? `: ${serverMessage}` : '';
  return `the Kubernetes API refused '${verb}' on '${resource}'${where}${why}; grant it to Jetway's service account (see deploy/rbac.yaml)${detail}`;
}
