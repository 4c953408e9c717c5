import type { ClaimsInput, ClaimsOutput } from '../../policy/entrypoints.js';
import { askedFor, byId, partyLabel } from './sentences.js';
import type { SharingServices } from './services.js';

/** The owner's access history: recent claims decisions about their resources, in plain language. */

export interface HistoryEntry {
  id: string;
  decidedAt: Date;
  clientId: string;
  party: string;
  asked: string;
  outcome: ClaimsOutput['outcome'];
}

/** The owner's most recent claims decisions, newest first. */
export async function accessHistory(services: SharingServices, ownerId: string, limit = 25): Promise<HistoryEntry[]> {
  const [records, resources] = await Promise.all([services.decisions.ofOwner(ownerId, 'claims', limit), services.resources.ofOwner(ownerId)]);
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
