import type { Collection, Filter, Store, StoredDocument } from '../port.js';

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

export class Tokens {
  private constructor(
    readonly codes: Collection<AuthorizationCodeDocument>,
    readonly refreshTokens: Collection<RefreshTokenDocument>,
    readonly accessTokens: Collection<AccessTokenDocument>,
  ) {}

  static async open(store: Store) {
    const lineage = ['codeId', 'familyId', 'grantId', 'accountId', 'clientId'];
    return new Tokens(
      await store.collection<AuthorizationCodeDocument>('authorization_codes'),
      await store.collection<RefreshTokenDocument>('refresh_tokens', { indexed: lineage }),
      await store.collection<AccessTokenDocument>('access_tokens', { indexed: lineage }),
    );
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
    await this.refreshTokens.update(filter, { revokedAt });
    await this.accessTokens.update(filter, { revokedAt });
  }
}
