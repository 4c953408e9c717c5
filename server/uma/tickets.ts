import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { RequestedPermission, RequestingParty, Tickets } from '../store/repositories/uma-requests.js';

export const TICKET_LIFETIME_SECONDS = 300;

export interface TicketDeps {
  uma: { tickets: Pick<Tickets, 'create'> };
}

/** What a ticket is bound to: the permissions asked of one owner's resource server, and maybe a party and a client. */
export interface TicketBinding {
  ownerId: string;
  resourceServerId: string;
  permissions: RequestedPermission[];
  requestingParty?: RequestingParty;
  clientId?: string;
}

/** Mints a permission ticket; only its hash is stored. */
export async function issueTicket(deps: TicketDeps, binding: TicketBinding): Promise<string> {
  const ticket = generateSecret();
  await deps.uma.tickets.create({
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
