import { compactVerify, createLocalJWKSet, SignJWT, jwtVerify } from 'jose';
import { KeyRing, type KeyRingOptions, type SigningAlgorithm } from '../../server/keys/key-ring.js';
import type { Store } from '../../server/store/port.js';
import { disposeStore, storeBackends } from '../support/stores.js';

const options: KeyRingOptions = { secret: 'k'.repeat(40), maxTokenLifetimeSeconds: 3600, cacheSeconds: 60 };

async function sign(ring: KeyRing, alg?: SigningAlgorithm) {
  const key = await ring.signingKey(alg);
  return new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuedAt().sign(key.privateKey);
}

describe.each(storeBackends)('signing keys on the $name store', (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(() => disposeStore(store));

  test('first open creates an active and a next key for ES256 and for RS256; a reopen keeps them', async () => {
    const first = await KeyRing.open(store, options);
    const { keys } = await first.jwks();
    expect(keys.map((k) => `${k.alg} ${k.kty}`).sort()).toEqual(['ES256 EC', 'ES256 EC', 'RS256 RSA', 'RS256 RSA']);
    expect((await first.signingKey()).alg).toBe('ES256');
    expect((await first.signingKey('RS256')).alg).toBe('RS256');
    const signing = await first.signingKey();
    const again = await KeyRing.open(store, options);
    expect((await again.signingKey()).kid).toBe(signing.kid);
    expect((await again.jwks()).keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort());
  });

  test('tokens of either algorithm verify against the published JWKS', async () => {
    const ring = await KeyRing.open(store, options);
    for (const alg of ['ES256', 'RS256'] as const) {
      const { payload, protectedHeader } = await jwtVerify(await sign(ring, alg), createLocalJWKSet(await ring.jwks()));
      expect(payload.sub).toBe('alice');
      expect(protectedHeader.alg).toBe(alg);
    }
  });

  test('rotation signs with the key that was already published and keeps the retired key until its tokens expire', async () => {
    const ring = await KeyRing.open(store, options);
    const before = await ring.jwks();
    const oldKid = (await ring.signingKey()).kid;
    const oldToken = await sign(ring);
    const nextKid = before.keys.map((k) => k.kid).find((kid) => kid !== oldKid);

    const rotation = await ring.rotate();
    expect(rotation).toMatchObject({ alg: 'ES256', activated: nextKid, retired: [oldKid] });
    expect((await ring.signingKey()).kid).toBe(nextKid);
    const after = await ring.jwks();
    expect(after.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, nextKid, rotation.next]));
    await compactVerify(oldToken, createLocalJWKSet(after));
  });

  test('the RS256 key set rotates on its own, leaving the ES256 keys as they were', async () => {
    const ring = await KeyRing.open(store, options);
    const es256 = (await ring.signingKey('ES256')).kid;
    const oldKid = (await ring.signingKey('RS256')).kid;
    const nextKid = (await ring.jwks()).keys.find((k) => k.alg === 'RS256' && k.kid !== oldKid)?.kid;
    const oldToken = await sign(ring, 'RS256');

    const rotation = await ring.rotate('RS256');
    expect(rotation).toMatchObject({ alg: 'RS256', activated: nextKid, retired: [oldKid] });
    expect((await ring.signingKey('RS256')).kid).toBe(nextKid);
    expect((await ring.signingKey('ES256')).kid).toBe(es256);
    const after = await ring.jwks();
    expect(after.keys.filter((k) => k.alg === 'RS256').map((k) => k.kid).sort()).toEqual([oldKid, nextKid, rotation.next].sort());
    await compactVerify(oldToken, createLocalJWKSet(after));
    const reopened = await KeyRing.open(store, options);
    expect((await reopened.signingKey('RS256')).kid).toBe(nextKid);
  });

  test('a retired key leaves the JWKS once every token it signed has expired', async () => {
    const past = () => new Date(Date.now() - 2 * 3600 * 1000);
    const ring = await KeyRing.open(store, { ...options, now: past });
    const oldKid = (await ring.signingKey()).kid;
    await ring.rotate();
    const kids = (await ring.jwks()).keys.map((k) => k.kid);
    expect(kids).not.toContain(oldKid);
    expect(kids).toHaveLength(4);
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
