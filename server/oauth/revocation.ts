import { decodeJwt } from 'jose';
import { hashSecret } from '../crypto/secrets.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { Tokens } from '../store/repositories/tokens.js';
import type { TokenService } from './token-service.js';

export interface RevocationDeps {
  tokens: Tokens;
  tokenService: TokenService;
}

/**
 * RFC 7009: a client revokes one of its own tokens. A refresh token takes its whole family
 * (and the access tokens issued with it) along. Unknown, foreign or already dead tokens are
 * answered the same way, so the endpoint reveals nothing.
 */
export async function revoke(deps: RevocationDeps, caller: ClientDocument, token: string, hint: string | undefined): Promise<void> {
  const order = hint === 'access_token' ? [revokeAccessToken, revokeRefreshToken] : [revokeRefreshToken, revokeAccessToken];
  for (const attempt of order) if (await attempt(deps, caller, token)) return;
}

async function revokeRefreshToken(deps: RevocationDeps, caller: ClientDocument, token: string) {
  const doc = await deps.tokens.refreshTokens.ofClient(hashSecret(token), caller._id);
  if (!doc) return false;
  await deps.tokens.revoke({ familyId: doc.familyId });
  return true;
}

async function revokeAccessToken(deps: RevocationDeps, caller: ClientDocument, token: string) {
  const payload = await deps.tokenService.verifyAccessToken(token);
  if (!payload) return isJwt(token);
  if (payload.client_id !== caller._id) return true;
  await deps.tokens.accessTokens.revokeOne(payload.jti);
  return true;
}

function isJwt(token: string) {
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}
