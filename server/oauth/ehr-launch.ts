import type { Launches } from '../store/repositories/launches.js';
import { RedirectableError, type AuthorizationRequest } from './authorization-request.js';

/**
 * SMART EHR launch: spends the request's `launch` (single-use, short-lived) and carries its
 * context in the request from here on. An unknown, expired or spent launch, or one the EHR made
 * for another app, is the client's invalid_request (the launch is spent either way, so a launch
 * shown to the wrong app is worth nothing to the right one either).
 */
export async function redeemLaunch(deps: { launches: Launches }, request: AuthorizationRequest): Promise<AuthorizationRequest> {
  const { launch, ...rest } = request;
  if (launch === undefined) return request;
  const fail = (description: string): never => {
    throw new RedirectableError(request.redirectUri, 'invalid_request', description, request.state);
  };
  const redeemed = await deps.launches.redeem(launch);
  if (!redeemed) return fail('launch is unknown, expired or was already used');
  if (redeemed.clientId !== undefined && redeemed.clientId !== request.clientId) return fail('launch was created for another client');
  return { ...rest, launchContext: redeemed.context };
}
