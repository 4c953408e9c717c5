import { patientChoice, type PatientPickDeps } from '../smart/patient-pick.js';
import type { Accounts } from '../store/repositories/accounts.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { Login } from './interactions.js';

export interface LaunchPatientDeps extends PatientPickDeps {
  accounts: Accounts;
}

/** A standalone launch (`launch/patient`) that has no patient in context yet. */
export function needsPatient(request: AuthorizationRequest): boolean {
  return request.scopes.includes('launch/patient') && request.launchContext?.patient === undefined;
}

export function withPatient(request: AuthorizationRequest, patient: string): AuthorizationRequest {
  return { ...request, launchContext: { ...request.launchContext, patient } };
}

/**
 * The patient step of a standalone launch: the request with the signed-in patient in context, or
 * the patients the signed-in practitioner may choose from (the picker). An account with nobody to
 * choose goes on without a patient in context (the scopes policy then grants no patient/ scope).
 */
export async function patientStep(deps: LaunchPatientDeps, request: AuthorizationRequest, login: Login): Promise<{ request: AuthorizationRequest } | { offer: string[] }> {
  if (!needsPatient(request)) return { request };
  const account = await deps.accounts.byId(login.accountId);
  if (!account) return { request };
  const choice = await patientChoice(deps, account);
  if ('patient' in choice) return { request: withPatient(request, choice.patient) };
  return choice.offer.length > 0 ? choice : { request };
}
