// The auth `set-team` sends: from a team config file (fly's format) and --local-user flags, which
// give the owner role. Pure; problems name file:line:column.
//
//   roles:
//   - name: owner
//     local:
//       users: [alice]
//   - name: viewer
//     local:
//       users: [bob]
import { z } from 'zod';
import { locate, parseYaml } from '../../config/yaml-source.ts';
import { localUser, ROLES, type Role, type TeamAuth } from '../../api/roles.ts';

const roleConfig = z
  .object({
    name: z.enum(ROLES, { error: (i) => `unknown role ${JSON.stringify(i.input)} (${ROLES.join(', ')})` }),
    local: z.object({ users: z.array(z.string().min(1)).default([]) }).strict().optional(),
  })
  .catchall(z.unknown());
const teamConfig = z.object({ roles: z.array(roleConfig).min(1, 'give at least one role') }).strict();

export type TeamAuthResult = { auth: TeamAuth; errors?: undefined } | { errors: string[]; auth?: undefined };

/** The auth of a config file's text (`file` names it in errors) plus owners from --local-user. */
export function teamAuthFrom(config: { text: string; file: string } | undefined, owners: readonly string[]): TeamAuthResult {
  const users = new Map<Role, string[]>();
  const add = (role: Role, names: readonly string[]): void => {
    const list = users.get(role) ?? [];
    for (const n of names.map(localUser)) if (!list.includes(n)) list.push(n);
    users.set(role, list);
  };
  if (config) {
    const src = parseYaml(config.text);
    const where = (path: (string | number)[]): string => {
      const pos = locate(src, path);
      return pos ? `${config.file}:${pos.line}:${pos.column}` : config.file;
    };
    if (src.doc.errors.length > 0) {
      return { errors: src.doc.errors.map((e) => `${config.file}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: ${e.message.split('\n')[0]}`) };
    }
    const parsed = teamConfig.safeParse(src.doc.toJS() ?? {});
    if (!parsed.success) {
      return { errors: parsed.error.issues.map((i) => `${where(i.path as (string | number)[])}: ${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`) };
    }
    const errors: string[] = [];
    parsed.data.roles.forEach((role, i) => {
      for (const key of Object.keys(role)) {
        if (key !== 'name' && key !== 'local') errors.push(`${where(['roles', i, key])}: roles.${i}.${key}: the ${key} connector is not supported: Jetway has local users only`);
      }
      add(role.name, role.local?.users ?? []);
    });
    if (errors.length > 0) return { errors };
  }
  add('owner', owners);
  const auth: TeamAuth = {};
  for (const role of ROLES) {
    const list = users.get(role);
    if (list && list.length > 0) auth[role] = { users: list, groups: [] };
  }
  if (Object.keys(auth).length === 0) return { errors: ['give the team its users: --local-user <name> (an owner), or -c <team config file> with roles'] };
  return { auth };
}

/** The auth as fly prints it before asking to apply it. */
export function describeTeamAuth(team: string, auth: TeamAuth): string {
  const lines = [`setting team: ${team}`, ''];
  for (const role of ROLES) {
    const members = auth[role];
    if (!members) continue;
    lines.push(`role ${role}:`, '  users:', ...(members.users.length > 0 ? members.users.map((u) => `  - ${u}`) : ['  none']), '');
  }
  return `${lines.join('\n')}\n`;
}
