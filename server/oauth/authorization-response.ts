import { randomUUID } from 'node:crypto';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { Grants } from '../store/repositories/grants.js';
import type { Tokens } from '../store/repositories/tokens.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { Login } from './interactions.js';

const CODE_LIFETIME_SECONDS = 60;

/**
 * Ends a successful authorization: remembers what the user allowed this client and sends the
 * client a single-use code bound to the redirect URI, the PKCE challenge and the nonce.
 */
export async function issueAuthorizationCode(
  deps: { grants: Grants; tokens: Tokens; config: { issuer: string } },
  request: AuthorizationRequest,
  login: Login,
  scopes: string[],
): Promise<string> {
  const grantId = await deps.grants.remember(login.accountId, request.clientId, scopes);
  const code = generateSecret();
  await deps.tokens.codes.issue({
    _id: hashSecret(code),
    codeId: randomUUID(),
    clientId: request.clientId,
    accountId: login.accountId,
    grantId,
    redirectUri: request.redirectUri,
    scopes,
    codeChallenge: request.codeChallenge,
    authTime: login.authTime,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    ...(request.resource !== undefined ? { resource: request.resource } : {}),
    ...(request.aud !== undefined ? { smart: { aud: request.aud, ...(request.launchContext ? { launchContext: request.launchContext } : {}) } } : {}),
    expiresAt: new Date(Date.now() + CODE_LIFETIME_SECONDS * 1000),
  });
  return redirectWith(request.redirectUri, deps.config.issuer, { code, state: request.state });
}

/** RFC 6749 §4.1.2.1: the error sent back to the client, once its redirect URI is known to be valid. */
export function authorizationError(issuer: string, redirectUri: string, code: string, description: string, state: string | undefined) {
  return redirectWith(redirectUri, issuer, { error: code, error_description: description, state });
}

/** Where to send the user with the authorization result: query parameters plus `iss` (RFC 9207). */
export function redirectWith(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', issuer);
  return url.toString();
}
