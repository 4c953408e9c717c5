import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { DuplicateKeyError, type StoredDocument } from '../../server/store/port.js';
import { StartupError } from '../../server/startup-error.js';

/** nedb files as that engine left them: index lines, replaced and deleted documents, a torn last line. */
const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/nedb');

interface Account extends StoredDocument {
  email: string;
  createdAt: Date;
  profile?: { verifiedAt: Date };
}

interface Token extends StoredDocument {
  clientId: string;
  scopes: string[];
  issuedAt: Date;
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-nedb-import-'));
  await cp(fixture, path.join(dataDir, 'db'), { recursive: true });
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

test('a data directory of nedb files is imported on first open, then the files are set aside', async () => {
  const store = await openEmbeddedStore(dataDir);
  const accounts = await store.collection<Account>('accounts', { unique: ['email'] });
  expect(await accounts.find({}, { sort: { _id: 1 } })).toEqual([
    { _id: 'alice', email: 'alice@example.org', createdAt: new Date(1700000000000), profile: { verifiedAt: new Date(1700000001000) } },
    { _id: 'bob', email: 'bob@example.net', createdAt: new Date(1700000002000) },
  ]);
  await expect(accounts.insert({ _id: 'eve', email: 'alice@example.org', createdAt: new Date() })).rejects.toBeInstanceOf(DuplicateKeyError);
  const tokens = await store.collection<Token>('access_tokens');
  // t2 had expired (hidden, and reclaimable by the sweep); t3 was a torn write, never acknowledged.
  expect(await tokens.find({})).toEqual([{ _id: 't1', clientId: 'c', scopes: ['a', 'b'], issuedAt: new Date(1700000000000), expiresAt: new Date(4102444800000) }]);
  expect(await tokens.sweepExpired(new Date(), 10)).toBe(1);
  await accounts.delete({ _id: 'bob' });
  await store.close();

  expect((await readdir(path.join(dataDir, 'db'))).sort()).toEqual(['access_tokens.db.imported', 'accounts.db.imported', 'assent.sqlite']);
  const again = await openEmbeddedStore(dataDir);
  expect((await (await again.collection<Account>('accounts')).find({})).map((a) => a._id)).toEqual(['alice']);
  await again.close();
});

test('a nedb file with a line that is not JSON stops start-up, imports nothing and leaves the files in place', async () => {
  await writeFile(path.join(dataDir, 'db', 'accounts.db'), '{"_id":"alice"}\nnot json\n{"_id":"bob"}\n');
  const opening = openEmbeddedStore(dataDir);
  await expect(opening).rejects.toBeInstanceOf(StartupError);
  await expect(opening).rejects.toThrow(/line 2 of .*accounts\.db is not JSON/);
  expect((await readdir(path.join(dataDir, 'db'))).filter((f) => f.endsWith('.db')).sort()).toEqual(['access_tokens.db', 'accounts.db']);
  await writeFile(path.join(dataDir, 'db', 'accounts.db'), '{"_id":"alice"}\n');
  const store = await openEmbeddedStore(dataDir);
  expect(await (await store.collection('access_tokens')).count({})).toBe(1);
  expect(await (await store.collection('accounts')).count({})).toBe(1);
  await store.close();
});
