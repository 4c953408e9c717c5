import { invalidClient, invalidRequest } from '../protocol/errors.js';
import { readParams, splitList } from '../protocol/params.js';
import type { ClientDocument, Clients } from '../store/repositories/clients.js';
import type { LaunchContext } from '../smart/launch-context.js';
import { isSmartRequest, protectedFhirBase } from '../smart/smart-request.js';

export type Prompt = 'none' | 'login' | 'consent';

/** A validated authorization request (RFC 6749 §4.1.1 + PKCE + OpenID Connect Core §3.1.2.1). */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt: Prompt[];
  maxAge?: number;
  loginHint?: string;
  resource?: string;
  /** SMART: the FHIR base the request is for (its `aud`, as configured); the access token's audience. */
  aud?: string;
  /** SMART EHR launch: the `launch` parameter, until the flow redeems it into `launchContext`. */
  launch?: string;
  /** SMART: the launch context (an EHR launch's, or the patient chosen in a standalone launch). */
  launchContext?: LaunchContext;
}

/**
 * An error that may be sent back to the client: only once the client and the redirect URI are
 * known to be valid (RFC 6749 §4.1.2.1). Anything before that is shown to the user instead.
 */
export class RedirectableError extends Error {
  constructor(
    readonly redirectUri: string,
    readonly code: string,
    readonly description: string,
    readonly state: string | undefined,
  ) {
    super(`${code}: ${description}`);
  }
}

const PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method',
  'prompt', 'max_age', 'login_hint', 'resource', 'response_mode', 'request', 'request_uri', 'aud', 'launch',
] as const;

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export async function parseAuthorizationRequest(query: unknown, clients: Clients, fhirBaseUrls: readonly string[]): Promise<{ request: AuthorizationRequest; client: ClientDocument }> {
  const params = readParams(query, PARAMS);
  const client = params.client_id ? await clients.byId(params.client_id) : null;
  if (!client) throw invalidClient('unknown client_id');
  const registered = client.metadata.redirect_uris;
  const redirectUri = params.redirect_uri ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri || !registered.includes(redirectUri)) {
    throw invalidRequest('redirect_uri does not exactly match a registered redirect URI');
  }

  const fail = (code: string, description: string): never => {
    throw new RedirectableError(redirectUri, code, description, params.state);
  };
  if (params.request || params.request_uri) fail('request_not_supported', 'request objects are not supported');
  if (params.response_mode && params.response_mode !== 'query') fail('invalid_request', 'only response_mode=query is supported');
  if (params.response_type !== 'code') fail('unsupported_response_type', 'only response_type=code is supported');
  if (!client.metadata.grant_types.includes('authorization_code')) fail('unauthorized_client', 'client is not registered for the authorization code grant');
  if (!params.code_challenge) fail('invalid_request', 'code_challenge is required (PKCE)');
  if (params.code_challenge_method !== 'S256') fail('invalid_request', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(params.code_challenge as string)) fail('invalid_request', 'code_challenge must be a base64url SHA-256 digest');
  const scopes = splitList(params.scope);
  if (scopes.length === 0) fail('invalid_scope', 'scope is required');
  const prompt = splitList(params.prompt);
  if (prompt.some((p) => !['none', 'login', 'consent'].includes(p))) fail('invalid_request', 'unsupported prompt value');
  if (prompt.includes('none') && prompt.length > 1) fail('invalid_request', 'prompt=none cannot be combined with other values');
  if (params.max_age !== undefined && !/^\d{1,9}$/.test(params.max_age)) fail('invalid_request', 'max_age must be a non-negative integer');
  if (params.resource !== undefined && !isAbsoluteUriWithoutFragment(params.resource)) fail('invalid_target', 'resource must be an absolute URI without a fragment');
  const aud = protectedFhirBase(params.aud, fhirBaseUrls);
  if (isSmartRequest(scopes, params.launch, params.aud) && !aud) fail('invalid_request', 'aud must name a FHIR server this authorization server protects');

  return {
    client,
    request: {
      clientId: client._id,
      redirectUri,
      scopes,
      codeChallenge: params.code_challenge as string,
      prompt: prompt as Prompt[],
      ...(params.state !== undefined ? { state: params.state } : {}),
      ...(params.nonce !== undefined ? { nonce: params.nonce } : {}),
      ...(params.max_age !== undefined ? { maxAge: Number(params.max_age) } : {}),
      ...(params.login_hint !== undefined ? { loginHint: params.login_hint } : {}),
      ...(params.resource !== undefined ? { resource: params.resource } : {}),
      ...(aud !== undefined ? { aud } : {}),
      ...(params.launch !== undefined ? { launch: params.launch } : {}),
    },
  };
}

export function isAbsoluteUriWithoutFragment(value: string) {
  try {
    return !new URL(value).hash && !value.includes('#');
  } catch {
    return false;
  }
}
