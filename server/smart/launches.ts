import { invalidRequest } from '../protocol/errors.js';
import type { Accounts } from '../store/repositories/accounts.js';
import type { Clients } from '../store/repositories/clients.js';
import type { Launches } from '../store/repositories/launches.js';
import { parseLaunchRequest } from './launch-context.js';

export interface LaunchCreationDeps {
  accounts: Pick<Accounts, 'hasFhirUser'>;
  clients: Pick<Clients, 'byId'>;
  launches: Pick<Launches, 'create'>;
}

/**
 * POST /smart/launch for the EHR client `ehrClientId` (the access policy let its token in): checks
 * the body, that the patient is known here (some account is `Patient/<id>`) and that the app it
 * names, if any, is registered; then stores the launch. Nothing is stored for a refused body.
 */
export async function createLaunch(deps: LaunchCreationDeps, ehrClientId: string, body: unknown): Promise<{ launch: string; expires_in: number }> {
  const { context, clientId } = parseLaunchRequest(body);
  if (!(await deps.accounts.hasFhirUser(`Patient/${context.patient}`))) throw invalidRequest(`unknown patient ${context.patient}`);
  if (clientId !== undefined && !(await deps.clients.byId(clientId))) throw invalidRequest(`unknown client_id ${clientId}`);
  const { launch, expiresIn } = await deps.launches.create({ context, createdBy: ehrClientId, ...(clientId !== undefined ? { clientId } : {}) });
  return { launch, expires_in: expiresIn };
}
