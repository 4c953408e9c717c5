import type { Services } from '../../http/services.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ClientDocument } from '../../store/repositories/clients.js';

/** The client a browser interaction (sign-in, consent, claims gathering) was started for; it may have been deleted since. */
export async function requireClient(services: Pick<Services, 'clients'>, clientId: string): Promise<ClientDocument> {
  const client = await services.clients.byId(clientId);
  if (!client) throw new ProtocolError(400, 'invalid_client', 'the client of this request no longer exists');
  return client;
}
