import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/config.js';
import { DuplicateKeyError, type Collection, type Store, type StoredDocument } from '../store/port.js';
import { loadBundle, PolicyError, type PolicyBundle } from './bundle.js';
import { CollectionSink } from './decisions/collection-sink.js';
import { FileSink } from './decisions/file-sink.js';
import type { DecisionSink } from './decisions/sink.js';
import type { Decision, DecisionRecord } from './engine.js';
import type { EntrypointInput, EntrypointName, EntrypointOutput, EntrypointPaths } from './entrypoints.js';
import type { MaintenanceTask } from '../maintenance.js';

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

/** The engine the log decides with: a PolicyEngine. */
export interface DecidingEngine extends BundleSource {
  decide<E extends EntrypointName>(entrypoint: E, input: EntrypointInput<E>): Decision<E>;
}

export interface DecisionReplay {
  record: DecisionRecord;
  replayed: EntrypointOutput<EntrypointName>;
  /** Whether the recorded bundle, given the recorded input, still gives the recorded result. */
  matches: boolean;
}

/** On the embedded store the log lives in `<dataDir>/decisions`. */
export type DecisionLogOptions = Pick<Config, 'dataDir' | 'decisionRetentionDays' | 'decisionSegmentBytes'>;

/**
 * Persists decision records and the bundles that made them, and replays recorded decisions. On
 * the embedded store the records go to a segmented file log (decisions/file-sink.ts), which keeps
 * nothing of them in memory, rather than to a store collection; on MongoDB to the `decisions`
 * collection. Bundles are stored once per digest in the store's `policy_bundles` either way.
 */
export class DecisionLog {
  private readonly storedBundles = new Map<string, Promise<void>>();

  private constructor(
    private readonly sink: DecisionSink,
    private readonly bundles: Collection<BundleDocument>,
    private readonly engine: DecidingEngine,
  ) {}

  static async open(store: Store, engine: DecidingEngine, options: DecisionLogOptions): Promise<DecisionLog> {
    const bundles = await store.collection<BundleDocument>('policy_bundles');
    const collection = await CollectionSink.open(store, options.decisionRetentionDays);
    if (store.kind !== 'embedded') return new DecisionLog(collection, bundles, engine);
    const files = await FileSink.open({ dir: path.join(options.dataDir, 'decisions'), segmentBytes: options.decisionSegmentBytes, retentionDays: options.decisionRetentionDays });
    // Decisions an earlier version kept in the embedded store (imported from its nedb files).
    await collection.moveInto(files);
    return new DecisionLog(files, bundles, engine);
  }

  /**
   * Asks the policy and records the decision, in one call so that no site can forget the record:
   * the answer is returned once its record is written. (A hypothetical question that must not be
   * recorded, such as the sharing-rule preview, asks the engine directly.)
   */
  async decide<E extends EntrypointName>(entrypoint: E, input: EntrypointInput<E>): Promise<Decision<E>> {
    const decision = this.engine.decide(entrypoint, input);
    await this.record(decision.record);
    return decision;
  }

  /** Writes a record made by this log's engine, storing its bundle first if not yet stored. */
  async record(record: DecisionRecord): Promise<void> {
    const bundle = this.engine.bundle(record.bundleDigest);
    if (!bundle) throw new Error(`decision ${record.id}: bundle ${record.bundleDigest} was not loaded by this engine`);
    await this.storeBundle(bundle);
    await this.sink.append(record);
  }

  find(id: string): Promise<DecisionRecord | null> {
    return this.sink.find(id);
  }

  /** The most recent decisions of one entrypoint about one owner (`input.owner.sub`), newest first. */
  ofOwner(ownerId: string, entrypoint: EntrypointName, limit = 50): Promise<DecisionRecord[]> {
    return this.sink.ofOwner(ownerId, entrypoint, limit);
  }

  /** Applies the retention as of `now`; returns how many records left the log. */
  applyRetention(now: Date): Promise<number> {
    return this.sink.applyRetention(now);
  }

  /** The retention as a periodic maintenance task. */
  retentionTask(): MaintenanceTask {
    return { name: 'decision-retention', run: (now) => this.applyRetention(now) };
  }

  /** Whether records are accepted: false after a failed write, which every decision then fails with. */
  writable(): boolean {
    return this.sink.writable();
  }

  /** Waits for the records being written, then closes the log's files (the store is closed by its owner). */
  close(): Promise<void> {
    return this.sink.close();
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
