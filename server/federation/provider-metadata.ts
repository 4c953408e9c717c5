import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { UpstreamProviderConfig } from '../config/config.js';
import { GOOGLE_ISSUER, upstreamIssuer } from './issuers.js';

/** The part of an OpenID Connect discovery document (OIDC Discovery §3) Assent uses. */
export interface ProviderDiscovery {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  jwks_uri?: string;
  end_session_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
  code_challenge_methods_supported?: string[];
  [member: string]: unknown;
}

export type FederationErrorCode =
  /** No provider with that id is configured. */
  | 'unknown_provider'
  /** The provider's discovery document or keys could not be fetched or are malformed. */
  | 'provider_unavailable'
  /** The provider has no ID tokens (type oauth2) or no jwks_uri. */
  | 'unsupported'
  /** The ID token failed validation (signature, issuer, audience, time, nonce, algorithm). */
  | 'invalid_token'
  /** This client may not present this provider's ID tokens (claimTokenAudiences). */
  | 'not_accepted';

export class FederationError extends Error {
  override readonly name = 'FederationError';
  constructor(
    readonly code: FederationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface VerifyIdTokenOptions {
  /** The token's `aud` must contain one of these. */
  audiences: string[];
  /** When given, the token's `nonce` must equal it. */
  nonce?: string;
}

export interface ProviderMetadataOptions {
  /** How long a fetched discovery document is used before it is fetched again (default 1 h). */
  refreshSeconds?: number;
  /** Timeout for one discovery or JWKS fetch (default 5 s). */
  timeoutMs?: number;
  /** Every request to the providers (discovery, JWKS, and openid-client's through `fetch`) goes through this. */
  fetch?: typeof fetch;
}

/** Seconds of clock skew allowed between a provider and Assent for exp / iat / nbf. */
const CLOCK_SKEW_SECONDS = 60;
/** Asymmetric JWS algorithms only: an upstream token is never verified with a shared secret. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

interface CachedDiscovery {
  document: ProviderDiscovery;
  fetchedAt: number;
}

/**
 * The configured upstream identity providers (config.upstreamProviders) and what is known about
 * each: its discovery document (fetched lazily, cached, refreshed hourly; a failed fetch is not
 * cached, so the next call tries again) and its signing keys. Built once at start-up.
 */
export class ProviderMetadata {
  private readonly providers = new Map<string, UpstreamProviderConfig>();
  private readonly discovered = new Map<string, CachedDiscovery>();
  private readonly inflight = new Map<string, Promise<ProviderDiscovery>>();
  private readonly keySets = new Map<string, { uri: string; set: RemoteKeySet }>();
  private readonly refreshMs: number;
  private readonly timeoutMs: number;
  readonly fetch: typeof fetch;

  constructor(providers: readonly UpstreamProviderConfig[] = [], options: ProviderMetadataOptions = {}) {
    // The configuration schema has checked each provider (issuer for oidc, endpoints for oauth2) and unique ids.
    for (const provider of providers) this.providers.set(provider.id, provider);
    this.refreshMs = (options.refreshSeconds ?? 3600) * 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  provider(id: string): UpstreamProviderConfig | undefined {
    return this.providers.get(id);
  }

  list(): UpstreamProviderConfig[] {
    return [...this.providers.values()];
  }

  /**
   * The audiences (client ids at the provider) whose ID tokens Assent client `clientId` may present
   * as claim or subject tokens (`claimTokenAudiences`): an ID token issued to one app is not another
   * app's to use.
   */
  audiencesFor(provider: UpstreamProviderConfig, clientId: string): string[] {
    if (provider.type === 'oauth2') return [];
    return Object.entries(provider.claimTokenAudiences ?? {})
      .filter(([, clients]) => clients.includes(clientId))
      .map(([audience]) => audience);
  }

  /** Issuers whose ID tokens `clientId` may present (any client's when none is named). */
  claimTokenIssuers(clientId?: string): string[] {
    return this.list()
      .filter((provider) => provider.type !== 'oauth2' && (clientId === undefined ? Object.keys(provider.claimTokenAudiences ?? {}).length > 0 : this.audiencesFor(provider, clientId).length > 0))
      .map((provider) => this.issuerOf(provider.id));
  }

  /** The issuer identifier a provider's tokens carry (known without fetching anything). */
  issuerOf(id: string): string {
    return upstreamIssuer(this.require(id));
  }

  /** The configured provider whose issuer is `issuer`, if any. */
  byIssuer(issuer: string): UpstreamProviderConfig | undefined {
    const wanted = issuer === 'accounts.google.com' ? GOOGLE_ISSUER : issuer;
    return this.list().find((provider) => this.issuerOf(provider.id) === wanted);
  }

  /** The provider's discovery document (OIDC Discovery), or one built from config for oauth2. */
  async metadata(id: string): Promise<ProviderDiscovery> {
    const provider = this.require(id);
    if (provider.type === 'oauth2') {
      return {
        issuer: this.issuerOf(id),
        authorization_endpoint: provider.authorizationEndpoint,
        token_endpoint: provider.tokenEndpoint,
        ...(provider.userinfoEndpoint ? { userinfo_endpoint: provider.userinfoEndpoint } : {}),
      };
    }
    const cached = this.discovered.get(id);
    if (cached && Date.now() - cached.fetchedAt < this.refreshMs) return cached.document;
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.discover(provider).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    try {
      return await pending;
    } catch (error) {
      // A stale document beats none while the provider is briefly unreachable.
      if (cached && error instanceof FederationError && error.code === 'provider_unavailable') return cached.document;
      throw error;
    }
  }

  /** A jose key set fetching the provider's jwks_uri (cached per provider and URI). */
  async keys(id: string): Promise<RemoteKeySet> {
    const provider = this.require(id);
    const document = await this.metadata(id);
    if (!document.jwks_uri) throw new FederationError('unsupported', `upstream provider ${id} publishes no jwks_uri`);
    const cached = this.keySets.get(id);
    if (cached?.uri === document.jwks_uri) return cached.set;
    const url = this.checkedUrl(provider, document.jwks_uri, 'jwks_uri');
    const set = createRemoteJWKSet(url, { timeoutDuration: this.timeoutMs, cooldownDuration: 30_000, cacheMaxAge: this.refreshMs, [customFetch]: this.fetch });
    this.keySets.set(id, { uri: document.jwks_uri, set });
    return set;
  }

  /**
   * Validates an ID token from provider `id` (OIDC Core §3.1.3.7): signature by a key of the
   * provider's JWKS with an asymmetric algorithm, `iss` = the provider's issuer, `aud` one of
   * `audiences`, exp / iat (with small skew), `sub` present, and `nonce` when one is expected.
   */
  async verifyIdToken(id: string, token: string, options: VerifyIdTokenOptions): Promise<JWTPayload & { iss: string; sub: string }> {
    const provider = this.require(id);
    if (provider.type === 'oauth2') throw new FederationError('unsupported', `upstream provider ${id} (oauth2) issues no ID tokens`);
    if (options.audiences.length === 0) throw new FederationError('invalid_token', 'no audience is accepted');
    const keys = await this.keys(id);
    const issuer = this.issuerOf(id);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: provider.type === 'google' ? [GOOGLE_ISSUER, 'accounts.google.com'] : issuer,
        audience: options.audiences,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError) || error instanceof joseErrors.JWKSInvalid) {
        throw new FederationError('provider_unavailable', `the keys of upstream provider ${id} could not be fetched`, { cause: error });
      }
      throw new FederationError('invalid_token', `the ID token from ${id} is not valid: ${error.message}`, { cause: error });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new FederationError('invalid_token', 'the ID token has no sub');
    if (options.nonce !== undefined && payload['nonce'] !== options.nonce) throw new FederationError('invalid_token', 'the ID token nonce does not match');
    // The party the token was issued to (OIDC Core §2 azp) must be an accepted one too, and a token
    // for several audiences must name it.
    const azp = payload['azp'];
    if (azp !== undefined && (typeof azp !== 'string' || !options.audiences.includes(azp))) throw new FederationError('invalid_token', 'the ID token azp is not an accepted audience');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && azp === undefined) throw new FederationError('invalid_token', 'an ID token for several audiences must carry azp');
    return { ...payload, iss: issuer, sub: payload.sub };
  }

  private require(id: string): UpstreamProviderConfig {
    const provider = this.providers.get(id);
    if (!provider) throw new FederationError('unknown_provider', `no upstream provider ${id}`);
    return provider;
  }

  private checkedUrl(provider: UpstreamProviderConfig, value: string, what: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch (cause) {
      throw new FederationError('provider_unavailable', `upstream provider ${provider.id}: ${what} is not a URL`, { cause });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && provider.allowInsecureRequests)) {
      throw new FederationError('provider_unavailable', `upstream provider ${provider.id}: ${what} must use https`);
    }
    return url;
  }

  private async discover(provider: UpstreamProviderConfig): Promise<ProviderDiscovery> {
    const issuer = this.issuerOf(provider.id);
    const url = this.checkedUrl(provider, `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, 'issuer');
    let document: unknown;
    try {
      const response = await this.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = await response.json();
    } catch (cause) {
      throw new FederationError('provider_unavailable', `the discovery document of upstream provider ${provider.id} could not be fetched`, { cause });
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new FederationError('provider_unavailable', `the discovery document of upstream provider ${provider.id} is not a JSON object`);
    }
    const discovered = document as ProviderDiscovery;
    // OIDC Discovery §4.3: the issuer in the document must be exactly the one it was fetched for.
    if (discovered.issuer !== issuer) {
      throw new FederationError('provider_unavailable', `upstream provider ${provider.id} claims issuer ${String(discovered.issuer)}, expected ${issuer}`);
    }
    for (const member of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri'] as const) {
      const value = discovered[member];
      if (value !== undefined) {
        if (typeof value !== 'string') throw new FederationError('provider_unavailable', `upstream provider ${provider.id}: ${member} is not a string`);
        this.checkedUrl(provider, value, member);
      }
    }
    this.discovered.set(provider.id, { document: discovered, fetchedAt: Date.now() });
    return discovered;
  }
}
