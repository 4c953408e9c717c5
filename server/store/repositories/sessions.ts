import { generateSecret, hashSecret } from '../../crypto/secrets.js';
import type { Collection, Store, StoredDocument } from '../port.js';
import type { CookieToSet, RequestCookies } from './browser-bound.js';

export interface SessionDocument extends StoredDocument {
  accountId: string;
  /** When the user last proved who they are, in seconds (OIDC auth_time). */
  authTime: number;
  /** Token for the forms of pages outside an authorization request (account page, logout). */
  csrf: string;
  expiresAt: Date;
}

/**
 * The request's cookies (Koa's `ctx.cookies`). A whole Koa context is refused at compile time:
 * its `get` reads headers, so it would otherwise pass for the cookies and find no session.
 */
type SessionCookies = RequestCookies & { cookies?: never };

const COOKIE = 'assent_session';
const PATH = '/';
const LIFETIME_SECONDS = 8 * 3600;

/**
 * Browser sessions, kept in the store (keyed by the hash of the cookie) so any process can serve
 * them. Not single-use, so not a BrowserBoundRecords: the cookie's value is the key itself. The
 * request's cookies come in; the cookie to set goes back as data for the HTTP layer.
 */
export class Sessions {
  private constructor(private readonly sessions: Collection<SessionDocument>) {}

  static async open(store: Store) {
    return new Sessions(await store.collection<SessionDocument>('sessions', { indexed: ['accountId'] }));
  }

  /**
   * A new session for the account, ending the one `cookies` carry; `authTime` when the person
   * proved who they are elsewhere (an upstream provider's auth_time).
   */
  async start(cookies: SessionCookies, accountId: string, authTime = Math.floor(Date.now() / 1000)): Promise<{ session: SessionDocument; cookie: CookieToSet }> {
    await this.end(cookies);
    const id = generateSecret();
    const maxAgeMs = LIFETIME_SECONDS * 1000;
    const session: SessionDocument = {
      _id: hashSecret(id),
      accountId,
      authTime,
      csrf: generateSecret(),
      expiresAt: new Date(Date.now() + maxAgeMs),
    };
    await this.sessions.insert(session);
    return { session, cookie: { name: COOKIE, value: id, path: PATH, maxAgeMs } };
  }

  async current(cookies: SessionCookies): Promise<SessionDocument | null> {
    const id = cookies.get(COOKIE);
    return id ? this.sessions.findOne({ _id: hashSecret(id) }) : null;
  }

  /** Ends the session `cookies` carry; the cookie returned deletes the session cookie. */
  async end(cookies: SessionCookies): Promise<CookieToSet> {
    const id = cookies.get(COOKIE);
    if (id) await this.sessions.delete({ _id: hashSecret(id) });
    return { name: COOKIE, value: null, path: PATH };
  }

  endAllFor(accountId: string) {
    return this.sessions.delete({ accountId });
  }

  /** Ends every session of the account but this one (after a password change in it). */
  endOthers(session: SessionDocument) {
    return this.sessions.delete({ accountId: session.accountId, _id: { $ne: session._id } });
  }
}
