import type { OperatorClientConfig } from '../../config/config.js';
import { hashSecret } from '../../crypto/secrets.js';
import type { DecisionLog } from '../../policy/decision-log.js';
import { ProtocolError } from '../../protocol/errors.js';
import { StartupError } from '../../startup-error.js';
import type { ClientMetadata, Clients } from '../../store/repositories/clients.js';
import { usesClientSecret } from './authenticate.js';
import { clientMetadata } from './registration.js';

export interface OperatorClientDeps {
  clients: Clients;
  /** The `registration` policy (source operator) and, for a client without scope, the `consent` policy's defaults. */
  decisions: DecisionLog;
  config: { allowInsecureRedirects?: boolean };
  /** Revokes what a client was issued (server/oauth/clients/client-revocation.ts), for a client the operator removed. */
  revokeIssuance: (clientId: string) => Promise<void>;
}

/**
 * Writes the operator's clients (ASSENT_CLIENTS, `clients` in the config file) over whatever had
 * their client_ids, with source `operator` and the secret stored hashed, at every start-up: an
 * entry changed and restarted is the client changed. Every entry is checked as a registration
 * would be (defaults, redirect URIs, auth method and credentials, the `registration` policy)
 * before any is written, so a bad entry stops start-up naming it and leaves the store as it was.
 * An operator client no longer configured is retired as RFC 7592 deletes a client: what it was
 * issued is revoked before and after it is deleted.
 */
export async function upsertOperatorClients(deps: OperatorClientDeps, entries: readonly OperatorClientConfig[]): Promise<void> {
  const checked: { clientId: string; metadata: ClientMetadata; secretHash?: string }[] = [];
  for (const [index, { client_id: clientId, client_secret: secret, ...body }] of entries.entries()) {
    const metadata = await checkedMetadata(deps, index, clientId, body);
    const needsSecret = usesClientSecret(metadata.token_endpoint_auth_method);
    if (needsSecret !== (secret !== undefined)) {
      const rule = needsSecret ? 'is required' : 'must not be given';
      throw configProblem(`clients/${index}/client_secret`, `${rule} with token_endpoint_auth_method ${metadata.token_endpoint_auth_method}`);
    }
    checked.push({ clientId, metadata, ...(secret !== undefined ? { secretHash: hashSecret(secret) } : {}) });
  }
  for (const { clientId, metadata, secretHash } of checked) await deps.clients.putOperatorClient(clientId, metadata, secretHash);
  const configured = new Set(checked.map((client) => client.clientId));
  for (const clientId of await deps.clients.operatorClientIds()) {
    if (configured.has(clientId)) continue;
    await deps.revokeIssuance(clientId);
    await deps.clients.delete(clientId);
    await deps.revokeIssuance(clientId);
  }
}

async function checkedMetadata(deps: OperatorClientDeps, index: number, clientId: string, body: Record<string, unknown>): Promise<ClientMetadata> {
  try {
    return await clientMetadata(deps, 'operator', clientId, body);
  } catch (err) {
    if (err instanceof ProtocolError) throw configProblem(`clients/${index}`, err.description ?? err.code);
    throw err;
  }
}

const configProblem = (where: string, problem: string) =>
  new StartupError(`invalid configuration: ASSENT_CLIENTS (${where}): ${problem}; fix it in the environment or the ASSENT_CONFIG file and start again`);
