/**
 * panva's oidc-provider configured like Assent's client_credentials path, for bench/token.ts:
 * an ES256 signing key, one client_secret_basic client allowed client_credentials and the
 * uma_authorization scope, introspection enabled, and JWT (RFC 9068) access tokens for the default
 * resource through the resourceIndicators feature.
 *
 * oidc-provider refuses to introspect structured (JWT) tokens (lib/shared/reject_structured_tokens.js:
 * "Structured JWT Tokens cannot be introspected"), so the introspected tokens are opaque ones,
 * asked for with resource=urn:bench:opaque; they live in its in-memory development adapter.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { serveParent, tell } from './protocol.js';

const SCOPE = 'uma_authorization';
const JWT_RESOURCE = 'urn:bench:jwt';
const OPAQUE_RESOURCE = 'urn:bench:opaque';
const CLIENT_ID = 'bench-client';

try {
  const server = http.createServer();
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signingKey = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
  const clientSecret = randomBytes(32).toString('base64url');

  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: SCOPE,
      },
    ],
    jwks: { keys: [signingKey] },
    // The only key is ES256, so that is every client's default signing algorithm.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: [SCOPE],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => JWT_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== JWT_RESOURCE && resource !== OPAQUE_RESOURCE) throw new Error(`unknown resource ${resource}`);
          return resource === JWT_RESOURCE
            ? { scope: SCOPE, audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }
            : { scope: SCOPE, audience: resource, accessTokenFormat: 'opaque' };
        },
      },
    },
  });
  server.on('request', provider.callback());
  serveParent(async () => {
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await drained;
  });
  tell({
    type: 'ready',
    name: 'oidc-provider',
    url,
    tokenPath: '/token',
    introspectionPath: '/token/introspection',
    clientId: CLIENT_ID,
    clientSecret,
    tokenForm: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    introspectedTokenForm: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, resource: OPAQUE_RESOURCE }).toString(),
  });
} catch (err) {
  tell({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}
