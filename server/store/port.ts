/**
 * The one narrow persistence port every repository is written against. Two adapters implement it
 * (embedded file-backed and MongoDB) and pass the same contract suite (test/store/contract.test.ts).
 *
 * Filters are a small MongoDB-style subset both backends understand natively: equality on fields,
 * and the operators in `FieldCondition`. Documents carry a string `_id`. A document with an
 * `expiresAt` date in the past is invisible to every read and to `consume` and `update`, whatever
 * the backend's cleanup does; `sweepExpired` only reclaims space.
 */
export interface StoredDocument {
  _id: string;
  expiresAt?: Date;
}

export type Scalar = string | number | boolean | Date | null;

export interface FieldCondition {
  $eq?: Scalar;
  $ne?: Scalar;
  $in?: Scalar[];
  $nin?: Scalar[];
  $gt?: Scalar;
  $gte?: Scalar;
  $lt?: Scalar;
  $lte?: Scalar;
  $exists?: boolean;
}

export type Filter = Record<string, Scalar | FieldCondition>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  limit?: number;
}

export interface Collection<T extends StoredDocument> {
  /** Inserts a new document; throws DuplicateKeyError when `_id` or a unique field is taken. */
  insert(doc: T): Promise<void>;
  findOne(filter: Filter): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter): Promise<number>;
  /** Sets fields on every live matching document; returns how many matched. */
  update(filter: Filter, set: Partial<T>): Promise<number>;
  /**
   * Atomically finds one live document matching `filter` and sets `set` on it, returning the
   * updated document, or null when none matched. Of many concurrent callers whose filter excludes the `set` state
   * (e.g. `{consumedAt: {$exists: false}}` + `{consumedAt: now}`), exactly one gets the document.
   */
  consume(filter: Filter, set: Partial<T>): Promise<T | null>;
  /** Replaces the whole document with this `_id`, inserting it if absent. */
  upsert(doc: T): Promise<void>;
  delete(filter: Filter): Promise<number>;
  /**
   * Reclaims up to `limit` documents expired by `now` and returns how many it removed; correctness
   * never depends on it running. The bound keeps one call short (server/store/sweep.ts calls it).
   */
  sweepExpired(now: Date, limit: number): Promise<number>;
}

export interface CollectionSpec {
  /** Fields whose values must be unique across the collection (besides `_id`). */
  unique?: string[];
  /** Fields looked up often enough to deserve an index. */
  indexed?: string[];
}

export interface Store {
  readonly kind: 'embedded' | 'mongodb';
  collection<T extends StoredDocument>(name: string, spec?: CollectionSpec): Promise<Collection<T>>;
  /** Every collection opened through this store so far (what the expiry sweep visits). */
  openedCollections(): Collection<StoredDocument>[];
  /** Cheap liveness check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store could not take a write in time (another writer held it): the request may be retried. */
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
}

export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
  constructor(
    readonly collection: string,
    readonly detail: string,
  ) {
    super(`duplicate key in ${collection}: ${detail}`);
  }
}

/** The query that hides expired documents, which both adapters apply to every read. */
export function liveQuery(filter: Filter, now: Date = new Date()): Record<string, unknown> {
  return { ...filter, $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: now } }] };
}
