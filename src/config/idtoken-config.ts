// The idtoken var source's config (Concourse 7.11, atc/creds/idtoken/manager.go's NewManager and
// Validate): checked when a pipeline is set (src/config/validate.ts) and when a token is signed
// (src/creds/idtoken/token.ts). Pure.
import { parseDuration } from './duration.ts';

export type SubjectScope = 'team' | 'pipeline' | 'instance' | 'job';
export type Algorithm = 'RS256' | 'ES256';

export interface IdTokenConfig {
  audience: string[];
  subjectScope: SubjectScope;
  expiresInMs: number;
  algorithm: Algorithm;
}

export const DEFAULT_EXPIRES_IN_MS = 3_600_000;
export const MAX_EXPIRES_IN_MS = 24 * 3_600_000;

/** A var source's `config` checked as Concourse's NewManager and Validate check it; errors name the key. */
export function parseIdTokenConfig(config: Record<string, unknown> | undefined): { ok: true; config: IdTokenConfig } | { ok: false; error: string } {
  const out: IdTokenConfig = { audience: [], subjectScope: 'pipeline', expiresInMs: DEFAULT_EXPIRES_IN_MS, algorithm: 'RS256' };
  for (const [key, value] of Object.entries(config ?? {})) {
    switch (key) {
      case 'audience':
        if (!Array.isArray(value) || value.some((a) => typeof a !== 'string')) return { ok: false, error: 'audience must be a list of strings' };
        out.audience = value as string[];
        break;
      case 'subject_scope':
        if (typeof value !== 'string') return { ok: false, error: 'subject_scope must be a string' };
        if (!['', 'team', 'pipeline', 'instance', 'job'].includes(value)) return { ok: false, error: `invalid subject_scope value: ${value} (team, pipeline, instance or job)` };
        out.subjectScope = value === '' ? 'pipeline' : (value as SubjectScope);
        break;
      case 'expires_in': {
        if (typeof value !== 'string') return { ok: false, error: 'expires_in must be a string' };
        const ms = parseDuration(value);
        if (ms === undefined) return { ok: false, error: `invalid expires_in value: ${value}` };
        if (ms > MAX_EXPIRES_IN_MS) return { ok: false, error: 'expires_in must be <= 24h0m0s' };
        out.expiresInMs = ms;
        break;
      }
      case 'algorithm':
        if (value !== 'RS256' && value !== 'ES256') return { ok: false, error: `invalid algorithm value: ${String(value)}. Only RS256 and ES256 are supported` };
        out.algorithm = value;
        break;
      default:
        return { ok: false, error: `unknown setting: ${key}` };
    }
  }
  return { ok: true, config: out };
}

