// The owner's access history: recent claims decisions about their resources, in plain language.

import type { DecisionLog } from '../../policy/decision-log.js';
import type { ClaimsInput, ClaimsOutput } from '../../policy/entrypoints.js';
import type { Resources } from '../../store/repositories/resources.js';
import { askedFor, byId, partyLabel } from './sentences.js';

export interface HistoryEntry {
  id: string;
  decidedAt: Date;
  clientId: string;
  party: string;
  asked: string;
  outcome: ClaimsOutput['outcome'];
}

export interface HistoryDeps {
  decisions: Pick<DecisionLog, 'ofOwner'>;
  resources: Pick<Resources, 'ofOwner'>;
}

/** The owner's most recent claims decisions, newest first. */
export async function accessHistory(deps: HistoryDeps, ownerId: string, limit = 25): Promise<HistoryEntry[]> {
  const [records, resources] = await Promise.all([deps.decisions.ofOwner(ownerId, 'claims', limit), deps.resources.ofOwner(ownerId)]);
  const names = byId(resources);
  return records.map((record) => {
    const input = record.input as ClaimsInput;
    return {
      id: record.id,
      decidedAt: record.decidedAt,
      clientId: input.client.client_id,
      party: partyLabel(input.requesting_party),
      asked: askedFor(input, names),
      outcome: (record.result as ClaimsOutput).outcome,
    };
  });
}
