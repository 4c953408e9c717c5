import type { LaunchContext } from '../../smart/launch-context.js';
import type { Collection, Filter, Store, StoredDocument } from '../port.js';

/** What a SMART authorization carries into its tokens: the FHIR base (the access tokens' `aud`) and the launch context. */
export interface SmartAuthorization {
  aud: string;
  launchContext?: LaunchContext;
}

/** What every issued artefact records about where it came from, so it can be revoked by any of these. */
export interface Lineage {
  clientId: string;
  accountId?: string;
  grantId?: string;
  /** The authorization code it descends from: a replayed code revokes all of them. */
  codeId?: string;
  /** The refresh token family: reuse of a rotated refresh token revokes all of them. */
  familyId?: string;
}

/** Keyed by the hash of the code, never the code itself. */
export interface AuthorizationCodeDocument extends StoredDocument, Lineage {
  accountId: string;
  grantId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  nonce?: string;
  authTime: number;
  resource?: string;
  smart?: SmartAuthorization;
  expiresAt: Date;
  consumedAt?: Date;
}

/** Keyed by the hash of the token. */
export interface RefreshTokenDocument extends StoredDocument, Lineage {
  accountId: string;
  grantId: string;
  familyId: string;
  scopes: string[];
  authTime: number;
  resource?: string;
  /** Kept for every refresh, so a refreshed token has the same audience and context. */
  smart?: SmartAuthorization;
  issuedAt: Date;
  expiresAt: Date;
  consumedAt?: Date;
  revokedAt?: Date;
}

/** Access tokens are self-contained JWTs; this record (keyed by `jti`) is what makes them revocable. */
export interface AccessTokenDocument extends StoredDocument, Lineage {
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
  revokedAt?: Date;
}

export type RevocationScope = Partial<Pick<Lineage, 'codeId' | 'familyId' | 'grantId' | 'accountId' | 'clientId'>>;

/** Single-use authorization codes, keyed by the hash of the code. */
export class AuthorizationCodes {
  constructor(private readonly codes: Collection<AuthorizationCodeDocument>) {}

  issue(code: AuthorizationCodeDocument): Promise<void> {
    return this.codes.insert(code);
  }

  /**
   * Spends the code with one atomic find-and-modify, so of concurrent redemptions exactly one gets
   * it; null when it is unknown, expired or already spent. The spent code is kept until
   * `keepUntil`, so that a replay can still find and revoke what it produced.
   */
  redeem(hash: string, keepUntil: Date): Promise<AuthorizationCodeDocument | null> {
    return this.codes.consume({ _id: hash, consumedAt: { $exists: false } }, { consumedAt: new Date(), expiresAt: keepUntil });
  }

  /** The code a failed redemption presented, if it was spent before (a replay) and is still kept. */
  redeemedBefore(hash: string): Promise<AuthorizationCodeDocument | null> {
    return this.codes.findOne({ _id: hash, consumedAt: { $exists: true } });
  }

  async deleteOfClient(clientId: string): Promise<void> {
    await this.codes.delete({ clientId });
  }
}

/** Rotating refresh tokens, keyed by the hash of the token. */
export class RefreshTokens {
  constructor(private readonly tokens: Collection<RefreshTokenDocument>) {}

  issue(token: RefreshTokenDocument): Promise<void> {
    return this.tokens.insert(token);
  }

  /** The token while it can still be used: neither rotated, revoked nor expired (and, given `clientId`, that client's). */
  usable(hash: string, clientId?: string): Promise<RefreshTokenDocument | null> {
    return this.tokens.findOne({ _id: hash, ...(clientId !== undefined ? { clientId } : {}), consumedAt: { $exists: false }, revokedAt: { $exists: false } });
  }

  /**
   * Spends the client's usable token for its replacement, with one atomic find-and-modify, so of
   * concurrent rotations exactly one gets it; null otherwise.
   */
  rotate(hash: string, clientId: string): Promise<RefreshTokenDocument | null> {
    return this.tokens.consume({ _id: hash, clientId, consumedAt: { $exists: false }, revokedAt: { $exists: false } }, { consumedAt: new Date() });
  }

  /** The client's token if it was rotated already: presenting it again is taken as theft. */
  rotatedBefore(hash: string, clientId: string): Promise<RefreshTokenDocument | null> {
    return this.tokens.findOne({ _id: hash, clientId, consumedAt: { $exists: true } });
  }

  /** Every token that can still be used, newest first (the token administration page). */
  live(): Promise<RefreshTokenDocument[]> {
    return this.tokens.find({ consumedAt: { $exists: false }, revokedAt: { $exists: false } }, { sort: { issuedAt: -1 } });
  }

  /** Revokes one usable token by its hash; false when there is none. */
  async revokeOne(hash: string): Promise<boolean> {
    return (await this.tokens.update({ _id: hash, consumedAt: { $exists: false }, revokedAt: { $exists: false } }, { revokedAt: new Date() })) > 0;
  }

  /** The client's unexpired token, whatever its state (RFC 7009 revocation). */
  ofClient(hash: string, clientId: string): Promise<RefreshTokenDocument | null> {
    return this.tokens.findOne({ _id: hash, clientId });
  }
}

/** The records of issued access tokens, keyed by `jti`: what makes a self-contained JWT revocable. */
export class AccessTokens {
  constructor(private readonly tokens: Collection<AccessTokenDocument>) {}

  record(token: AccessTokenDocument): Promise<void> {
    return this.tokens.insert(token);
  }

  /** The unexpired record, revoked or not. */
  byJti(jti: string): Promise<AccessTokenDocument | null> {
    return this.tokens.findOne({ _id: jti });
  }

  /** The account's unexpired, unrevoked tokens, newest first. */
  unrevokedOf(accountId: string): Promise<AccessTokenDocument[]> {
    return this.tokens.find({ accountId, revokedAt: { $exists: false } }, { sort: { issuedAt: -1 } });
  }

  /** Every unexpired, unrevoked token, newest first (the token administration page). */
  live(): Promise<AccessTokenDocument[]> {
    return this.tokens.find({ revokedAt: { $exists: false } }, { sort: { issuedAt: -1 } });
  }

  async revokeOne(jti: string): Promise<void> {
    await this.tokens.update({ _id: jti }, { revokedAt: new Date() });
  }
}

export class Tokens {
  private constructor(
    readonly codes: AuthorizationCodes,
    readonly refreshTokens: RefreshTokens,
    readonly accessTokens: AccessTokens,
    private readonly refreshCollection: Collection<RefreshTokenDocument>,
    private readonly accessCollection: Collection<AccessTokenDocument>,
  ) {}

  static async open(store: Store) {
    const lineage = ['codeId', 'familyId', 'grantId', 'accountId', 'clientId'];
    const codes = await store.collection<AuthorizationCodeDocument>('authorization_codes');
    const refresh = await store.collection<RefreshTokenDocument>('refresh_tokens', { indexed: lineage });
    const access = await store.collection<AccessTokenDocument>('access_tokens', { indexed: lineage });
    return new Tokens(new AuthorizationCodes(codes), new RefreshTokens(refresh), new AccessTokens(access), refresh, access);
  }

  /**
   * Revokes every refresh and access token matching all the given lineage fields (e.g. one code's
   * descendants, a family, a grant, or everything of an account).
   */
  async revoke(scope: RevocationScope): Promise<void> {
    const filter: Filter = { revokedAt: { $exists: false } };
    for (const [field, value] of Object.entries(scope)) if (value !== undefined) filter[field] = value;
    if (Object.keys(filter).length === 1) throw new Error('refusing to revoke without a lineage filter');
    const revokedAt = new Date();
    await this.refreshCollection.update(filter, { revokedAt });
    await this.accessCollection.update(filter, { revokedAt });
  }

  /** Everything a client holds: its tokens revoked, its codes (spent or not) deleted. */
  async revokeClient(clientId: string): Promise<void> {
    await Promise.all([this.revoke({ clientId }), this.codes.deleteOfClient(clientId)]);
  }
}
