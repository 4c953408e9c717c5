import { createHash } from 'node:crypto';
import { hashSecret } from '../../crypto/secrets.js';
import { invalidGrant, invalidRequest } from '../../protocol/errors.js';
import { readParams, requireParam } from '../../protocol/params.js';
import type { Tokens } from '../../store/repositories/tokens.js';
import { issueUserTokens, type UserTokenDeps } from './user-tokens.js';
import type { GrantHandler } from './types.js';

export interface AuthorizationCodeGrantDeps extends UserTokenDeps {
  tokens: Tokens;
  config: { refreshTokenTtl: number };
}

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636, S256 only). The code is consumed atomically; presenting
 * it again revokes every token it produced (RFC 6749 §4.1.2, RFC 9700 §4.5.3).
 */
export const authorizationCodeGrant: GrantHandler<AuthorizationCodeGrantDeps> = async (deps, client, body) => {
  const params = readParams(body, ['code', 'redirect_uri', 'code_verifier'] as const);
  const code = requireParam(params, 'code');
  const verifier = requireParam(params, 'code_verifier');
  if (!VERIFIER.test(verifier)) throw invalidRequest('code_verifier must be 43 to 128 unreserved characters');

  const { codes } = deps.tokens;
  const id = hashSecret(code);
  // A spent code is kept as long as tokens it produced can live, so a replay can revoke them.
  const consumed = await codes.redeem(id, new Date(Date.now() + deps.config.refreshTokenTtl * 1000));
  if (!consumed) {
    const replayed = await codes.redeemedBefore(id);
    if (replayed?.codeId) await deps.tokens.revoke({ codeId: replayed.codeId });
    throw invalidGrant('the authorization code is invalid, expired or was already used');
  }
  if (consumed.clientId !== client._id) throw invalidGrant('the authorization code was issued to another client');
  if (params.redirect_uri !== consumed.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
  if (createHash('sha256').update(verifier).digest('base64url') !== consumed.codeChallenge) throw invalidGrant('code_verifier does not match the code challenge');

  return issueUserTokens(deps, {
    client,
    accountId: consumed.accountId,
    grantId: consumed.grantId,
    scopes: consumed.scopes,
    authTime: consumed.authTime,
    codeId: consumed.codeId,
    nonce: consumed.nonce,
    resource: consumed.resource,
    smart: consumed.smart,
  });
};
