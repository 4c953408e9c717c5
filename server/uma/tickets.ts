import type { Services } from '../http/services.js';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { RequestedPermission, RequestingParty, TicketDocument } from '../store/repositories/uma-requests.js';

export const TICKET_LIFETIME_SECONDS = 300;

/** Mints a permission ticket; only its hash is stored. */
export async function issueTicket(
  services: Pick<Services, 'uma'>,
  binding: { ownerId: string; resourceServerId: string; permissions: RequestedPermission[]; requestingParty?: RequestingParty; clientId?: string },
): Promise<string> {
  const ticket = generateSecret();
  await services.uma.tickets.insert({
    _id: hashSecret(ticket),
    ownerId: binding.ownerId,
    resourceServerId: binding.resourceServerId,
    permissions: binding.permissions,
    ...(binding.requestingParty ? { requestingParty: binding.requestingParty } : {}),
    ...(binding.clientId ? { clientId: binding.clientId } : {}),
    expiresAt: new Date(Date.now() + TICKET_LIFETIME_SECONDS * 1000),
  });
  return ticket;
}

/** Spends a ticket: of concurrent redeemers exactly one gets it; expired, unknown or spent → null. */
export function redeemTicket(services: Pick<Services, 'uma'>, ticket: string): Promise<TicketDocument | null> {
  return services.uma.tickets.consume({ _id: hashSecret(ticket), consumedAt: { $exists: false } }, { consumedAt: new Date() });
}
