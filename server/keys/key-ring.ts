import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { seal, unseal, type Sealed } from '../crypto/sealing.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'RS384';

/**
 * Lifecycle of a signing key, kept for each algorithm of the ring separately: `next` is published in the JWKS but never signs, so relying parties
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
  /** The key sets the ring keeps, each with its own rotation; the first signs access tokens. */
  algorithms?: SigningAlgorithm[];
  now?: () => Date;
}

/** ES256 for everything by default; RS256 for the ID tokens of clients that need it (SMART App Launch). */
export const DEFAULT_ALGORITHMS: SigningAlgorithm[] = ['ES256', 'RS256'];

interface Rotation {
  alg: SigningAlgorithm;
  activated: string;
  retired: string[];
  next: string;
}

interface Snapshot {
  loadedAt: number;
  active: Map<SigningAlgorithm, ActiveKey>;
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

  /** The algorithms the ring keeps keys for; the first is the default. */
  get algorithms(): SigningAlgorithm[] {
    return this.options.algorithms ?? DEFAULT_ALGORITHMS;
  }

  /** The key to sign with now (of the default algorithm unless one is named); reads the store at most once per cache period. */
  async signingKey(alg: SigningAlgorithm = this.algorithms[0]!): Promise<ActiveKey> {
    const key = (await this.current()).active.get(alg);
    if (!key) throw new Error(`no active ${alg} signing key`);
    return key;
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
   * For one algorithm's key set (the default one unless named): promotes the published `next`
   * key to `active`, retires the old active key (kept published until its tokens expire) and
   * publishes a fresh `next` key. Safe to run from any process.
   */
  async rotate(alg: SigningAlgorithm = this.algorithms[0]!): Promise<Rotation> {
    const now = this.now();
    const next = (await this.keys.find({ status: 'next', alg }, { sort: { createdAt: 1 }, limit: 1 }))[0] ?? (await this.create('next', alg));
    const previous = await this.keys.find({ status: 'active', alg });
    await this.keys.update({ _id: next._id }, { status: 'active', activatedAt: now });
    const expiresAt = new Date(now.getTime() + (this.options.maxTokenLifetimeSeconds + this.options.cacheSeconds) * 1000);
    for (const old of previous) await this.keys.update({ _id: old._id }, { status: 'retired', retiredAt: now, expiresAt });
    const fresh = await this.create('next', alg);
    this.snapshot = undefined;
    return { alg, activated: next._id, retired: previous.map((k) => k._id), next: fresh._id };
  }

  private async ensureKeys() {
    for (const alg of this.algorithms) {
      if ((await this.keys.count({ status: 'active', alg })) === 0) await this.create('active', alg);
      if ((await this.keys.count({ status: 'next', alg })) === 0) await this.create('next', alg);
    }
    await this.current();
  }

  private async create(status: 'active' | 'next', alg: SigningAlgorithm): Promise<SigningKeyDocument> {
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
    const active = new Map<SigningAlgorithm, ActiveKey>();
    for (const alg of this.algorithms) active.set(alg, await this.unsealed(newestActive(docs, alg), alg));
    const verification = new Map<string, CryptoKey>();
    for (const doc of docs) verification.set(doc._id, (await importJWK(doc.publicJwk, doc.alg)) as CryptoKey);
    return { loadedAt: Date.now(), active, jwks: { keys: docs.map((d) => d.publicJwk) }, verification };
  }

  private async unsealed(doc: SigningKeyDocument | undefined, alg: SigningAlgorithm): Promise<ActiveKey> {
    if (!doc) throw new Error(`no active ${alg} signing key in the store`);
    const privateJwk = JSON.parse(unseal(doc.sealedPrivateJwk, this.options.secret)) as JWK;
    const privateKey = (await importJWK(privateJwk, doc.alg)) as CryptoKey;
    return { kid: doc._id, alg: doc.alg, privateKey, privateKeyObject: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }) };
  }

  private now() {
    return this.options.now?.() ?? new Date();
  }
}

/**
 * Two processes bootstrapping a fresh store at once may both create an active key; both are
 * published, and every process signs with the same one: the most recently activated.
 */
function newestActive(docs: SigningKeyDocument[], alg: SigningAlgorithm): SigningKeyDocument | undefined {
  return docs
    .filter((d) => d.status === 'active' && d.alg === alg)
    .sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0) || a._id.localeCompare(b._id))[0];
}
