import { hashSecret } from '../../crypto/secrets.js';
import { invalidGrant, invalidScope } from '../../protocol/errors.js';
import { readParams, requireParam, splitList } from '../../protocol/params.js';
import type { Tokens } from '../../store/repositories/tokens.js';
import { issueUserTokens, type UserTokenDeps } from './user-tokens.js';
import type { GrantHandler } from './types.js';

export interface RefreshTokenGrantDeps extends UserTokenDeps {
  tokens: Tokens;
}

/**
 * RFC 6749 §6 with rotation: every refresh token is single use and replaced by a new one of the
 * same family. Presenting a rotated token again is taken as theft and revokes the whole family
 * (RFC 9700 §4.14.2). The scope may be narrowed for the new access token, never widened.
 */
export const refreshTokenGrant: GrantHandler<RefreshTokenGrantDeps> = async (deps, client, body) => {
  const params = readParams(body, ['refresh_token', 'scope'] as const);
  const id = hashSecret(requireParam(params, 'refresh_token'));
  const { refreshTokens } = deps.tokens;

  // The scope is checked before the token is spent, so a refused request leaves it usable.
  const requested = splitList(params.scope);
  const unspent = await refreshTokens.usable(id, client._id);
  const widened = unspent ? requested.filter((scope) => !unspent.scopes.includes(scope)) : [];
  if (widened.length > 0) throw invalidScope(`not granted originally: ${widened.join(' ')}`);

  const current = await refreshTokens.rotate(id, client._id);
  if (!current) {
    const reused = await refreshTokens.rotatedBefore(id, client._id);
    if (reused) await deps.tokens.revoke({ familyId: reused.familyId });
    throw invalidGrant('the refresh token is invalid, expired, revoked, issued to another client or already used');
  }

  return issueUserTokens(deps, {
    client,
    accountId: current.accountId,
    grantId: current.grantId,
    scopes: requested.length > 0 ? requested : current.scopes,
    refreshScopes: current.scopes,
    authTime: current.authTime,
    familyId: current.familyId,
    // Keeps the code lineage, so a replay of the code also revokes tokens refreshed from it.
    codeId: current.codeId,
    resource: current.resource,
    smart: current.smart,
  });
};
