import { compactVerify, createLocalJWKSet, SignJWT, jwtVerify } from 'jose';
import { KeyRing, type KeyRingOptions } from '../../server/keys/key-ring.js';
import type { Store } from '../../server/store/port.js';
import { disposeStore, storeBackends } from '../support/stores.js';

const options: KeyRingOptions = { secret: 'k'.repeat(40), maxTokenLifetimeSeconds: 3600, cacheSeconds: 60 };

async function sign(ring: KeyRing) {
  const key = await ring.signingKey();
  return new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuedAt().sign(key.privateKey);
}

describe.each(storeBackends)('signing keys on the $name store', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(() => disposeStore(store));

  test('first open creates an active key and publishes a next key; a reopen keeps both', async () => {
    const first = await KeyRing.open(store, options);
    const { keys } = await first.jwks();
    expect(keys).toHaveLength(2);
    const signing = await first.signingKey();
    const again = await KeyRing.open(store, options);
    expect((await again.signingKey()).kid).toBe(signing.kid);
    expect((await again.jwks()).keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort());
  });

  test('tokens verify against the published JWKS', async () => {
    const ring = await KeyRing.open(store, options);
    const { payload } = await jwtVerify(await sign(ring), createLocalJWKSet(await ring.jwks()));
    expect(payload.sub).toBe('alice');
  });

  test('rotation signs with the key that was already published and keeps the retired key until its tokens expire', async () => {
    const ring = await KeyRing.open(store, options);
    const before = await ring.jwks();
    const oldKid = (await ring.signingKey()).kid;
    const oldToken = await sign(ring);
    const nextKid = before.keys.map((k) => k.kid).find((kid) => kid !== oldKid);

    const rotation = await ring.rotate();
    expect(rotation).toMatchObject({ activated: nextKid, retired: [oldKid] });
    expect((await ring.signingKey()).kid).toBe(nextKid);
    const after = await ring.jwks();
    expect(after.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, nextKid, rotation.next]));
    await compactVerify(oldToken, createLocalJWKSet(after));
  });

  test('a retired key leaves the JWKS once every token it signed has expired', async () => {
    const past = () => new Date(Date.now() - 2 * 3600 * 1000);
    const ring = await KeyRing.open(store, { ...options, now: past });
    const oldKid = (await ring.signingKey()).kid;
    await ring.rotate();
    const kids = (await ring.jwks()).keys.map((k) => k.kid);
    expect(kids).not.toContain(oldKid);
    expect(kids).toHaveLength(2);
  });

  test('private keys are sealed at rest and unusable with another secret', async () => {
    await KeyRing.open(store, options);
    const raw = await (await store.collection<{ _id: string; sealedPrivateJwk: unknown; publicJwk: { d?: string } }>('signing_keys')).find({});
    for (const doc of raw) {
      expect(JSON.stringify(doc.sealedPrivateJwk)).not.toMatch(/"d"/);
      expect(doc.publicJwk.d).toBeUndefined();
    }
    await expect(KeyRing.open(store, { ...options, secret: 'w'.repeat(40) })).rejects.toThrow();
  });
});
