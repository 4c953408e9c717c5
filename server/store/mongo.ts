import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError, type Collection as MongoCollection, type Db, type Filter as MongoFilter } from 'mongodb';
import {
  DuplicateKeyError,
  liveQuery,
  type Collection,
  type CollectionSpec,
  type Filter,
  type FindOptions,
  type Store,
  type StoredDocument,
} from './port.js';

/** What the driver sees: a string `_id` plus whatever fields the repository stores. */
interface Row {
  _id: string;
  [field: string]: unknown;
}

const DUPLICATE_KEY = 11000;
/** FerretDB 1.x reports a unique violation on update or replace as InternalError with SQLite's text. */
const SQLITE_UNIQUE_VIOLATION = /UNIQUE constraint failed/;

/** Claims outlive any in-flight consume; sweepExpired reclaims them. */
const CLAIM_LIFETIME_MS = 10 * 60_000;

/**
 * The production store on the official MongoDB driver. Nothing here needs transactions or TTL
 * indexes, and expiry is part of every query.
 *
 * `consume` cannot be one findOneAndUpdate: FerretDB 1.x runs findAndModify, and any conditional
 * update, as a read followed by a write by `_id`, so concurrent callers can all win. Instead every
 * write stamps a fresh `_rev`, and a consumer claims the revision it read by inserting
 * `<_id>@<_rev>` into a side collection: a unique `_id` insert lets exactly one claimant through on
 * MongoDB and FerretDB alike.
 */
export async function openMongoStore(uri: string, dbName: string): Promise<Store> {
  const client = new MongoClient(uri, { ignoreUndefined: true });
  await client.connect();
  const db = client.db(dbName);
  const open = new Map<string, Promise<MongoStoreCollection<StoredDocument>>>();
  const opened: MongoStoreCollection<StoredDocument>[] = [];

  return {
    kind: 'mongodb',
    collection<T extends StoredDocument>(name: string, spec: CollectionSpec = {}) {
      let found = open.get(name);
      if (!found) {
        found = MongoStoreCollection.open<StoredDocument>(db, name, spec);
        open.set(name, found);
        found.then((collection) => opened.push(collection), () => open.delete(name));
      }
      return found as unknown as Promise<Collection<T>>;
    },
    openedCollections() {
      return [...opened];
    },
    async ping() {
      await db.command({ ping: 1 });
    },
    close() {
      return client.close();
    },
  };
}

class MongoStoreCollection<T extends StoredDocument> implements Collection<T> {
  private constructor(
    private readonly rows: MongoCollection<Row>,
    private readonly claims: MongoCollection<Row>,
  ) {}

  static async open<T extends StoredDocument>(db: Db, name: string, spec: CollectionSpec) {
    const rows = db.collection<Row>(name);
    // sparse: documents without the field do not collide with each other.
    for (const field of spec.unique ?? []) await rows.createIndex({ [field]: 1 }, { unique: true, sparse: true });
    for (const field of spec.indexed ?? []) await rows.createIndex({ [field]: 1 });
    // What the sweep looks for; sparse, as most documents of most collections never expire.
    await rows.createIndex({ expiresAt: 1 }, { sparse: true });
    const claims = db.collection<Row>(`${name}.claims`);
    await claims.createIndex({ expiresAt: 1 });
    return new MongoStoreCollection<T>(rows, claims);
  }

  async insert(doc: T) {
    await this.translating(() => this.rows.insertOne(toRow(doc)));
  }

  async findOne(filter: Filter) {
    return fromRow<T>(await this.rows.findOne(live(filter)));
  }

  async find(filter: Filter, options: FindOptions = {}) {
    let cursor = this.rows.find(live(filter));
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return (await cursor.toArray()).map((row) => fromRow<T>(row) as T);
  }

  count(filter: Filter) {
    return this.rows.countDocuments(live(filter));
  }

  async update(filter: Filter, set: Partial<T>) {
    const result = await this.translating(() => this.rows.updateMany(live(filter), { $set: { ...set, _rev: randomUUID() } }));
    return result.matchedCount;
  }

  async consume(filter: Filter, set: Partial<T>) {
    const current = await this.rows.findOne(live(filter));
    if (!current || !(await this.claim(current))) return null;
    const row = await this.translating(() =>
      this.rows.findOneAndUpdate(
        { _id: current._id, _rev: current._rev },
        { $set: { ...set, _rev: randomUUID() } },
        { returnDocument: 'after' },
      ),
    );
    return fromRow<T>(row);
  }

  /** True for exactly one caller per document revision. */
  private async claim(row: Row) {
    try {
      await this.claims.insertOne({ _id: `${row._id}@${String(row._rev)}`, expiresAt: new Date(Date.now() + CLAIM_LIFETIME_MS) });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async upsert(doc: T) {
    await this.translating(() => this.rows.replaceOne({ _id: doc._id }, toRow(doc), { upsert: true }));
  }

  async delete(filter: Filter) {
    return (await this.rows.deleteMany(filter as MongoFilter<Row>)).deletedCount;
  }

  async sweepExpired(now: Date, limit: number) {
    await sweep(this.claims, now, limit);
    return sweep(this.rows, now, limit);
  }

  private async translating<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (err) {
      if (isDuplicateKey(err)) throw new DuplicateKeyError(this.rows.collectionName, err.message);
      throw err;
    }
  }
}

/** deleteMany has no limit: the ids of at most `limit` expired documents are looked up first. */
async function sweep(rows: MongoCollection<Row>, now: Date, limit: number) {
  if (limit <= 0) return 0;
  const expired = { expiresAt: { $lte: now } };
  const ids = (await rows.find(expired, { projection: { _id: 1 }, limit }).toArray()).map((row) => row._id);
  if (ids.length === 0) return 0;
  return (await rows.deleteMany({ _id: { $in: ids }, ...expired })).deletedCount;
}

function isDuplicateKey(err: unknown): err is MongoServerError {
  return err instanceof MongoServerError && (err.code === DUPLICATE_KEY || SQLITE_UNIQUE_VIOLATION.test(err.message));
}

function live(filter: Filter): MongoFilter<Row> {
  return liveQuery(filter) as MongoFilter<Row>;
}

function toRow(doc: StoredDocument): Row {
  return { ...(doc as unknown as Row), _rev: randomUUID() };
}

/** Drops the revision stamp, which is the adapter's own. */
function fromRow<T>(row: Row | null): T | null {
  if (!row) return null;
  const doc: Partial<Row> = { ...row };
  delete doc._rev;
  return doc as unknown as T;
}
