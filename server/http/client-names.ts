import type { Clients } from '../store/repositories/clients.js';

/**
 * The display names of the given clients, each looked up once however often it occurs: the
 * registered client_name, or the client id when it has none (or is gone).
 */
export async function clientNames(clients: Pick<Clients, 'byId'>, ids: Iterable<string>): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const names = await Promise.all(unique.map(async (id) => (await clients.byId(id))?.metadata.client_name ?? id));
  return new Map(unique.map((id, i) => [id, names[i]!]));
}
