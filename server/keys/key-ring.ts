import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { seal, unseal, type Sealed } from '../crypto/sealing.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'RS384';

/**
 * Lifecycle of a signing key: `next` is published in the JWKS but never signs, so relying parties
 * have it cached before it is used; `active` signs; `retired` is still published until every
 * token it signed has expired (its `expiresAt`), after which the store stops returning it.
 */
export interface SigningKeyDocument extends StoredDocument {
  alg: SigningAlgorithm;
  status: 'next' | 'active' | 'retired';
  publicJwk: JWK;
  sealedPrivateJwk: Sealed;
  createdAt: Date;
  activatedAt?: Date;
  retiredAt?: Date;
}

export interface ActiveKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  /** The same key for node:crypto, which signs faster than WebCrypto. */
  privateKeyObject: KeyObject;
}

export interface KeyRingOptions {
  secret: string;
  /** How long a token signed now can stay valid: retired keys stay published this much longer. */
  maxTokenLifetimeSeconds: number;
  cacheSeconds: number;
  alg?: SigningAlgorithm;
  now?: () => Date;
}

interface Snapshot {
  loadedAt: number;
  active: ActiveKey;
  jwks: { keys: JWK[] };
  verification: Map<string, CryptoKey>;
}

export class KeyRing {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;

  private constructor(
    private readonly keys: Collection<SigningKeyDocument>,
    private readonly options: KeyRingOptions,
  ) {}

  static async open(store: Store, options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(await store.collection<SigningKeyDocument>('signing_keys', { indexed: ['status'] }), options);
    await ring.ensureKeys();
    return ring;
  }

  /** The key to sign with now; reads the store at most once per cache period. */
  async signingKey(): Promise<ActiveKey> {
    return (await this.current()).active;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return (await this.current()).jwks;
  }

  /** The public key with this kid, if it is still published; for verifying this server's own tokens. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey> {
    const key = kid === undefined ? undefined : (await this.current()).verification.get(kid);
    if (!key) throw new Error('unknown signing key');
    return key;
  }

  /**
   * Promotes the published `next` key to `active`, retires the old active key (kept published
   * until its tokens expire) and publishes a fresh `next` key. Safe to run from any process.
   */
  async rotate(): Promise<{ activated: string; retired: string[]; next: string }> {
    const now = this.now();
    const next = (await this.keys.find({ status: 'next' }, { sort: { createdAt: 1 }, limit: 1 }))[0] ?? (await this.create('next'));
    const previous = await this.keys.find({ status: 'active' });
    await this.keys.update({ _id: next._id }, { status: 'active', activatedAt: now });
    const expiresAt = new Date(now.getTime() + (this.options.maxTokenLifetimeSeconds + this.options.cacheSeconds) * 1000);
    for (const old of previous) await this.keys.update({ _id: old._id }, { status: 'retired', retiredAt: now, expiresAt });
    const fresh = await this.create('next');
    this.snapshot = undefined;
    return { activated: next._id, retired: previous.map((k) => k._id), next: fresh._id };
  }

  private async ensureKeys() {
    if ((await this.keys.count({ status: 'active' })) === 0) await this.create('active');
    if ((await this.keys.count({ status: 'next' })) === 0) await this.create('next');
    await this.current();
  }

  private async create(status: 'active' | 'next'): Promise<SigningKeyDocument> {
    const alg = this.options.alg ?? 'ES256';
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
    const kid = await calculateJwkThumbprint(publicJwk);
    const now = this.now();
    const doc: SigningKeyDocument = {
      _id: kid,
      alg,
      status,
      publicJwk: { ...publicJwk, kid },
      sealedPrivateJwk: seal(JSON.stringify(await exportJWK(privateKey)), this.options.secret),
      createdAt: now,
      ...(status === 'active' ? { activatedAt: now } : {}),
    };
    await this.keys.insert(doc);
    return doc;
  }

  private async current(): Promise<Snapshot> {
    const fresh = this.snapshot && Date.now() - this.snapshot.loadedAt < this.options.cacheSeconds * 1000;
    if (fresh && this.snapshot) return this.snapshot;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    this.snapshot = await this.loading;
    return this.snapshot;
  }

  private async load(): Promise<Snapshot> {
    const docs = await this.keys.find({}, { sort: { createdAt: 1 } });
    // Two processes bootstrapping a fresh store at once may both create an active key; both are
    // published, and every process signs with the same one: the most recently activated.
    const active = docs
      .filter((d) => d.status === 'active')
      .sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0) || a._id.localeCompare(b._id))[0];
    if (!active) throw new Error('no active signing key in the store');
    const privateJwk = JSON.parse(unseal(active.sealedPrivateJwk, this.options.secret)) as JWK;
    const privateKey = (await importJWK(privateJwk, active.alg)) as CryptoKey;
    const verification = new Map<string, CryptoKey>();
    for (const doc of docs) verification.set(doc._id, (await importJWK(doc.publicJwk, doc.alg)) as CryptoKey);
    return {
      loadedAt: Date.now(),
      active: { kid: active._id, alg: active.alg, privateKey, privateKeyObject: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }) },
      jwks: { keys: docs.map((d) => d.publicJwk) },
      verification,
    };
  }

  private now() {
    return this.options.now?.() ?? new Date();
  }
}
