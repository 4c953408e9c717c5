import type { Grants } from '../../store/repositories/grants.js';
import type { Tokens } from '../../store/repositories/tokens.js';
import type { UmaStore } from '../../store/repositories/uma-requests.js';

export interface ClientIssuance {
  tokens: Tokens;
  grants: Grants;
  uma: UmaStore;
}

/**
 * Takes back everything a client was issued, in the store so every process sees it at once: its
 * access tokens (PATs, RPTs and AATs among them) and refresh tokens are revoked, its unredeemed
 * codes, the users' grants to it, its PCTs and the tickets bound to it are deleted. The owner's
 * access requests stay: they are her history, and approving one grants the requesting party, not
 * the client. Run once the client itself is gone (RFC 7592 §2.3), so it can obtain nothing more.
 */
export async function revokeClientIssuance(deps: ClientIssuance, clientId: string): Promise<void> {
  await Promise.all([
    deps.tokens.revokeClient(clientId),
    deps.grants.removeOfClient(clientId),
    deps.uma.pcts.deleteOfClient(clientId),
    deps.uma.tickets.deleteOfClient(clientId),
  ]);
}
