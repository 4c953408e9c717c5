import { generateSecret } from '../../crypto/secrets.js';
import type { Store } from '../port.js';
import { BrowserBoundRecords, type BrowserBoundDocument, type CookieToSet, type RequestCookies } from './browser-bound.js';

/** A UMA claims interaction (UMA 2.0 Grant §3.3.2) in progress, bound to the browser that started it. */
export interface ClaimsInteractionDocument extends BrowserBoundDocument {
  clientId: string;
  claimsRedirectUri: string;
  state?: string;
  /** Hash of the ticket the client sent; the ticket itself is never stored. */
  ticketHash: string;
  /** Token the interaction's forms carry. */
  csrf: string;
}

/** Where the interaction pages live (the cookie binding the browser is scoped to it). */
export const CLAIMS_PATH = '/uma/claims';

export type NewClaimsInteraction = Pick<ClaimsInteractionDocument, 'clientId' | 'claimsRedirectUri' | 'ticketHash'> & { state?: string | undefined };

/** Claims interactions, each usable once and only from the browser holding its cookie (15 minutes). */
export class ClaimsInteractions {
  private constructor(private readonly records: BrowserBoundRecords<ClaimsInteractionDocument>) {}

  static async open(store: Store): Promise<ClaimsInteractions> {
    const collection = await store.collection<ClaimsInteractionDocument>('uma_claims_interactions');
    return new ClaimsInteractions(new BrowserBoundRecords(collection, { cookie: 'assent_claims', path: CLAIMS_PATH, lifetimeSeconds: 15 * 60 }));
  }

  /** A new interaction with a fresh CSRF token, and the cookie binding this browser to it. */
  start(fields: NewClaimsInteraction): Promise<{ record: ClaimsInteractionDocument; cookie: CookieToSet }> {
    const { state, ...rest } = fields;
    return this.records.create({ ...rest, ...(state !== undefined ? { state } : {}), csrf: generateSecret() });
  }

  /** The interaction, if it exists, is unfinished and unexpired, and belongs to this browser. */
  find(id: string, cookies: RequestCookies): Promise<ClaimsInteractionDocument | null> {
    // Ids this server mints are 43 base64url characters; anything far from that is not looked up.
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(id)) return Promise.resolve(null);
    return this.records.find(id, cookies);
  }

  /** The unfinished interaction by id, without the browser check: only for a caller that made that check earlier. */
  byId(id: string): Promise<ClaimsInteractionDocument | null> {
    return this.records.byId(id);
  }

  /** Ends the interaction exactly once (a concurrent second submission gets null) and deletes its cookie. */
  finish(id: string): Promise<{ record: ClaimsInteractionDocument | null; cookie: CookieToSet }> {
    return this.records.finish(id);
  }
}
