import { invalidRequest, invalidScope, invalidTarget, unauthorizedClient } from '../../protocol/errors.js';
import { readParams, requireParam, splitList } from '../../protocol/params.js';
import { FederationError, type ProviderMetadata } from '../../federation/provider-metadata.js';
import type { Logger } from '../../logger.js';
import type { DecisionLog } from '../../policy/decision-log.js';
import type { ExchangeInput } from '../../policy/entrypoints.js';
import { partyFromPresentedIdToken, presentedTokenRefusal, upstreamProviderOf } from '../../federation/upstream-party.js';
import type { Accounts } from '../../store/repositories/accounts.js';
import type { ClientDocument } from '../../store/repositories/clients.js';
import { Grants } from '../../store/repositories/grants.js';
import type { IdentityDocument, Identities } from '../../store/repositories/identities.js';
import type { RequestingParty } from '../../store/repositories/uma-requests.js';
import { isAbsoluteUriWithoutFragment } from '../authorization-request.js';
import type { MetadataContribution } from '../metadata.js';
import { allowedScopes } from '../consent.js';
import { KNOWN_SCOPES } from '../scopes.js';
import type { TokenService } from '../token-service.js';
import type { GrantHandler } from './types.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Advertised only when some configured provider is trusted for its ID tokens: otherwise no exchange can succeed. */
export const tokenExchangeMetadata: MetadataContribution = () => ({ grant_types_supported: [TOKEN_EXCHANGE_GRANT] });

/** RFC 8693 §2.2.2: an invalid or unacceptable subject_token is `invalid_request`. */
const badSubjectToken = invalidRequest;

export interface TokenExchangeGrantDeps {
  upstream: ProviderMetadata;
  identities: Identities;
  grants: Grants;
  accounts: Accounts;
  decisions: DecisionLog;
  tokenService: TokenService;
  logger: Logger;
}

/**
 * RFC 8693 token exchange: a client trades an ID token from a configured upstream provider, issued
 * to an audience this client may present (`claimTokenAudiences`), for an Assent access token. The
 * token is verified against that provider's keys; the `exchange` policy decides the scopes (user
 * scopes only when the identity is linked to a local account whose holder consented to this client
 * before — the account is then the token's subject, and the token belongs to that consent's grant;
 * otherwise the subject is the client itself). Nothing is written unless a token is issued (apart
 * from the decision record).
 */
export const tokenExchangeGrant: GrantHandler<TokenExchangeGrantDeps> = async (deps, client, body) => {
  if (client.metadata.token_endpoint_auth_method === 'none') throw unauthorizedClient('public clients cannot use token exchange');
  const { subjectToken, audience, scope } = exchangeParams(body);
  const { party, providerName } = await presentedParty(deps, client, subjectToken);
  const linked = await deps.identities.find(party.iss, party.sub);
  const requested = scope !== undefined ? splitList(scope) : allowedScopes(client);
  const { result } = await deps.decisions.decide('exchange', await exchangeInput(deps, client, party, linked, requested));
  if (result.denied.some((d) => d.reason === 'untrusted_issuer')) throw badSubjectToken(`ID tokens of ${providerName} are not accepted for token exchange`);
  if (result.granted.length === 0) throw invalidScope(`none of the requested scopes can be granted: ${result.denied.map((d) => `${d.scope} (${d.reason})`).join(', ')}`);
  // A linked account deleted or disabled meanwhile cannot be the subject.
  if (linked && !(await deps.accounts.usable(linked.accountId))) throw badSubjectToken('the account linked to this identity no longer exists or is disabled');
  const access = await deps.tokenService.issueAccessToken({
    clientId: client._id,
    subject: linked ? linked.accountId : client._id,
    ...(linked ? { accountId: linked.accountId, grantId: Grants.idFor(linked.accountId, client._id) } : {}),
    scopes: result.granted,
    ...(audience !== undefined ? { audience } : {}),
  });
  return {
    access_token: access.token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    scope: result.granted.join(' '),
  };
};

/** The request's parameters (RFC 8693 §2.1), of which only an ID token for an access token is supported. */
function exchangeParams(body: Record<string, unknown>): { subjectToken: string; audience?: string; scope?: string } {
  const params = readParams(body, ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'resource', 'audience', 'actor_token', 'actor_token_type'] as const);
  const subjectToken = requireParam(params, 'subject_token');
  const subjectTokenType = requireParam(params, 'subject_token_type');
  if (subjectTokenType !== ID_TOKEN_TYPE) throw invalidRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
  if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw invalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (params.actor_token !== undefined || params.actor_token_type !== undefined) throw invalidRequest('actor_token (delegation) is not supported');
  if (params.resource !== undefined && params.audience !== undefined && params.resource !== params.audience) {
    throw invalidTarget('give either resource or audience, not two different targets');
  }
  // Never a bare name: a client id here would make the token look like it was meant for that client.
  const audience = params.resource ?? params.audience;
  if (audience !== undefined && !isAbsoluteUriWithoutFragment(audience)) throw invalidTarget('resource and audience must be absolute URIs without a fragment');
  return { subjectToken, ...(audience !== undefined ? { audience } : {}), ...(params.scope !== undefined ? { scope: params.scope } : {}) };
}

/** The party the subject token names, verified against the keys of the provider that issued it. */
async function presentedParty(deps: TokenExchangeGrantDeps, client: ClientDocument, subjectToken: string): Promise<{ party: RequestingParty; providerName: string }> {
  const provider = upstreamProviderOf(deps.upstream, subjectToken);
  if (!provider) throw badSubjectToken('subject_token is not an ID token of a configured identity provider');
  try {
    return { party: await partyFromPresentedIdToken(deps.upstream, provider, subjectToken, client._id), providerName: provider.displayName };
  } catch (error) {
    if (!(error instanceof FederationError)) throw error;
    deps.logger.info('token exchange subject_token rejected', { client: client._id, provider: provider.id, code: error.code, reason: error.message });
    throw badSubjectToken(presentedTokenRefusal(provider, error));
  }
}

async function exchangeInput(deps: TokenExchangeGrantDeps, client: ClientDocument, party: RequestingParty, linked: IdentityDocument | null, requested: string[]): Promise<ExchangeInput> {
  const priorGrants = linked ? await deps.grants.forAccount(linked.accountId) : [];
  return {
    now: new Date().toISOString(),
    client: { client_id: client._id, allowed_scopes: allowedScopes(client) },
    subject: {
      iss: party.iss,
      sub: party.sub,
      ...(party.email !== undefined ? { email: party.email } : {}),
      ...(party.email_verified !== undefined ? { email_verified: party.email_verified } : {}),
      ...(linked ? { linked_account: { sub: linked.accountId } } : {}),
    },
    requested_scopes: requested,
    known_scopes: KNOWN_SCOPES,
    trusted_issuers: deps.upstream.claimTokenIssuers(client._id),
    prior_grants: priorGrants.map((g) => ({ client_id: g.clientId, scopes: g.scopes, granted_at: g.updatedAt.toISOString() })),
  };
}
