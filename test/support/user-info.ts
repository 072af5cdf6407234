// What GET /api/v1/user answers for a local user (Concourse's atc.UserInfo with the local connector).
import type { UserInfo } from '../../src/api/wire.ts';

export function localUserInfo(name: string, teams: Record<string, string[]>, isAdmin: boolean): UserInfo {
  return {
    sub: name,
    name,
    user_id: name,
    user_name: name,
    email: '',
    teams,
    is_admin: isAdmin,
    is_system: false,
    connector: 'local',
    display_user_id: name,
  };
}
