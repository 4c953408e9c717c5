import { hashSecret } from '../crypto/secrets.js';
import type { DecisionLog } from '../policy/decision-log.js';
import { normalizeFhirBase } from '../smart/fhir-base.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { Tokens } from '../store/repositories/tokens.js';
import type { TokenService } from './token-service.js';

export interface IntrospectionDeps {
  tokens: Tokens;
  tokenService: TokenService;
  decisions: DecisionLog;
  config: { issuer: string };
}

type Introspected = Record<string, unknown> & { active: boolean };

/**
 * RFC 7662: what a token is, for a client allowed to know. Expired, revoked, unknown tokens and
 * tokens the `introspection` policy does not let this caller see are all just `active: false`.
 */
export async function introspect(deps: IntrospectionDeps, caller: ClientDocument, token: string): Promise<Introspected> {
  const details = (await accessTokenDetails(deps, token)) ?? (await refreshTokenDetails(deps, token));
  if (!details) return { active: false };
  const { result } = await deps.decisions.decide('introspection', {
    caller: { client_id: caller._id, fhir_base_urls: fhirBasesOf(caller) },
    token: { client_id: String(details.client_id), aud: ([] as unknown[]).concat(details.aud ?? []).map(String), token_type: details.token_type === 'refresh_token' ? 'refresh_token' : 'Bearer' },
  });
  return result.visible ? details : { active: false };
}

/** The FHIR bases a client serves, as the policy compares them. */
function fhirBasesOf(client: ClientDocument): string[] {
  const bases = client.metadata.fhir_base_urls;
  return Array.isArray(bases) ? bases.filter((b): b is string => typeof b === 'string' && b !== '').map(normalizeFhirBase) : [];
}

/** The SMART launch context an access token carries (server/smart/token-context.ts), for its FHIR server. */
const SMART_CLAIMS = ['patient', 'encounter', 'fhirContext', 'fhirUser'] as const;

async function accessTokenDetails(deps: IntrospectionDeps, token: string): Promise<Introspected | undefined> {
  const payload = await deps.tokenService.verifyAccessToken(token);
  if (!payload) return undefined;
  const { iss, sub, aud, exp, iat, jti, client_id, scope, auth_time, permissions } = payload;
  return {
    active: true,
    token_type: 'Bearer',
    iss, sub, aud, exp, iat, jti, client_id,
    ...(scope ? { scope } : {}),
    ...(auth_time ? { auth_time } : {}),
    // An RPT's permissions (UMA Federated Authorization §5.1.1).
    ...(permissions ? { permissions } : {}),
    ...Object.fromEntries(SMART_CLAIMS.filter((claim) => payload[claim] !== undefined).map((claim) => [claim, payload[claim]])),
  };
}

async function refreshTokenDetails(deps: IntrospectionDeps, token: string): Promise<Introspected | undefined> {
  const doc = await deps.tokens.refreshTokens.usable(hashSecret(token));
  if (!doc) return undefined;
  return {
    active: true,
    token_type: 'refresh_token',
    iss: deps.config.issuer,
    sub: doc.accountId,
    client_id: doc.clientId,
    scope: doc.scopes.join(' '),
    iat: Math.floor(doc.issuedAt.getTime() / 1000),
    exp: Math.floor(doc.expiresAt.getTime() / 1000),
    aud: doc.clientId,
  };
}
