import type { Context } from 'koa';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';

export interface SessionDocument extends StoredDocument {
  accountId: string;
  /** When the user last proved who they are, in seconds (OIDC auth_time). */
  authTime: number;
  /** Token for the forms of pages outside an authorization request (account page, logout). */
  csrf: string;
  expiresAt: Date;
}

const COOKIE = 'assent_session';
const LIFETIME_SECONDS = 8 * 3600;

/** Browser sessions, kept in the store (keyed by the hash of the cookie) so any process can serve them. */
export class Sessions {
  private constructor(private readonly sessions: Collection<SessionDocument>) {}

  static async open(store: Store) {
    return new Sessions(await store.collection<SessionDocument>('sessions', { indexed: ['accountId'] }));
  }

  /** A new session for the account; `authTime` when the person proved who they are elsewhere (an upstream provider's auth_time). */
  async start(ctx: Context, accountId: string, authTime = Math.floor(Date.now() / 1000)): Promise<SessionDocument> {
    await this.end(ctx);
    const id = generateSecret();
    const session: SessionDocument = {
      _id: hashSecret(id),
      accountId,
      authTime,
      csrf: generateSecret(),
      expiresAt: new Date(Date.now() + LIFETIME_SECONDS * 1000),
    };
    await this.sessions.insert(session);
    ctx.cookies.set(COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: LIFETIME_SECONDS * 1000, overwrite: true });
    return session;
  }

  async current(ctx: Context): Promise<SessionDocument | null> {
    const id = ctx.cookies.get(COOKIE);
    return id ? this.sessions.findOne({ _id: hashSecret(id) }) : null;
  }

  async end(ctx: Context) {
    const id = ctx.cookies.get(COOKIE);
    if (id) await this.sessions.delete({ _id: hashSecret(id) });
    ctx.cookies.set(COOKIE, null, { httpOnly: true, sameSite: 'lax', path: '/', overwrite: true });
  }

  endAllFor(accountId: string) {
    return this.sessions.delete({ accountId });
  }

  /** Ends every session of the account but this one (after a password change in it). */
  endOthers(session: SessionDocument) {
    return this.sessions.delete({ accountId: session.accountId, _id: { $ne: session._id } });
  }
}
