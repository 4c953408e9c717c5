import { randomUUID } from 'node:crypto';
import { invalidGrant } from '../../protocol/errors.js';
import type { Accounts } from '../../store/repositories/accounts.js';
import type { ClientDocument } from '../../store/repositories/clients.js';
import type { Grants } from '../../store/repositories/grants.js';
import type { SmartAuthorization } from '../../store/repositories/tokens.js';
import { smartAccessClaims } from '../../smart/token-context.js';
import { idTokenAlgorithm } from '../id-token-algorithm.js';
import type { TokenService } from '../token-service.js';
import type { TokenResponse } from './types.js';

export interface UserTokenDeps {
  accounts: Accounts;
  grants: Grants;
  tokenService: TokenService;
}

export interface UserTokenRequest {
  client: ClientDocument;
  accountId: string;
  grantId: string;
  scopes: string[];
  authTime: number;
  codeId?: string;
  /** Continue this refresh token family instead of starting one. */
  familyId?: string;
  nonce?: string;
  resource?: string;
  /** The scopes the refresh token carries (on refresh: the original ones, even when the access token is narrowed). */
  refreshScopes?: string[];
  /** SMART: the FHIR base (the access token's audience) and the launch context, kept across refreshes. */
  smart?: SmartAuthorization;
}

/**
 * The tokens a user-delegated grant ends in: a JWT access token; an ID token when `openid` was
 * granted; a refresh token when `offline_access` was granted and the client may refresh.
 */
export async function issueUserTokens(deps: UserTokenDeps, request: UserTokenRequest): Promise<TokenResponse> {
  const { client, accountId, grantId, scopes, authTime } = request;
  const account = await deps.accounts.usable(accountId);
  if (!account || !(await deps.grants.byId(grantId))) throw invalidGrant('the grant behind this request was revoked');
  const refreshScopes = request.refreshScopes ?? scopes;
  const refreshable = refreshScopes.includes('offline_access') && client.metadata.grant_types.includes('refresh_token');
  const familyId = refreshable ? (request.familyId ?? randomUUID()) : undefined;
  const lineage = { clientId: client._id, accountId, grantId, codeId: request.codeId, familyId };
  const { smart } = request;
  const audience = smart?.aud ?? request.resource;
  const access = await deps.tokenService.issueAccessToken({
    ...lineage,
    subject: accountId,
    scopes,
    authTime,
    ...(audience ? { audience } : {}),
    ...(smart ? { claims: smartAccessClaims(smart, account) } : {}),
  });
  const response: TokenResponse = { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope: scopes.join(' '), ...smart?.launchContext };
  if (scopes.includes('openid')) {
    response.id_token = await deps.tokenService.issueIdToken({ account, clientId: client._id, scopes, authTime, nonce: request.nonce, accessToken: access.token, alg: idTokenAlgorithm(client.metadata) });
  }
  if (familyId) {
    response.refresh_token = await deps.tokenService.issueRefreshToken({ ...lineage, familyId, scopes: refreshScopes, authTime, resource: request.resource, smart });
  }
  return response;
}
