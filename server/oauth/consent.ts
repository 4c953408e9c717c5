import type { ConsentInput, ConsentOutput } from '../policy/entrypoints.js';
import type { DecisionLog } from '../policy/decision-log.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { Grants } from '../store/repositories/grants.js';
import { DEFAULT_CLIENT_SCOPES, KNOWN_SCOPES } from './scopes.js';

/** The registered scopes; an empty registered scope is no scope at all, only a missing one means the defaults. */
export function allowedScopes(client: ClientDocument): string[] {
  return typeof client.metadata.scope === 'string' ? client.metadata.scope.split(' ').filter(Boolean) : DEFAULT_CLIENT_SCOPES;
}

/**
 * The `consent` input for a request with no user behind it (client_credentials, a registration's
 * default scopes): nothing can be asked, so the policy grants outright or denies.
 */
export function consentWithoutUserInput(clientId: string, allowed: readonly string[], requested: readonly string[]): ConsentInput {
  return { now: new Date().toISOString(), client: { client_id: clientId, allowed_scopes: allowed }, requested_scopes: requested, known_scopes: KNOWN_SCOPES, prior_grants: [] };
}

export interface ConsentDeps {
  decisions: DecisionLog;
  grants: Grants;
}

/**
 * Asks the `consent` policy which of the requested scopes are granted already, which to ask the
 * user about, which are mandatory and which are denied, and records the decision.
 */
export async function decideConsent(
  deps: ConsentDeps,
  client: ClientDocument,
  accountId: string,
  requestedScopes: string[],
): Promise<ConsentOutput> {
  const priorGrants = await deps.grants.forAccount(accountId);
  const { result } = await deps.decisions.decide('consent', {
    now: new Date().toISOString(),
    client: { client_id: client._id, allowed_scopes: allowedScopes(client) },
    user: { sub: accountId },
    requested_scopes: requestedScopes,
    known_scopes: KNOWN_SCOPES,
    prior_grants: priorGrants.map((g) => ({ client_id: g.clientId, scopes: g.scopes, granted_at: g.updatedAt.toISOString() })),
  });
  return result;
}
