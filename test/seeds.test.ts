import { verifyPassword } from '../server/crypto/password.js';
import { secretMatches } from '../server/crypto/secrets.js';
import { seedDemoData } from '../server/seeds.js';
import type { Store } from '../server/store/port.js';
import { Accounts } from '../server/store/repositories/accounts.js';
import { Clients } from '../server/store/repositories/clients.js';
import { disposeStore, storeBackends } from './support/stores.js';

describe.each(storeBackends)('demo seeds on the $name store', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(() => disposeStore(store));

  test('load once, with hashed credentials, and never again', async () => {
    const repositories = { accounts: await Accounts.open(store), clients: await Clients.open(store) };
    const first = await seedDemoData(store, repositories, undefined);
    expect(first?.passwords).toEqual([{ email: 'alice@example.org', password: expect.any(String), generated: true }]);
    expect(first?.clientSecrets.map((c) => c.clientId)).toEqual(['demo-resource-server']);

    const alice = await repositories.accounts.byEmail('Alice@Example.org');
    expect(alice?.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(first!.passwords[0]!.password, alice!.passwordHash!)).toBe(true);
    expect(await verifyPassword('wrong', alice!.passwordHash!)).toBe(false);
    const rs = await repositories.clients.byId('demo-resource-server');
    expect(rs?.secretHash).toBeDefined();
    expect(secretMatches(first!.clientSecrets[0]!.secret, rs!.secretHash!)).toBe(true);
    expect((await repositories.clients.byId('demo-app'))?.secretHash).toBeUndefined();

    expect(await seedDemoData(store, repositories, 'another-password')).toBeUndefined();
    expect((await repositories.accounts.byEmail('alice@example.org'))?.passwordHash).toBe(alice?.passwordHash);
  });
});
