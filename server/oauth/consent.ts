import type { ConsentChoice, ConsentInput, ConsentOutput, SmartFacts } from '../policy/entrypoints.js';
import type { DecisionLog } from '../policy/decision-log.js';
import type { LaunchContext } from '../smart/launch-context.js';
import { smartResourceScopes } from '../smart/scopes.js';
import type { AccountDocument } from '../store/repositories/accounts.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { Grants } from '../store/repositories/grants.js';
import { DEFAULT_CLIENT_SCOPES, KNOWN_SCOPES } from './scopes.js';

/** The registered scopes; an empty registered scope is no scope at all, only a missing one means the defaults. */
export function allowedScopes(client: ClientDocument): string[] {
  return typeof client.metadata.scope === 'string' ? client.metadata.scope.split(' ').filter(Boolean) : DEFAULT_CLIENT_SCOPES;
}

/** The SMART facts of a request: its resource scopes and the client's, parsed once, and the patient in context. */
export function smartFacts(allowed: readonly string[], requested: readonly string[], launch?: LaunchContext): SmartFacts {
  return {
    requested: smartResourceScopes(requested),
    registered: smartResourceScopes(allowed),
    ...(launch?.patient !== undefined ? { launch: { patient: launch.patient } } : {}),
  };
}

/**
 * The `consent` input for a request with no user behind it (client_credentials, a registration's
 * default scopes): nothing can be asked, so the policy grants outright or denies.
 */
export function consentWithoutUserInput(clientId: string, allowed: readonly string[], requested: readonly string[]): ConsentInput {
  return {
    now: new Date().toISOString(),
    client: { client_id: clientId, allowed_scopes: allowed },
    requested_scopes: requested,
    known_scopes: KNOWN_SCOPES,
    prior_grants: [],
    smart: smartFacts(allowed, requested),
  };
}

export interface ConsentDeps {
  decisions: DecisionLog;
  grants: Grants;
  accounts: { byId(sub: string): Promise<AccountDocument | null | undefined> };
}

/** What the decision is about: the request's scopes and launch context. */
export interface ConsentRequest {
  scopes: readonly string[];
  launchContext?: LaunchContext;
}

/**
 * Asks the `consent` policy (with its SMART part, the `scopes` policy) which of the requested
 * scopes are granted already, which to ask the user about, which are mandatory and which are
 * denied, and records the decision. With the user's `choice` from the consent page, the answer's
 * `chosen` is what to issue.
 */
export async function decideConsent(deps: ConsentDeps, client: ClientDocument, accountId: string, request: ConsentRequest, choice?: ConsentChoice): Promise<ConsentOutput> {
  const [priorGrants, account] = await Promise.all([deps.grants.forAccount(accountId), deps.accounts.byId(accountId)]);
  const allowed = allowedScopes(client);
  const { result } = await deps.decisions.decide('consent', {
    now: new Date().toISOString(),
    client: { client_id: client._id, allowed_scopes: allowed },
    user: { sub: accountId, ...(account?.fhirUser !== undefined ? { fhirUser: account.fhirUser } : {}), patients: account?.patients ?? [] },
    requested_scopes: request.scopes,
    known_scopes: KNOWN_SCOPES,
    prior_grants: priorGrants.map((g) => ({ client_id: g.clientId, scopes: g.scopes, granted_at: g.updatedAt.toISOString() })),
    smart: smartFacts(allowed, request.scopes, request.launchContext),
    ...(choice ? { choice } : {}),
  });
  return result;
}
