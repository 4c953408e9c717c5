// The owner's live RPTs, and revoking one.

import { notFound } from '../../protocol/errors.js';
import type { Tokens } from '../../store/repositories/tokens.js';

/** The RPTs are access tokens: read and revoked in the tokens repository. */
export interface RptDeps {
  tokens: Pick<Tokens, 'accessTokens'>;
}

export interface ActiveRpt {
  jti: string;
  clientId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Live RPTs about the owner's resources: unrevoked, unexpired access tokens with scope `uma`. */
export async function activeRpts(deps: RptDeps, ownerId: string): Promise<ActiveRpt[]> {
  const tokens = await deps.tokens.accessTokens.unrevokedOf(ownerId);
  return tokens.filter((t) => t.scopes.includes('uma')).map((t) => ({ jti: t._id, clientId: t.clientId, issuedAt: t.issuedAt, expiresAt: t.expiresAt }));
}

export async function revokeRpt(deps: RptDeps, ownerId: string, jti: string): Promise<void> {
  const token = await deps.tokens.accessTokens.byJti(jti);
  if (!token || token.accountId !== ownerId || token.revokedAt || !token.scopes.includes('uma')) throw notFound('you have no active access token with this id');
  await deps.tokens.accessTokens.revokeOne(jti);
}
