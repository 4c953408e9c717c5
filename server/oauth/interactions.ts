import { generateSecret } from '../crypto/secrets.js';
import type { Store } from '../store/port.js';
import { BrowserBoundRecords, type BrowserBoundDocument, type CookieToSet, type RequestCookies } from '../store/repositories/browser-bound.js';
import type { AuthorizationRequest } from './authorization-request.js';

/** Who signed in during an interaction, and when (seconds). */
export interface Login {
  accountId: string;
  authTime: number;
}

/**
 * An authorization request waiting for the user (login, consent). It is bound to the browser that
 * started it (a cookie whose hash it keeps) and carries the CSRF token its forms must echo.
 */
export interface InteractionDocument extends BrowserBoundDocument {
  request: AuthorizationRequest;
  csrf: string;
  /** Set once the user has logged in during this interaction. */
  login?: Login;
}

/** The interactions of authorization requests: single-use, bound to the browser by a cookie scoped to the interaction pages. */
export class Interactions {
  private constructor(private readonly records: BrowserBoundRecords<InteractionDocument>) {}

  static async open(store: Store) {
    const collection = await store.collection<InteractionDocument>('interactions');
    return new Interactions(new BrowserBoundRecords(collection, { cookie: 'assent_interaction', path: '/interaction', lifetimeSeconds: 15 * 60 }));
  }

  /** A new interaction for the request (of a user signed in already, given `login`), and the cookie that binds it to this browser. */
  async start(request: AuthorizationRequest, login?: Login): Promise<{ interaction: InteractionDocument; cookie: CookieToSet }> {
    const { record, cookie } = await this.records.create({ request, csrf: generateSecret(), ...(login ? { login } : {}) });
    return { interaction: record, cookie };
  }

  /** The interaction, if it exists, has not expired and belongs to this browser. */
  find(id: string, cookies: RequestCookies): Promise<InteractionDocument | null> {
    return this.records.find(id, cookies);
  }

  /** The unfinished interaction by id, without the browser check: only for a caller that made that check earlier. */
  byId(id: string): Promise<InteractionDocument | null> {
    return this.records.byId(id);
  }

  recordLogin(id: string, login: Login): Promise<void> {
    return this.records.update(id, { login });
  }

  /** Replaces the interaction's request (a SMART launch's patient, once chosen). */
  recordRequest(id: string, request: AuthorizationRequest): Promise<void> {
    return this.records.update(id, { request });
  }

  /** Ends the interaction exactly once (a concurrent second submission gets null), with the cookie that unbinds it. */
  async finish(id: string): Promise<{ interaction: InteractionDocument | null; cookie: CookieToSet }> {
    const { record, cookie } = await this.records.finish(id);
    return { interaction: record, cookie };
  }
}
