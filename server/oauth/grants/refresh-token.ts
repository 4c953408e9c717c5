import { hashSecret } from '../../crypto/secrets.js';
import { readParams, requireParam, splitList } from '../../protocol/params.js';
import { issueUserTokens } from './user-tokens.js';
import { invalidGrant, invalidScope, type GrantHandler } from './types.js';

/**
 * RFC 6749 §6 with rotation: every refresh token is single use and replaced by a new one of the
 * same family. Presenting a rotated token again is taken as theft and revokes the whole family
 * (RFC 9700 §4.14.2). The scope may be narrowed for the new access token, never widened.
 */
export const refreshTokenGrant: GrantHandler = async (services, client, body) => {
  const params = readParams(body, ['refresh_token', 'scope'] as const);
  const id = hashSecret(requireParam(params, 'refresh_token'));
  const { refreshTokens } = services.tokens;

  const mine = { _id: id, clientId: client._id };
  const live = { ...mine, consumedAt: { $exists: false }, revokedAt: { $exists: false } };
  // The scope is checked before the token is spent, so a refused request leaves it usable.
  const requested = splitList(params.scope);
  const unspent = await refreshTokens.findOne(live);
  const widened = unspent ? requested.filter((scope) => !unspent.scopes.includes(scope)) : [];
  if (widened.length > 0) throw invalidScope(`not granted originally: ${widened.join(' ')}`);

  const current = await refreshTokens.consume(live, { consumedAt: new Date() });
  if (!current) {
    const reused = await refreshTokens.findOne({ ...mine, consumedAt: { $exists: true } });
    if (reused) await services.tokens.revoke({ familyId: reused.familyId });
    throw invalidGrant('the refresh token is invalid, expired, revoked, issued to another client or already used');
  }

  return issueUserTokens(services, {
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
  });
};
