import { isDeepStrictEqual } from 'node:util';
import { DuplicateKeyError, type Collection, type Store, type StoredDocument } from '../store/port.js';
import { loadBundle, PolicyError, type PolicyBundle } from './bundle.js';
import type { DecisionRecord } from './engine.js';
import type { EntrypointName, EntrypointOutput, EntrypointPaths } from './entrypoints.js';

/**
 * Input and result are kept as JSON text: replay needs them exactly as evaluated, and policy
 * inputs may hold keys neither store accepts (`.` or a leading `$`).
 */
interface DecisionDocument extends StoredDocument {
  entrypoint: EntrypointName;
  bundleDigest: string;
  decidedAt: Date;
  input: string;
  result: string;
  /** `input.owner.sub` when the input has one (claims): lets an owner list the decisions about them. */
  ownerId?: string;
}

function recordOf(doc: DecisionDocument): DecisionRecord {
  return {
    id: doc._id,
    entrypoint: doc.entrypoint,
    bundleDigest: doc.bundleDigest,
    input: JSON.parse(doc.input) as DecisionRecord['input'],
    inputJson: doc.input,
    result: JSON.parse(doc.result) as DecisionRecord['result'],
    decidedAt: doc.decidedAt,
  };
}

/** A bundle's wasm (base64), stored once per digest. */
interface BundleDocument extends StoredDocument {
  wasm: string;
  entrypoints: Partial<EntrypointPaths>;
  storedAt: Date;
}

/** Where the log finds the bundles decisions were made with: a PolicyEngine. */
export interface BundleSource {
  bundle(digest: string): PolicyBundle | undefined;
}

export interface DecisionReplay {
  record: DecisionRecord;
  replayed: EntrypointOutput<EntrypointName>;
  /** Whether the recorded bundle, given the recorded input, still gives the recorded result. */
  matches: boolean;
}

/** Persists decision records and the bundles that made them, and replays recorded decisions. */
export class DecisionLog {
  private readonly storedBundles = new Map<string, Promise<void>>();

  private constructor(
    private readonly decisions: Collection<DecisionDocument>,
    private readonly bundles: Collection<BundleDocument>,
    private readonly engine: BundleSource,
  ) {}

  static async open(store: Store, engine: BundleSource): Promise<DecisionLog> {
    const decisions = await store.collection<DecisionDocument>('decisions', {
      // Not entrypoint or bundleDigest: a handful of values each, and nedb serves a query from the
      // last indexed field it names, so `{ ownerId, entrypoint }` would scan every decision of that entrypoint.
      indexed: ['ownerId', 'decidedAt'],
    });
    const bundles = await store.collection<BundleDocument>('policy_bundles');
    return new DecisionLog(decisions, bundles, engine);
  }

  /** Writes a record made by this log's engine, storing its bundle first if not yet stored. */
  async record(record: DecisionRecord): Promise<void> {
    const bundle = this.engine.bundle(record.bundleDigest);
    if (!bundle) throw new Error(`decision ${record.id}: bundle ${record.bundleDigest} was not loaded by this engine`);
    await this.storeBundle(bundle);
    const owner = (record.input as { owner?: { sub?: unknown } }).owner?.sub;
    await this.decisions.insert({
      _id: record.id,
      entrypoint: record.entrypoint,
      bundleDigest: record.bundleDigest,
      decidedAt: record.decidedAt,
      input: record.inputJson,
      result: JSON.stringify(record.result),
      ...(typeof owner === 'string' ? { ownerId: owner } : {}),
    });
  }

  async find(id: string): Promise<DecisionRecord | null> {
    const doc = await this.decisions.findOne({ _id: id });
    return doc ? recordOf(doc) : null;
  }

  /** The most recent decisions of one entrypoint about one owner (`input.owner.sub`), newest first. */
  async ofOwner(ownerId: string, entrypoint: EntrypointName, limit = 50): Promise<DecisionRecord[]> {
    return (await this.decisions.find({ ownerId, entrypoint }, { sort: { decidedAt: -1 }, limit })).map(recordOf);
  }

  /** Re-evaluates a recorded decision against the bundle that made it; null for an unknown id. */
  async replay(id: string): Promise<DecisionReplay | null> {
    const record = await this.find(id);
    if (!record) return null;
    const bundle = this.engine.bundle(record.bundleDigest) ?? (await this.loadStoredBundle(record.bundleDigest));
    const replayed = bundle.evaluate(record.entrypoint, record.inputJson);
    return { record, replayed, matches: isDeepStrictEqual(replayed, record.result) };
  }

  private storeBundle(bundle: PolicyBundle): Promise<void> {
    let stored = this.storedBundles.get(bundle.digest);
    if (!stored) {
      stored = this.insertBundle(bundle);
      this.storedBundles.set(bundle.digest, stored);
      stored.catch(() => this.storedBundles.delete(bundle.digest));
    }
    return stored;
  }

  private async insertBundle(bundle: PolicyBundle): Promise<void> {
    try {
      await this.bundles.insert({
        _id: bundle.digest,
        wasm: Buffer.from(bundle.wasm).toString('base64'),
        entrypoints: bundle.entrypoints,
        storedAt: new Date(),
      });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
  }

  private async loadStoredBundle(digest: string): Promise<PolicyBundle> {
    const doc = await this.bundles.findOne({ _id: digest });
    if (!doc) throw new PolicyError('load_failed', `policy bundle ${digest} is not in the store`);
    const bundle = await loadBundle(Buffer.from(doc.wasm, 'base64'), doc.entrypoints);
    if (bundle.digest !== digest) {
      throw new PolicyError('load_failed', `stored policy bundle ${digest} has digest ${bundle.digest}`);
    }
    return bundle;
  }
}
