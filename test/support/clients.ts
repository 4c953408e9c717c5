import { hashSecret } from '../../server/crypto/secrets.js';
import type { ClientMetadata, Clients } from '../../server/store/repositories/clients.js';

/** Creates a client straight in the store (as the seeds do): empty metadata unless given, a hashed secret if any. */
export function seedClient(clients: Clients, id: string, metadata: Partial<ClientMetadata>, secret?: string) {
  return clients.create({
    _id: id,
    metadata: { redirect_uris: [], grant_types: [], response_types: [], token_endpoint_auth_method: 'none', scope: '', ...metadata },
    ...(secret ? { secretHash: hashSecret(secret) } : {}),
    source: 'seed',
    createdAt: new Date(),
  });
}
