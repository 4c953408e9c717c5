import type { Context } from 'koa';
import { generateSecret, hashSecret, secretMatches } from '../crypto/secrets.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';

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
export interface FederationStateDocument extends StoredDocument {
  providerId: string;
  purpose: FederationPurpose;
  /** The interaction, claims interaction or account the trip continues (`account` for account sign-in). */
  targetId: string;
  nonce?: string;
  codeVerifier: string;
  /** The max_age sent upstream, which the ID token's auth_time must meet. */
  maxAge?: number;
  browserHash: string;
  spentAt?: Date;
  expiresAt: Date;
}

export const FEDERATION_PATH = '/federation';
const COOKIE = 'assent_federation';
const LIFETIME_SECONDS = 10 * 60;

export class FederationStates {
  private constructor(private readonly states: Collection<FederationStateDocument>) {}

  static async open(store: Store): Promise<FederationStates> {
    return new FederationStates(await store.collection<FederationStateDocument>('federation_states'));
  }

  /** Stores a new trip and binds it to this browser; returns the `state` to send upstream. */
  async create(ctx: Context, fields: Pick<FederationStateDocument, 'providerId' | 'purpose' | 'targetId' | 'nonce' | 'codeVerifier' | 'maxAge'>): Promise<string> {
    const state = generateSecret();
    const binding = generateSecret();
    const id = hashSecret(state);
    await this.states.insert({
      _id: id,
      providerId: fields.providerId,
      purpose: fields.purpose,
      targetId: fields.targetId,
      ...(fields.nonce !== undefined ? { nonce: fields.nonce } : {}),
      codeVerifier: fields.codeVerifier,
      ...(fields.maxAge !== undefined ? { maxAge: fields.maxAge } : {}),
      browserHash: hashSecret(binding),
      expiresAt: new Date(Date.now() + LIFETIME_SECONDS * 1000),
    });
    ctx.cookies.set(cookieName(id), binding, { httpOnly: true, sameSite: 'lax', path: FEDERATION_PATH, maxAge: LIFETIME_SECONDS * 1000, overwrite: true });
    return state;
  }

  /**
   * Spends the trip of `state` exactly once and returns it when this browser holds its cookie.
   * The trip is spent whoever presents it: a callback URL that leaked to another browser is
   * worth nothing to either. Unknown, expired, replayed or another browser's: null.
   */
  async take(ctx: Context, state: string): Promise<FederationStateDocument | null> {
    if (!/^[A-Za-z0-9_-]{20,128}$/.test(state)) return null;
    const id = hashSecret(state);
    const binding = ctx.cookies.get(cookieName(id));
    ctx.cookies.set(cookieName(id), null, { httpOnly: true, sameSite: 'lax', path: FEDERATION_PATH, overwrite: true });
    const trip = await this.states.consume({ _id: id, spentAt: { $exists: false } }, { spentAt: new Date() });
    return trip && binding && secretMatches(binding, trip.browserHash) ? trip : null;
  }
}

const cookieName = (id: string) => `${COOKIE}_${id.slice(0, 16)}`;
