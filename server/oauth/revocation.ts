import { decodeJwt } from 'jose';
import type { Services } from '../http/services.js';
import { hashSecret } from '../crypto/secrets.js';
import type { ClientDocument } from '../store/repositories/clients.js';

/**
 * RFC 7009: a client revokes one of its own tokens. A refresh token takes its whole family
 * (and the access tokens issued with it) along. Unknown, foreign or already dead tokens are
 * answered the same way, so the endpoint reveals nothing.
 */
export async function revoke(services: Services, caller: ClientDocument, token: string, hint: string | undefined): Promise<void> {
  const order = hint === 'access_token' ? [revokeAccessToken, revokeRefreshToken] : [revokeRefreshToken, revokeAccessToken];
  for (const attempt of order) if (await attempt(services, caller, token)) return;
}

async function revokeRefreshToken(services: Services, caller: ClientDocument, token: string) {
  const doc = await services.tokens.refreshTokens.findOne({ _id: hashSecret(token), clientId: caller._id });
  if (!doc) return false;
  await services.tokens.revoke({ familyId: doc.familyId });
  return true;
}

async function revokeAccessToken(services: Services, caller: ClientDocument, token: string) {
  const payload = await services.tokenService.verifyAccessToken(token);
  if (!payload) return isJwt(token);
  if (payload.client_id !== caller._id) return true;
  await services.tokens.accessTokens.update({ _id: payload.jti }, { revokedAt: new Date() });
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
