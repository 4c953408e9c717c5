import type { SigningAlgorithm } from '../keys/key-ring.js';
import { looksLikeSmartScope } from '../smart/smart-request.js';
import type { ClientMetadata } from '../store/repositories/clients.js';

/** The algorithms a client may register as `id_token_signed_response_alg` (OpenID Connect Registration §2). */
export const ID_TOKEN_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];

/**
 * How a client's ID tokens are signed: what it registered; else RS256 for a SMART client (SMART
 * App Launch expects RS256, and relying parties built for it may support nothing else); else ES256.
 */
export function idTokenAlgorithm(metadata: Pick<ClientMetadata, 'scope' | 'id_token_signed_response_alg'>): SigningAlgorithm {
  if (metadata.id_token_signed_response_alg) return metadata.id_token_signed_response_alg;
  return metadata.scope.split(' ').some(looksLikeSmartScope) ? 'RS256' : 'ES256';
}
