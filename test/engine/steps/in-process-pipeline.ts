// The pipeline of the in-process check tests (the check step's seam, check-in-process.test.ts,
// and the engine's in-memory checks, ../in-memory-check.test.ts): built-in types the web node
// checks, a custom type (also of a built-in's shape), a source it declines, a var source's var.
export const IN_PROCESS_PIPELINE = `
resource_types:
- name: my-type
  type: mock
  source: {mirror_self: true}
resources:
- name: repo
  type: mock
  source: {initial_version: v1}
- name: failing
  type: mock
  source: {check_failure: "no luck", log: "looking"}
- name: custom
  type: my-type
  source: {initial_version: c1}
- name: clock
  type: time
  source: {interval: 1h}
- name: local-git
  type: git
  source: {uri: /var/lib/jetway}
- name: secret
  type: mock
  source: {initial_version: ((vault:v))}
`;
