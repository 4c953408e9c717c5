import type { AccessTokenClaims } from '../oauth/token-service.js';
import type { AccessInput, BearerApi } from '../policy/entrypoints.js';

/** The access entrypoint's facts about a verified access token presented to one of the bearer APIs. */
export function bearerAccessInput(api: BearerApi, token: AccessTokenClaims, issuer: string, now: Date): AccessInput {
  return {
    api,
    now: now.toISOString(),
    issuer,
    token: {
      scope: token.scope,
      ...(typeof token.sub === 'string' ? { sub: token.sub } : {}),
      client_id: token.client_id,
      aud: ([] as unknown[]).concat(token.aud ?? []).filter((a): a is string => typeof a === 'string'),
    },
  };
}

/** The access entrypoint's facts about a signed-in session that asks to link a new identity. */
export function linkAccessInput(session: { accountId: string; authTime: number }, now: Date): AccessInput {
  return { api: 'link_identity', now: now.toISOString(), session: { sub: session.accountId, auth_time: session.authTime } };
}
