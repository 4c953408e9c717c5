import { invalidClient } from '../../protocol/errors.js';
import type { ClientDocument, Clients } from '../../store/repositories/clients.js';

/** The client a browser interaction (sign-in, consent, claims gathering) was started for; it may have been deleted since. */
export async function requireClient(deps: { clients: Clients }, clientId: string): Promise<ClientDocument> {
  const client = await deps.clients.byId(clientId);
  if (!client) throw invalidClient('the client of this request no longer exists');
  return client;
}
