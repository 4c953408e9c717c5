import type { Collection, Store, StoredDocument } from '../../store/port.js';
import type { DecisionRecord } from '../engine.js';
import type { EntrypointName } from '../entrypoints.js';
import { ownerOf, retentionCutoff, type DecisionSink } from './sink.js';

/**
 * Input and result are kept as JSON text: replay needs them exactly as evaluated, and policy
 * inputs may hold keys MongoDB does not accept (`.` or a leading `$`).
 */
interface DecisionDocument extends StoredDocument {
  entrypoint: EntrypointName;
  bundleDigest: string;
  decidedAt: Date;
  input: string;
  result: string;
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

/**
 * Retention deletes at most this many records per run, in batches of RETENTION_BATCH, so one run
 * never holds a long delete against the database; a backlog clears over a few runs.
 */
const RETENTION_BATCH = 1000;
const RETENTION_BATCHES_PER_RUN = 50;

/**
 * The `decisions` collection of a MongoDB store. Retention is a periodic delete (FerretDB has no
 * TTL indexes), oldest first.
 */
export class CollectionSink implements DecisionSink {
  private constructor(
    private readonly decisions: Collection<DecisionDocument>,
    private readonly retentionDays: number,
  ) {}

  static async open(store: Store, retentionDays: number): Promise<CollectionSink> {
    const decisions = await store.collection<DecisionDocument>('decisions', { indexed: ['ownerId', 'decidedAt'] });
    return new CollectionSink(decisions, retentionDays);
  }

  async append(record: DecisionRecord) {
    const owner = ownerOf(record);
    await this.decisions.insert({
      _id: record.id,
      entrypoint: record.entrypoint,
      bundleDigest: record.bundleDigest,
      decidedAt: record.decidedAt,
      input: record.inputJson,
      result: JSON.stringify(record.result),
      ...(owner === undefined ? {} : { ownerId: owner }),
    });
  }

  async find(id: string) {
    const doc = await this.decisions.findOne({ _id: id });
    return doc ? recordOf(doc) : null;
  }

  async ofOwner(ownerId: string, entrypoint: EntrypointName, limit: number) {
    return (await this.decisions.find({ ownerId, entrypoint }, { sort: { decidedAt: -1 }, limit })).map(recordOf);
  }

  async applyRetention(now: Date) {
    const cutoff = retentionCutoff(now, this.retentionDays);
    let removed = 0;
    for (let batch = 0; batch < RETENTION_BATCHES_PER_RUN; batch++) {
      const expired = await this.decisions.find({ decidedAt: { $lt: cutoff } }, { sort: { decidedAt: 1 }, limit: RETENTION_BATCH });
      if (expired.length === 0) break;
      removed += await this.decisions.delete({ _id: { $in: expired.map((doc) => doc._id) } });
      if (expired.length < RETENTION_BATCH) break;
    }
    return removed;
  }

  /**
   * Moves every record, oldest first, into `target` and deletes it here: how the embedded store's
   * decisions of earlier versions (a store collection, imported from nedb) reach the file log.
   * Safe to repeat after a crash part-way: a record `target` already has is not written twice.
   */
  async moveInto(target: DecisionSink): Promise<number> {
    let moved = 0;
    for (;;) {
      const batch = await this.decisions.find({}, { sort: { decidedAt: 1 }, limit: RETENTION_BATCH });
      if (batch.length === 0) return moved;
      for (const doc of batch) if (!(await target.find(doc._id))) await target.append(recordOf(doc));
      moved += await this.decisions.delete({ _id: { $in: batch.map((doc) => doc._id) } });
    }
  }

  /** Writes fail one by one with the store, which /readyz pings. */
  writable() {
    return true;
  }

  async close() {}
}
