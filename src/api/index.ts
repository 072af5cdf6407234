// The web API and its authentication.
export { createApiServer, type ApiServerOptions } from './server.ts';
export type { SchedulerHook, CheckerHook, EngineHook, ManualCheckOptions } from './context.ts';
export { LocalAuth, parseLocalUser, type AuthOptions, type AuthUser, type LocalUser, type IssuedToken } from './auth.ts';
export { ApiError } from './errors.ts';
export { LoginLimiter, DEFAULT_LOGIN_LIMITS, type LoginLimitOptions } from './login-limit.ts';
