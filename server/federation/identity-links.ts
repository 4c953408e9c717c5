import type { UpstreamProviderConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { DuplicateKeyError } from '../store/port.js';
import type { Accounts } from '../store/repositories/accounts.js';
import type { Identities } from '../store/repositories/identities.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';

/**
 * What a verified upstream identity means here: the local account it signs in to (only through a
 * link the account's owner made while signed in), and making that link.
 */

export interface IdentityLinkDeps {
  identities: Identities;
  accounts: Accounts;
  logger: Logger;
}

export type LinkedAccount = { kind: 'account'; accountId: string } | { kind: 'unlinked' } | { kind: 'disabled' };

/** The account `party` (verified at `provider`) is linked to, unless there is none or it is disabled. */
export async function linkedAccount(deps: IdentityLinkDeps, provider: UpstreamProviderConfig, party: RequestingParty): Promise<LinkedAccount> {
  const identity = await deps.identities.find(party.iss, party.sub);
  // An identity still linked to an account that was deleted since counts as unlinked.
  const account = identity && (await deps.accounts.byId(identity.accountId));
  if (account?.disabled) return { kind: 'disabled' };
  if (!identity || !account) {
    deps.logger.info('federation: login with an unlinked identity', { provider: provider.id });
    return { kind: 'unlinked' };
  }
  return { kind: 'account', accountId: identity.accountId };
}

/** Links `party` to the account; `elsewhere` when another account has it already (linking it again to this one is fine). */
export async function linkIdentity(deps: Omit<IdentityLinkDeps, 'accounts'>, accountId: string, provider: UpstreamProviderConfig, party: RequestingParty): Promise<'linked' | 'elsewhere'> {
  try {
    await deps.identities.link({
      accountId,
      providerId: provider.id,
      issuer: party.iss,
      subject: party.sub,
      ...(party.email ? { email: party.email } : {}),
    });
  } catch (err) {
    if (!(err instanceof DuplicateKeyError)) throw err;
    const existing = await deps.identities.find(party.iss, party.sub);
    return existing?.accountId === accountId ? 'linked' : 'elsewhere';
  }
  deps.logger.info('federation: identity linked', { provider: provider.id, account: accountId });
  return 'linked';
}
