import { notFound } from '../../protocol/errors.js';
import type { SharingServices } from './services.js';

/** The owner's live RPTs, and revoking one. */

export interface ActiveRpt {
  jti: string;
  clientId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Live RPTs about the owner's resources: unrevoked, unexpired access tokens with scope `uma`. */
export async function activeRpts(services: SharingServices, ownerId: string): Promise<ActiveRpt[]> {
  const tokens = await services.tokens.accessTokens.unrevokedOf(ownerId);
  return tokens.filter((t) => t.scopes.includes('uma')).map((t) => ({ jti: t._id, clientId: t.clientId, issuedAt: t.issuedAt, expiresAt: t.expiresAt }));
}

export async function revokeRpt(services: SharingServices, ownerId: string, jti: string): Promise<void> {
  const token = await services.tokens.accessTokens.byJti(jti);
  if (!token || token.accountId !== ownerId || token.revokedAt || !token.scopes.includes('uma')) throw notFound('you have no active access token with this id');
  await services.tokens.accessTokens.revokeOne(jti);
}
