import { createHash, randomUUID } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import { signCompactJwt } from '../crypto/jws.js';
import type { Config } from '../config/config.js';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { KeyRing, SigningAlgorithm } from '../keys/key-ring.js';
import { fhirUserUrl } from '../smart/fhir-user.js';
import type { AccountDocument } from '../store/repositories/accounts.js';
import type { Lineage, SmartAuthorization, Tokens } from '../store/repositories/tokens.js';

export interface AccessTokenRequest extends Lineage {
  /** The user, or the client itself for client_credentials. */
  subject: string;
  scopes: string[];
  authTime?: number;
  /** RFC 8707 resource, else the issuer. */
  audience?: string;
  /** Extra claims a profile adds (UMA permissions, SMART context). */
  claims?: Record<string, unknown>;
  /** A cap below the configured access token lifetime, in seconds (Backend Services: 300). */
  maxTtl?: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

/** Claims of the OpenID Connect standard scopes (Core §5.4) and SMART's `fhirUser` scope that Assent can fill. */
const SCOPE_CLAIMS: Record<string, (account: AccountDocument, fhirBase: string | undefined) => Record<string, unknown>> = {
  profile: (a) => ({ name: a.name }),
  email: (a) => ({ email: a.email, email_verified: a.emailVerified }),
  fhirUser: (a, fhirBase) => (a.fhirUser ? { fhirUser: fhirUserUrl(a.fhirUser, fhirBase) } : {}),
};

/** The user's claims for these granted scopes; `fhirBase` resolves `fhirUser` to a URL (the first configured FHIR base). */
export function claimsFor(account: AccountDocument, scopes: string[], fhirBase: string | undefined): Record<string, unknown> {
  return Object.assign({ sub: account._id }, ...scopes.map((s) => SCOPE_CLAIMS[s]?.(account, fhirBase) ?? {}));
}

export type AccessTokenClaims = JWTPayload & { client_id: string; scope: string; jti: string };

const VERIFIED_CACHE_SIZE = 10_000;

/** Signs access and ID tokens and mints refresh tokens; records what it issues so it can be revoked. */
export class TokenService {
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly config: Pick<Config, 'accessTokenTtl' | 'idTokenTtl' | 'refreshTokenTtl' | 'fhirBaseUrls'> & { issuer: string },
    private readonly keys: KeyRing,
    private readonly tokens: Tokens,
  ) {}

  /** An RFC 9068 JWT access token. */
  async issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.min(this.config.accessTokenTtl, request.maxTtl ?? Number.POSITIVE_INFINITY);
    const key = await this.keys.signingKey();
    const token = signCompactJwt(
      { alg: key.alg, kid: key.kid, typ: 'at+jwt' },
      {
        ...request.claims,
        iss: this.config.issuer,
        sub: request.subject,
        aud: request.audience ?? this.config.issuer,
        iat: now,
        exp: now + expiresIn,
        jti,
        client_id: request.clientId,
        ...(request.scopes.length > 0 ? { scope: request.scopes.join(' ') } : {}),
        ...(request.authTime !== undefined ? { auth_time: request.authTime } : {}),
      },
      key.privateKeyObject,
    );
    await this.tokens.accessTokens.record({
      _id: jti,
      ...lineageOf(request),
      scopes: request.scopes,
      issuedAt: new Date(now * 1000),
      expiresAt: new Date((now + expiresIn) * 1000),
    });
    return { token, jti, expiresIn };
  }

  /** Signed with the ring's key of `alg` (default: the ring's default algorithm); at_hash uses that algorithm's hash. */
  async issueIdToken(options: { account: AccountDocument; clientId: string; scopes: string[]; authTime: number; nonce?: string; accessToken: string; alg?: SigningAlgorithm }) {
    const key = await this.keys.signingKey(options.alg);
    const now = Math.floor(Date.now() / 1000);
    return signCompactJwt(
      { alg: key.alg, kid: key.kid, typ: 'JWT' },
      {
        ...claimsFor(options.account, options.scopes, this.config.fhirBaseUrls[0]),
        iss: this.config.issuer,
        aud: options.clientId,
        iat: now,
        exp: now + this.config.idTokenTtl,
        auth_time: options.authTime,
        ...(options.nonce ? { nonce: options.nonce } : {}),
        at_hash: leftHalfHash(options.accessToken, key.alg),
      },
      key.privateKeyObject,
    );
  }

  /** An opaque refresh token; only its hash is stored. */
  async issueRefreshToken(request: Lineage & { accountId: string; grantId: string; familyId: string; scopes: string[]; authTime: number; resource?: string; smart?: SmartAuthorization }) {
    const token = generateSecret();
    const now = Date.now();
    await this.tokens.refreshTokens.issue({
      _id: hashSecret(token),
      ...lineageOf(request),
      accountId: request.accountId,
      grantId: request.grantId,
      familyId: request.familyId,
      scopes: request.scopes,
      authTime: request.authTime,
      ...(request.resource !== undefined ? { resource: request.resource } : {}),
      ...(request.smart !== undefined ? { smart: request.smart } : {}),
      issuedAt: new Date(now),
      expiresAt: new Date(now + this.config.refreshTokenTtl * 1000),
    });
    return token;
  }

  /**
   * Verifies an access token this server issued: signature, `typ`, issuer, expiry, and that its
   * record is neither revoked nor gone. Returns undefined for anything else.
   */
  async verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined> {
    const payload = await this.verifiedSignature(token);
    if (!payload || (payload.exp ?? 0) * 1000 <= Date.now()) return undefined;
    const record = await this.tokens.accessTokens.byJti(payload.jti);
    return record && !record.revokedAt ? payload : undefined;
  }

  /**
   * Signature, `typ`, issuer and expiry checks, remembered per token until it expires: tokens are
   * introspected again and again, and the signature of a given token never changes. Revocation is
   * not cached; the caller checks the record every time.
   */
  private async verifiedSignature(token: string): Promise<AccessTokenClaims | undefined> {
    const known = this.verified.get(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, async (header) => this.keys.verificationKey(header.kid), {
        issuer: this.config.issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'ES384', 'RS256', 'RS384'],
      });
      if (typeof payload.jti !== 'string' || typeof payload.client_id !== 'string' || (payload.scope !== undefined && typeof payload.scope !== 'string')) return undefined;
      // A token without a scope carries no `scope` claim; callers see it as the empty list.
      const claims = { ...payload, scope: payload.scope ?? '' } as AccessTokenClaims;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, claims);
      return claims;
    } catch {
      return undefined;
    }
  }
}

function lineageOf(l: Lineage): Lineage {
  const out: Lineage = { clientId: l.clientId };
  for (const field of ['accountId', 'grantId', 'codeId', 'familyId'] as const) if (l[field] !== undefined) out[field] = l[field];
  return out;
}

/** OpenID Connect at_hash: the left half of the hash that matches the signing algorithm's size, base64url. */
function leftHalfHash(value: string, alg: string) {
  const digest = createHash(alg.endsWith('384') ? 'sha384' : 'sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
