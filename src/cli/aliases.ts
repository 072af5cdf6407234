// fly's short names for its commands (fly/commands/fly.go in Concourse's source: each command's
// `alias` tags), as data: scripts written for fly (`fly -t ci sp -p x -c y.yml`) run unchanged.
// Jetway adds them to the commands it has; a fly command Jetway lacks keeps its alias reserved
// here so that it is never given to another command. docs/concourse-compatibility.md lists both.
import type { Command } from 'commander';

export const FLY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  targets: ['ts'],
  'delete-target': ['dtg'],
  'edit-target': ['etg'],
  login: ['l'],
  logout: ['o'],
  sync: ['s'],
  'active-users': ['au'],
  teams: ['t'],
  'get-team': ['gt'],
  'set-team': ['st'],
  'rename-team': ['rt'],
  'destroy-team': ['dt'],
  checklist: ['cl'],
  execute: ['e'],
  watch: ['w'],
  containers: ['cs'],
  intercept: ['hijack', 'i'], // fly's command is `hijack`, with `intercept` and `i` as aliases
  jobs: ['js'],
  'paused-jobs': ['pjs'],
  'pause-job': ['pj'],
  'unpause-job': ['uj'],
  'schedule-job': ['sj'],
  pipelines: ['ps'],
  'paused-pipelines': ['pps'],
  'destroy-pipeline': ['dp'],
  'get-pipeline': ['gp'],
  'set-pipeline': ['sp'],
  'pause-pipeline': ['pp'],
  'archive-pipeline': ['ap'],
  'unpause-pipeline': ['up'],
  'expose-pipeline': ['ep'],
  'hide-pipeline': ['hp'],
  'rename-pipeline': ['rp'],
  'validate-pipeline': ['vp'],
  'format-pipeline': ['fp'],
  'order-pipelines': ['op'],
  'order-instanced-pipelines': ['oip'],
  resources: ['rs'],
  'resource-versions': ['rvs'],
  'check-resource': ['cr'],
  'pin-resource': ['pr'],
  'unpin-resource': ['ur'],
  'enable-resource-version': ['erv'],
  'disable-resource-version': ['drv'],
  'clear-resource-cache': ['crc'],
  'clear-versions': ['cv'],
  'check-resource-type': ['crt'],
  'clear-task-cache': ['ctc'],
  builds: ['bs'],
  'abort-build': ['ab'],
  'rerun-build': ['rb'],
  'trigger-job': ['tj'],
  volumes: ['vs'],
  workers: ['ws'],
  'land-worker': ['lw'],
  'prune-worker': ['pw'],
  curl: ['c'],
  'get-wall': ['gw'],
  'set-wall': ['sw'],
  'clear-wall': ['cw'],
  'get-components': ['gc'],
  'pause-component': ['pc'],
  'unpause-component': ['uc'],
};

/** Gives each registered command the fly aliases it does not have yet. */
export function addFlyAliases(program: Command): void {
  for (const cmd of program.commands) {
    const have = new Set(cmd.aliases());
    for (const alias of FLY_ALIASES[cmd.name()] ?? []) {
      if (!have.has(alias)) cmd.alias(alias);
    }
  }
}
