import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config/config.js';
import { hashSecret, secretMatches } from '../crypto/secrets.js';
import { ASSERTION_ALGORITHMS, CLIENT_AUTH_METHODS } from '../oauth/clients/authenticate.js';
import type { ClientRegistration } from '../oauth/clients/registration.js';
import type { MetadataContribution } from '../oauth/metadata.js';
import { bearerToken } from '../protocol/bearer.js';
import { invalidToken } from '../protocol/errors.js';
import { jsonBody } from './json-body.js';

export interface RegistrationRouteDeps {
  registration: ClientRegistration;
  config: Pick<Config, 'registrationAccessPolicy' | 'initialAccessToken'>;
}

/**
 * RFC 7591 registration (POST /register, open or behind an initial access token) and RFC 7592
 * management of a registered client (GET/PUT/DELETE /register/:client_id with its registration
 * access token). Every answer is no-store: it carries or concerns credentials.
 */
export function registrationRoutes(router: Router, deps: RegistrationRouteDeps): void {
  const checkInitialToken = initialTokenCheck(deps.config);

  router.post('/register', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    checkInitialToken(ctx);
    const information = await deps.registration.register(jsonBody(ctx));
    ctx.status = 201;
    ctx.body = information;
  });
  router.get('/register/:client_id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.registration.read(ctx.params.client_id!, bearerToken(ctx.get('Authorization')));
  });
  router.put('/register/:client_id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.registration.update(ctx.params.client_id!, bearerToken(ctx.get('Authorization')), jsonBody(ctx));
  });
  router.delete('/register/:client_id', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    await deps.registration.delete(ctx.params.client_id!, bearerToken(ctx.get('Authorization')));
    ctx.status = 204;
  });
}

export const registrationMetadata: MetadataContribution = (issuer) => ({
  registration_endpoint: `${issuer}/register`,
  token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
  token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
});

/** RFC 7591 §3: under the token policy, registration needs the initial access token; fails closed without one configured. */
function initialTokenCheck(config: RegistrationRouteDeps['config']): (ctx: Context) => void {
  if (config.registrationAccessPolicy === 'open') return () => {};
  const expected = config.initialAccessToken ? hashSecret(config.initialAccessToken) : undefined;
  return (ctx) => {
    const token = bearerToken(ctx.get('Authorization'));
    if (!expected || !secretMatches(token, expected)) throw invalidToken('the initial access token is not valid');
  };
}
