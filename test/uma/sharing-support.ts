import type { Services } from '../../server/http/services.js';
import { hashPassword } from '../../server/crypto/password.js';
import type { ResourceDocument } from '../../server/store/repositories/resources.js';
import { BrowserlessUser, DEMO_EMAIL, formOf, hiddenFields } from '../support/browserless-user.js';
import { RawClient } from '../support/oauth-flow.js';
import { DEMO_PASSWORD } from '../support/server.js';

/** Shared set-up of the sharing-rules and dashboard suites. */

export const RULES_CALLBACK = 'http://localhost:4300/callback';

/** The owner's own app: a public client registered with `openid sharing_rules` (demo-app lacks the scope). */
export async function registerRulesClient(serverUrl: string): Promise<RawClient> {
  const response = await fetch(`${serverUrl}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_name: 'My sharing app',
      redirect_uris: [RULES_CALLBACK],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'openid sharing_rules',
    }),
  });
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  const { client_id } = (await response.json()) as { client_id: string };
  return new RawClient(serverUrl, client_id, RULES_CALLBACK);
}

/** An access token with scope sharing_rules for the account (the demo patient by default). */
export async function ownerToken(serverUrl: string, client: RawClient, email = DEMO_EMAIL, scope = 'openid sharing_rules'): Promise<string> {
  const user = new BrowserlessUser(serverUrl);
  const tokens = await client.tokens(user, { scope }, { email });
  return tokens.access_token;
}

export async function createAccount(services: Services, email: string, name = 'Bob Other') {
  return services.accounts.create({ email, name, emailVerified: true, passwordHash: await hashPassword(DEMO_PASSWORD) });
}

export async function accountId(services: Services, email = DEMO_EMAIL): Promise<string> {
  const account = await services.accounts.byEmail(email);
  if (!account) throw new Error(`no account ${email}`);
  return account._id;
}

/** Registers a resource directly in the store, as the protection API would. */
export async function addResource(services: Services, ownerId: string, resource: { id: string; name?: string; type?: string; scopes: string[] }) {
  const now = new Date();
  const doc: ResourceDocument = {
    _id: resource.id,
    ownerId,
    resourceServerId: 'demo-resource-server',
    ...(resource.name ? { name: resource.name } : {}),
    ...(resource.type ? { type: resource.type } : {}),
    resource_scopes: resource.scopes,
    createdAt: now,
    updatedAt: now,
  };
  await services.resources.register(doc);
}

/** A person signed in at the server's login page (cookie jar), for the dashboard pages. */
export async function signedIn(url: string, email = DEMO_EMAIL): Promise<BrowserlessUser> {
  const user = new BrowserlessUser(url);
  const form = formOf(await user.get('/login'));
  const page = await user.post(form.action, [...hiddenFields(form), ['email', email], ['password', DEMO_PASSWORD]]);
  if (page.status !== 303 || page.location?.pathname !== '/account') throw new Error(`login failed: ${page.status} ${page.html.slice(0, 300)}`);
  return user;
}
