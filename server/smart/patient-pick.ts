import type { DecisionLog } from '../policy/decision-log.js';
import type { AccessInput } from '../policy/entrypoints.js';
import type { AccountDocument } from '../store/repositories/accounts.js';

export interface PatientPickDeps {
  decisions: Pick<DecisionLog, 'decide'>;
}

/** The `access` entrypoint's facts about an account choosing a patient for a SMART launch context. */
export function pickPatientInput(account: AccountDocument, patient: string, now: Date): AccessInput {
  return {
    api: 'pick_patient',
    now: now.toISOString(),
    account: { sub: account._id, ...(account.fhirUser !== undefined ? { fhirUser: account.fhirUser } : {}), patients: account.patients ?? [] },
    patient,
  };
}

/** Whether the access policy lets this account put this patient in context (a recorded decision). */
export async function mayPickPatient(deps: PatientPickDeps, account: AccountDocument, patient: string): Promise<boolean> {
  return (await deps.decisions.decide('access', pickPatientInput(account, patient, new Date()))).result.allow;
}

/** The patient an account is, from its FHIR identity (`Patient/<id>`), if it is one. */
export function ownPatient(account: AccountDocument): string | undefined {
  return account.fhirUser?.startsWith('Patient/') ? account.fhirUser.slice('Patient/'.length) : undefined;
}

/**
 * What a standalone `launch/patient` puts in context for this account: its own patient when the
 * policy lets it (a patient), else the patients to offer on the picker — the compartments listed
 * on the account, each one the policy lets it choose.
 */
export async function patientChoice(deps: PatientPickDeps, account: AccountDocument): Promise<{ patient: string } | { offer: string[] }> {
  const own = ownPatient(account);
  if (own !== undefined && (await mayPickPatient(deps, account, own))) return { patient: own };
  const offer: string[] = [];
  for (const candidate of new Set(account.patients ?? [])) if (await mayPickPatient(deps, account, candidate)) offer.push(candidate);
  return { offer };
}
