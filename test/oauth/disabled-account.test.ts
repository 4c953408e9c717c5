import { AccountAdmin } from '../../server/sessions/account-admin.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { createAccount } from '../uma/sharing-support.js';

/** An account the operator disabled (npm run accounts -- disable) gets no tokens, whatever it held before. */
describe.each(storeBackends)('a disabled account on the $name store', (backend) => {
  let server: TestServer;
  let admin: AccountAdmin;
  beforeAll(async () => {
    server = await startTestServer(backend);
    admin = await AccountAdmin.open(server.services.store);
  });
  afterAll(() => server.stop());

  test('cannot redeem a code issued before it was disabled, nor refresh, until enabled and signed in again', async () => {
    const email = 'dora@example.org';
    await createAccount(server.services, email);
    const client = new RawClient(server.url);
    const tokens = await client.tokens(new BrowserlessUser(server.url), {}, { email });
    const pending = await client.code(new BrowserlessUser(server.url), {}, { email });

    await admin.disable(email);
    expect(await client.exchange(pending.code, pending.verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await client.refresh(tokens.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    await admin.enable(email);
    expect((await client.tokens(new BrowserlessUser(server.url), {}, { email })).access_token).toEqual(expect.any(String));
  });
});
