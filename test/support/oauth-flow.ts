import { createHash, randomBytes } from 'node:crypto';
import type { BrowserlessUser, AuthorizeOptions } from './browserless-user.js';

/** A PKCE pair (RFC 7636, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const randomValue = () => randomBytes(12).toString('base64url');

/** OpenID Connect at_hash / c_hash for ES256/RS256: left half of SHA-256, base64url. */
export function leftHalfSha256(value: string): string {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** POSTs a form to the server and reads the JSON answer (or `{}` for an empty body). */
export async function postForm(
  base: string,
  path: string,
  form: Record<string, string | undefined> | URLSearchParams | string,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const body =
    typeof form === 'string' || form instanceof URLSearchParams
      ? form.toString()
      : new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export const basicAuth = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

export interface PreparedRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * A relying party speaking raw HTTP: by default the seeded public client demo-app (PKCE, no
 * secret); give `auth` for a confidential client (client_secret_basic).
 */
export class RawClient {
  constructor(
    readonly serverUrl: string,
    readonly clientId = 'demo-app',
    readonly redirectUri = 'http://localhost:4200/callback',
    readonly secret?: string,
  ) {}

  /** An authorization URL with PKCE S256, state and nonce; `params` override or (undefined) remove. */
  prepare(params: Record<string, string | undefined> = {}): PreparedRequest {
    const { verifier, challenge } = pkce();
    const state = randomValue();
    const nonce = randomValue();
    const url = new URL('/authorize', this.serverUrl);
    const all: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: 'openid offline_access',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...params,
    };
    for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
    return { url, verifier, state, nonce };
  }

  /** Client authentication for the token, introspection and revocation endpoints. */
  private authenticated(form: Record<string, string | undefined>): { form: Record<string, string | undefined>; headers: Record<string, string> } {
    if (this.secret) return { form, headers: { Authorization: basicAuth(this.clientId, this.secret) } };
    return { form: { client_id: this.clientId, ...form }, headers: {} };
  }

  call(path: '/token' | '/introspect' | '/revoke', form: Record<string, string | undefined>): Promise<JsonResponse> {
    const request = this.authenticated(form);
    return postForm(this.serverUrl, path, request.form, request.headers);
  }

  exchange(code: string | null, verifier: string, extra: Record<string, string | undefined> = {}) {
    return this.call('/token', { grant_type: 'authorization_code', code: code ?? undefined, redirect_uri: this.redirectUri, code_verifier: verifier, ...extra });
  }

  refresh(refreshToken: string, scope?: string) {
    return this.call('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, scope });
  }

  async introspect(token: string): Promise<Record<string, unknown>> {
    const response = await this.call('/introspect', { token });
    if (response.status !== 200) throw new Error(`introspection failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async isActive(token: string): Promise<boolean> {
    return (await this.introspect(token)).active === true;
  }

  /** The user goes through the authorization request; returns the code (and what was needed to redeem it). */
  async code(user: BrowserlessUser, params: Record<string, string | undefined> = {}, options: AuthorizeOptions = {}) {
    const prepared = this.prepare(params);
    const callback = await user.authorizeForCode(prepared.url, options);
    return { ...prepared, callback, code: callback.searchParams.get('code')! };
  }

  /** Authorization request, login/consent as needed, and the code exchanged for tokens (must succeed). */
  async tokens(user: BrowserlessUser, params: Record<string, string | undefined> = {}, options: AuthorizeOptions = {}): Promise<TokenSet & { nonce: string }> {
    const { code, verifier, nonce } = await this.code(user, params, options);
    const response = await this.exchange(code, verifier);
    if (response.status !== 200) throw new Error(`token exchange failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { ...(response.body as unknown as TokenSet), nonce };
  }
}
