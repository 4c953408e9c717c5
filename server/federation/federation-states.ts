import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { Store } from '../store/port.js';
import { BrowserBoundRecords, type BrowserBoundDocument, type CookieToSet, type RequestCookies } from '../store/repositories/browser-bound.js';

/**
 * Why a browser went upstream: to sign in during an authorization request (`login`), to sign in
 * to the account pages (`account`), to prove who they are in a UMA claims interaction (`claims`),
 * or to link the identity to the signed-in account (`link`).
 */
export type FederationPurpose = 'login' | 'account' | 'claims' | 'link';

/**
 * One trip to an upstream provider: keyed by the hash of the `state` sent there, carrying the
 * nonce and PKCE verifier the answer must match, what the trip is for and the browser it is bound
 * to (the hash of a cookie). Single use, ten minutes.
 */
export interface FederationStateDocument extends BrowserBoundDocument {
  providerId: string;
  purpose: FederationPurpose;
  /** The interaction, claims interaction or account the trip continues (`account` for account sign-in). */
  targetId: string;
  nonce?: string;
  codeVerifier: string;
  /** The max_age sent upstream, which the ID token's auth_time must meet. */
  maxAge?: number;
}

export type NewTrip = Pick<FederationStateDocument, 'providerId' | 'purpose' | 'targetId' | 'nonce' | 'codeVerifier' | 'maxAge'>;

export const FEDERATION_PATH = '/federation';

export class FederationStates {
  private constructor(private readonly trips: BrowserBoundRecords<FederationStateDocument>) {}

  static async open(store: Store): Promise<FederationStates> {
    const collection = await store.collection<FederationStateDocument>('federation_states');
    return new FederationStates(new BrowserBoundRecords(collection, { cookie: 'assent_federation', path: FEDERATION_PATH, lifetimeSeconds: 10 * 60 }));
  }

  /** Stores a new trip and the cookie binding it to this browser; returns the `state` to send upstream. */
  async create(fields: NewTrip): Promise<{ state: string; cookie: CookieToSet }> {
    const state = generateSecret();
    const { cookie } = await this.trips.create({
      providerId: fields.providerId,
      purpose: fields.purpose,
      targetId: fields.targetId,
      ...(fields.nonce !== undefined ? { nonce: fields.nonce } : {}),
      codeVerifier: fields.codeVerifier,
      ...(fields.maxAge !== undefined ? { maxAge: fields.maxAge } : {}),
    }, hashSecret(state));
    return { state, cookie };
  }

  /**
   * Finishes the trip of `state` exactly once and returns it when `cookies` hold its binding.
   * The trip is used up whoever presents it: a callback URL that leaked to another browser is
   * worth nothing to either. Unknown, expired, replayed or another browser's: no trip. The
   * cookies returned delete the binding.
   */
  async take(state: string, cookies: RequestCookies): Promise<{ trip: FederationStateDocument | null; cookies: CookieToSet[] }> {
    if (!/^[A-Za-z0-9_-]{20,128}$/.test(state)) return { trip: null, cookies: [] };
    const { record, cookie } = await this.trips.finish(hashSecret(state), cookies);
    return { trip: record, cookies: [cookie] };
  }
}
