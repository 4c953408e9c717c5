import { mkdir, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { AppendLog } from './append-log.js';
import { lockDirectory } from './directory-lock.js';
import nedb from '@seald-io/nedb';
import {
  DuplicateKeyError,
  liveQuery,
  type Collection,
  type CollectionSpec,
  type FieldCondition,
  type Filter,
  type FindOptions,
  type Scalar,
  type Store,
  type StoredDocument,
} from './port.js';

// The package's typings declare an ES default export, but at run time the CommonJS module itself
// is the class.
const Datastore = nedb as unknown as typeof nedb.default;
const FILE_MODE = 0o644;

/**
 * The zero-setup store: one append-only file per collection under `<dataDir>/db`, loaded into
 * memory at open. Every operation goes through the datastore's single executor queue, which is
 * what makes `consume` atomic. Writes reach the file through an AppendLog (one open descriptor,
 * direct or group-committed appends) instead of nedb's open-append-close per write, so the queue
 * does not wait on the disk; instead no operation's result, read or write, is given back before
 * every write queued ahead of it is in the file. One process owns a data directory; use MongoDB
 * to scale out.
 */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const dir = path.join(dataDir, 'db');
  await mkdir(dir, { recursive: true });
  const unlock = await lockDirectory(dir);
  const open = new Map<string, Promise<EmbeddedCollection<StoredDocument>>>();

  return {
    kind: 'embedded',
    collection<T extends StoredDocument>(name: string, spec: CollectionSpec = {}) {
      let found = open.get(name);
      if (!found) {
        found = EmbeddedCollection.open(name, path.join(dir, `${name}.db`), spec);
        open.set(name, found);
      }
      return found as unknown as Promise<Collection<T>>;
    },
    async ping() {},
    async close() {
      const collections = await Promise.all(open.values());
      await Promise.all(collections.map((c) => c.close()));
      open.clear();
      await unlock();
    },
  };
}

class EmbeddedCollection<T extends StoredDocument> implements Collection<T> {
  private constructor(
    private readonly name: string,
    private readonly db: nedb.default<T>,
    private readonly log: AppendLog,
  ) {}

  static async open<T extends StoredDocument>(name: string, filename: string, spec: CollectionSpec) {
    await dropTornTail(filename);
    const db = new Datastore<T>({ filename });
    const log = new AppendLog(filename, FILE_MODE);
    // nedb calls this, inside its executor, for every insert, update, removal and index change.
    (db.persistence as unknown as { persistNewStateAsync(docs: object[]): Promise<void> }).persistNewStateAsync = async (docs) => {
      if (docs.length > 0) log.append(docs.map((doc) => `${JSON.stringify(withNedbDates(doc))}\n`).join(''));
    };
    db.on('compaction.done', () => void log.reopen());
    await db.loadDatabaseAsync();
    for (const fieldName of spec.unique ?? []) await db.ensureIndexAsync({ fieldName, unique: true, sparse: true });
    // Sparse: a document without the field (most tokens lack most lineage fields) is left out
    // rather than piled under one `undefined` key; nedb never answers a missing-field query from
    // an index anyway.
    for (const fieldName of spec.indexed ?? []) await db.ensureIndexAsync({ fieldName, sparse: true });
    await log.settled();
    return new EmbeddedCollection<T>(name, db, log);
  }

  async insert(doc: T) {
    try {
      await this.written(this.db.insertAsync(doc));
    } catch (err) {
      throw this.translate(err);
    }
  }

  findOne(filter: Filter) {
    return this.written(this.db.findOneAsync(live(filter)));
  }

  find(filter: Filter, options: FindOptions = {}) {
    let cursor = this.db.findAsync(live(filter));
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return this.written(cursor);
  }

  count(filter: Filter) {
    return this.written(this.db.countAsync(live(filter)));
  }

  async update(filter: Filter, set: Partial<T>) {
    try {
      const { numAffected } = await this.written(this.db.updateAsync(live(filter), { $set: set }, { multi: true }));
      return numAffected;
    } catch (err) {
      throw this.translate(err);
    }
  }

  async consume(filter: Filter, set: Partial<T>) {
    const { affectedDocuments } = await this.written(this.db.updateAsync(live(filter), { $set: set }, { returnUpdatedDocs: true }));
    return (affectedDocuments as T | null) ?? null;
  }

  async upsert(doc: T) {
    try {
      await this.written(this.db.updateAsync({ _id: doc._id }, doc, { upsert: true }));
    } catch (err) {
      throw this.translate(err);
    }
  }

  delete(filter: Filter) {
    return this.written(this.db.removeAsync(toNedbQuery(filter), { multi: true }));
  }

  sweepExpired(now: Date = new Date()) {
    return this.written(this.db.removeAsync({ expiresAt: { $lte: now } }, { multi: true }));
  }

  /** Rewrites the file as one line per live document, then closes it. */
  async close() {
    await this.log.settled();
    await this.db.compactDatafileAsync();
    await this.log.close();
  }

  /** The operation's result, once every write queued before it has reached the file. */
  private async written<R>(operation: PromiseLike<R>): Promise<R> {
    const result = await operation;
    await this.log.settled();
    return result;
  }

  private translate(err: unknown) {
    if (err && typeof err === 'object' && 'errorType' in err && err.errorType === 'uniqueViolated') {
      return new DuplicateKeyError(this.name, String((err as { key?: unknown }).key));
    }
    return err;
  }
}

/**
 * nedb appends one line per write; a crash mid-append leaves a partial last line, which nedb counts
 * as corruption and, in a file of fewer than ten lines, refuses to load at all. That line was never
 * acknowledged, so it is cut off.
 */
async function dropTornTail(filename: string) {
  const content = await readFile(filename).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  });
  if (content.length > 0 && content.at(-1) !== NEWLINE) await truncate(filename, content.lastIndexOf(NEWLINE) + 1);
}

const NEWLINE = 0x0a;

/**
 * The document as nedb writes its lines: JSON with every date as `{"$$date": ms}`. Converting
 * first lets JSON.stringify run without a replacer, which is about twice as fast as nedb's own
 * serialize; nedb has already checked the keys of anything it persists.
 */
function withNedbDates(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { $$date: value.getTime() };
  if (Array.isArray(value)) return value.map(withNedbDates);
  const converted: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) converted[key] = withNedbDates(field);
  return converted;
}

type Query = Record<string, unknown>;

function live(filter: Filter): Query {
  return { ...toNedbQuery(filter), ...liveQuery({}) };
}

/**
 * nedb has no `$eq`, and a missing field never equals null there, whereas MongoDB treats it as
 * null for `$eq`, `$ne`, `$in` and `$nin`. Conditions that need either are rewritten; the rest stay top-level, where nedb's indexes
 * can serve them.
 */
function toNedbQuery(filter: Filter): Query {
  const query: Query = {};
  const rewritten: Query[] = [];
  for (const [field, value] of Object.entries(filter)) {
    const condition = asCondition(value);
    const onlyEq = '$eq' in condition && Object.keys(condition).length === 1;
    if (mentionsNull(condition) || ('$eq' in condition && !onlyEq)) rewritten.push(nullAware(field, condition));
    else query[field] = onlyEq ? condition.$eq : condition;
  }
  return rewritten.length ? { ...query, $and: rewritten } : query;
}

function asCondition(value: Scalar | FieldCondition): FieldCondition {
  const isCondition = value !== null && typeof value === 'object' && !(value instanceof Date);
  return isCondition ? value : { $eq: value };
}

function mentionsNull(c: FieldCondition) {
  return [c.$eq, c.$ne, ...(c.$in ?? []), ...(c.$nin ?? [])].includes(null);
}

/** Matches a present field as nedb would, and a missing one as MongoDB matches null. */
function nullAware(field: string, condition: FieldCondition): Query {
  const { $eq, ...rest } = condition;
  const present: Query[] = [{ [field]: { ...rest, $exists: true } }];
  if ($eq !== undefined) present.push({ [field]: $eq });
  const presentMatch = { $and: present };
  return missingMatches(condition) ? { $or: [presentMatch, { [field]: { $exists: false } }] } : presentMatch;
}

/** Whether MongoDB would match a document lacking the field, i.e. whether null satisfies every operator. */
function missingMatches(c: FieldCondition) {
  return (
    (c.$eq === undefined || c.$eq === null) &&
    (c.$ne === undefined || c.$ne !== null) &&
    (c.$in === undefined || c.$in.includes(null)) &&
    (c.$nin === undefined || !c.$nin.includes(null)) &&
    [c.$gt, c.$gte, c.$lt, c.$lte].every((bound) => bound === undefined) &&
    c.$exists !== true
  );
}
