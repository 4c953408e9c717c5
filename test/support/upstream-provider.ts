import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { BrowserlessUser, formsOf, type Page } from './browserless-user.js';

/**
 * A real OpenID Connect provider (panva's oidc-provider) on an ephemeral loopback port, standing in
 * for Google or any upstream provider: one confidential client for Assent (client_secret_basic,
 * redirect URI `${assent}/federation/callback/<provider id>`, PKCE), RS256 ID tokens, and its development
 * interactions (any login name that is one of `accounts`, any password; then "Continue").
 *
 * Assent's URL is known only once it runs, and Assent's configuration needs this issuer: so
 * `listen()` opens the port first (the issuer), then `serve(assentIssuer)` builds the provider.
 */
export interface UpstreamAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  [claim: string]: unknown;
}

export const UPSTREAM_ID = 'testidp';
export const UPSTREAM_NAME = 'Test Identity';
export const OAUTH2_ID = 'testsocial';
export const OAUTH2_NAME = 'Test Social';

export interface UpstreamOptions {
  /** Assent's provider id and button text for it (default: the OpenID provider testidp). */
  id?: string;
  name?: string;
  /** How Assent is configured to see it: an OpenID provider, or plain OAuth 2 (endpoints by URL, identity from userinfo). */
  type?: 'oidc' | 'oauth2';
}

/** Rewrites the claims of the ID token the token endpoint returns, re-signing with `key` (default: the provider's own). */
export type IdTokenTamper = (claims: JWTPayload) => { claims: JWTPayload; key?: 'own' | 'foreign' };

/** ASSENT_UPSTREAM_PROVIDERS for an Assent using these providers. */
export function upstreamEnv(...providers: Record<string, unknown>[]): Record<string, string> {
  return { ASSENT_UPSTREAM_PROVIDERS: JSON.stringify(providers) };
}

export class UpstreamProvider {
  readonly clientId = 'assent';
  readonly clientSecret = randomBytes(32).toString('base64url');
  readonly id: string;
  readonly name: string;
  readonly type: 'oidc' | 'oauth2';
  /** While set (see `tampering`), every ID token the token endpoint returns is rewritten by it. */
  private tamper: IdTokenTamper | undefined;
  private handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  private readonly signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'upstream-rs256', alg: 'RS256', use: 'sig' };
  private readonly foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  private constructor(
    private readonly server: http.Server,
    readonly issuer: string,
    readonly accounts: Map<string, UpstreamAccount>,
    options: UpstreamOptions,
  ) {
    this.id = options.id ?? UPSTREAM_ID;
    this.name = options.name ?? UPSTREAM_NAME;
    this.type = options.type ?? 'oidc';
  }

  static async listen(accounts: Record<string, UpstreamAccount> = {}, options: UpstreamOptions = {}): Promise<UpstreamProvider> {
    const server = http.createServer();
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const upstream = new UpstreamProvider(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, new Map(Object.entries(accounts)), options);
    server.on('request', (req, res) => {
      if (!upstream.handler) {
        res.statusCode = 503;
        res.end();
        return;
      }
      if (upstream.tamper && req.method === 'POST' && req.url === '/token') upstream.rewriteIdToken(res, upstream.tamper);
      upstream.handler(req, res);
    });
    return upstream;
  }

  /** This provider's entry in Assent's ASSENT_UPSTREAM_PROVIDERS. */
  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const common = { id: this.id, displayName: this.name, clientId: this.clientId, clientSecret: this.clientSecret, allowInsecureRequests: true };
    if (this.type === 'oidc') return { ...common, type: 'oidc', issuer: this.issuer, ...extra };
    // It names itself in its answers (RFC 9207 `iss`), so its issuer is configured too.
    return {
      ...common,
      type: 'oauth2',
      issuer: this.issuer,
      authorizationEndpoint: `${this.issuer}/auth`,
      tokenEndpoint: `${this.issuer}/token`,
      userinfoEndpoint: `${this.issuer}/me`,
      scopes: ['openid', 'email'],
      ...extra,
    };
  }

  /** ASSENT_UPSTREAM_PROVIDERS for an Assent using this provider alone. */
  env(extra: Record<string, unknown> = {}): Record<string, string> {
    return upstreamEnv(this.config(extra));
  }

  /** Builds the provider once Assent's issuer is known. */
  serve(assentIssuer: string): void {
    const provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: [`${assentIssuer}/federation/callback/${this.id}`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: [this.signingKey] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], npi: ['npi'] },
      scopes: ['openid', 'email', 'profile', 'npi'],
      pkce: { required: () => true },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
      features: { devInteractions: { enabled: true } },
      findAccount: (_ctx: unknown, id: string) => {
        const account = this.accounts.get(id);
        if (!account) return undefined;
        return { accountId: id, claims: () => ({ sub: id, ...account }) };
      },
    });
    this.handler = provider.callback();
  }

  /** Runs `during` with every ID token from the token endpoint rewritten by `tamper`. */
  async tampering<T>(tamper: IdTokenTamper, during: () => Promise<T>): Promise<T> {
    this.tamper = tamper;
    try {
      return await during();
    } finally {
      this.tamper = undefined;
    }
  }

  /** Holds back the token endpoint's JSON answer and sends it with its ID token rewritten by `tamper`. */
  private rewriteIdToken(res: http.ServerResponse, tamper: IdTokenTamper) {
    const chunks: Buffer[] = [];
    const end = res.end.bind(res) as (body: string) => http.ServerResponse;
    res.write = ((chunk: string | Buffer) => {
      chunks.push(Buffer.from(chunk));
      return true;
    }) as typeof res.write;
    res.end = ((chunk?: string | Buffer) => {
      if (chunk) chunks.push(Buffer.from(chunk));
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id_token?: string };
        if (body.id_token) {
          const changed = tamper(decodeJwt(body.id_token));
          const key = changed.key === 'foreign' ? this.foreignKey : createPrivateKey({ key: this.signingKey, format: 'jwk' });
          body.id_token = await new SignJWT(changed.claims).setProtectedHeader({ alg: 'RS256', kid: this.signingKey.kid, typ: 'JWT' }).sign(key);
        }
        const text = JSON.stringify(body);
        res.setHeader('content-length', Buffer.byteLength(text));
        end(text);
      })();
      return res;
    }) as typeof res.end;
  }

  /** Stops answering (connections refused from now on). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * A person at the provider: opens the authorization URL Assent sent them to, signs in as `login`
   * (or presses Cancel when `deny`), presses Continue, and returns where the provider sends the
   * browser back (Assent's callback URL, not fetched).
   */
  async signIn(authorizationUrl: URL, login: string, options: { deny?: boolean } = {}): Promise<URL> {
    const user = new BrowserlessUser(this.issuer);
    let page: Page = await user.follow(await user.get(authorizationUrl));
    for (let steps = 0; steps < 6; steps++) {
      if (page.location && page.location.origin !== user.origin) return page.location;
      if (page.status !== 200) throw new Error(`the provider answered ${page.status}: ${page.html.slice(0, 300)}`);
      const form = formsOf(page).find((f) => f.method === 'post');
      if (!form) throw new Error(`no form at the provider: ${page.html.slice(0, 300)}`);
      if (options.deny) {
        page = await user.follow(await user.get(new URL(`${form.action.pathname}/abort`, this.issuer)));
        continue;
      }
      const prompt = form.inputs.find((i) => i.name === 'prompt')?.value;
      const fields: [string, string][] = prompt === 'login' ? [['prompt', 'login'], ['login', login], ['password', 'anything']] : [['prompt', 'consent']];
      page = await user.follow(await user.post(form.action, fields));
    }
    throw new Error('the provider never sent the browser back');
  }
}
