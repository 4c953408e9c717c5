import type { DecisionLog } from '../../policy/decision-log.js';
import { invalidScope, invalidTarget, unauthorizedClient } from '../../protocol/errors.js';
import { readParams, splitList } from '../../protocol/params.js';
import { isAbsoluteUriWithoutFragment } from '../authorization-request.js';
import { allowedScopes, consentWithoutUserInput } from '../consent.js';
import type { TokenService } from '../token-service.js';
import type { GrantHandler } from './types.js';

/** Tokens a client obtains for itself live at most five minutes (SMART Backend Services). */
export const CLIENT_CREDENTIALS_MAX_TTL_SECONDS = 300;

export interface ClientCredentialsGrantDeps {
  decisions: DecisionLog;
  tokenService: TokenService;
}

/**
 * RFC 6749 §4.4: a confidential client acting for itself. Which of the requested scopes it gets is
 * the `consent` policy's answer for a request with no user (nothing can be asked, so only what the
 * policy grants outright is issued). Without `scope` the client asks for its registered scopes
 * (RFC 6749 §3.3) and gets those that need no user — possibly none, which is a token without a
 * scope rather than an error; an explicit `scope` of which nothing can be granted is invalid_scope.
 */
export const clientCredentialsGrant: GrantHandler<ClientCredentialsGrantDeps> = async (deps, client, body) => {
  if (client.metadata.token_endpoint_auth_method === 'none') throw unauthorizedClient('public clients cannot use client_credentials');
  const params = readParams(body, ['scope', 'resource'] as const);
  // RFC 8707 §2, as at the authorization endpoint: the resource becomes the token's audience.
  if (params.resource !== undefined && !isAbsoluteUriWithoutFragment(params.resource)) throw invalidTarget('resource must be an absolute URI without a fragment');
  const requested = params.scope !== undefined ? splitList(params.scope) : allowedScopes(client);
  // The token is handed out only once the decision's record is written.
  const { result } = await deps.decisions.decide('consent', consentWithoutUserInput(client._id, allowedScopes(client), requested));
  if (params.scope !== undefined && result.granted.length === 0) {
    throw invalidScope(`none of the requested scopes can be granted: ${result.denied.map((d) => `${d.scope} (${d.reason})`).join(', ')}`);
  }
  const access = await deps.tokenService.issueAccessToken({
    clientId: client._id,
    subject: client._id,
    scopes: result.granted,
    maxTtl: CLIENT_CREDENTIALS_MAX_TTL_SECONDS,
    ...(params.resource ? { audience: params.resource } : {}),
  });
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, ...(result.granted.length > 0 ? { scope: result.granted.join(' ') } : {}) };
};
