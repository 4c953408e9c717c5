import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../server/store/open.js';
import { DuplicateKeyError, type CollectionSpec, type Filter, type Store, type StoredDocument } from '../../server/store/port.js';
import { disposeStore, storeBackends, testMongoUri } from '../support/stores.js';

interface Item extends StoredDocument {
  n: number;
  tag?: string | null;
  at?: Date;
  email?: string;
  consumedAt?: Date;
  meta?: { when: Date };
}

const HOUR = 3_600_000;
const CONSUME_ROUNDS = 100;
const CONSUMERS = 20;

const seed: Item[] = [
  { _id: 'a', n: 1, tag: 'x', at: new Date('2020-01-01T00:00:00Z') },
  { _id: 'b', n: 2, tag: 'y', at: new Date('2021-01-01T00:00:00Z') },
  { _id: 'c', n: 3, tag: null },
  { _id: 'd', n: 4 },
  { _id: 'e', n: 5, tag: 'x' },
];

const operatorCases: [string, Filter, string[]][] = [
  ['equality', { tag: 'x' }, ['a', 'e']],
  ['$eq', { tag: { $eq: 'y' } }, ['b']],
  ['$ne', { tag: { $ne: 'x' } }, ['b', 'c', 'd']],
  ['$in', { n: { $in: [1, 3, 9] } }, ['a', 'c']],
  ['$nin', { n: { $nin: [1, 3] } }, ['b', 'd', 'e']],
  ['$gt', { n: { $gt: 3 } }, ['d', 'e']],
  ['$gte', { n: { $gte: 3 } }, ['c', 'd', 'e']],
  ['$lt', { n: { $lt: 2 } }, ['a']],
  ['$lte', { n: { $lte: 2 } }, ['a', 'b']],
  ['$lt on dates', { at: { $lt: new Date('2020-06-01T00:00:00Z') } }, ['a']],
  ['$gte on dates', { at: { $gte: new Date('2020-06-01T00:00:00Z') } }, ['b']],
  ['$exists: true (null exists)', { tag: { $exists: true } }, ['a', 'b', 'c', 'e']],
  ['$exists: false', { tag: { $exists: false } }, ['d']],
  ['range on one field', { n: { $gt: 1, $lt: 4 } }, ['b', 'c']],
  ['null equality (matches missing, as in MongoDB)', { tag: null }, ['c', 'd']],
  ['$eq null', { tag: { $eq: null } }, ['c', 'd']],
  ['$ne null', { tag: { $ne: null } }, ['a', 'b', 'e']],
  ['$in with null', { tag: { $in: [null, 'y'] } }, ['b', 'c', 'd']],
  ['$nin with null', { tag: { $nin: [null, 'y'] } }, ['a', 'e']],
  ['$eq with another operator', { n: { $eq: 2, $lt: 5 } }, ['b']],
  ['several fields', { tag: 'x', n: { $gt: 1 } }, ['e']],
];

const ids = (docs: StoredDocument[]) => docs.map((d) => d._id).sort();

describe.each(storeBackends)('$name store', (backend) => {
  let store: Store;
  let sequence = 0;
  const fresh = (spec?: CollectionSpec) => store.collection<Item>(`items${++sequence}`, spec);
  const seeded = async () => {
    const items = await fresh();
    for (const doc of seed) await items.insert(doc);
    return items;
  };

  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(() => disposeStore(store));

  test('kind names the backend and ping answers', async () => {
    expect(store.kind).toBe(backend.name);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  test('insert then findOne returns the document; a miss is null', async () => {
    const items = await seeded();
    expect(await items.findOne({ _id: 'b' })).toEqual(seed[1]);
    expect(await items.findOne({ _id: 'nope' })).toBeNull();
  });

  test.each(operatorCases)('find and count filter with %s', async (_label, filter, expected) => {
    const items = await seeded();
    expect(ids(await items.find(filter))).toEqual(expected);
    expect(await items.count(filter)).toBe(expected.length);
  });

  test('find sorts both ways and limits', async () => {
    const items = await seeded();
    expect((await items.find({}, { sort: { n: -1 }, limit: 2 })).map((d) => d._id)).toEqual(['e', 'd']);
    expect((await items.find({ tag: 'x' }, { sort: { n: 1 } })).map((d) => d._id)).toEqual(['a', 'e']);
  });

  test('update sets fields on every match and returns the match count', async () => {
    const items = await seeded();
    expect(await items.update({ tag: 'x' }, { tag: 'z' })).toBe(2);
    expect(ids(await items.find({ tag: 'z' }))).toEqual(['a', 'e']);
    expect(await items.findOne({ _id: 'a' })).toEqual({ ...seed[0], tag: 'z' });
    expect(await items.findOne({ _id: 'b' })).toEqual(seed[1]);
    expect(await items.update({ tag: 'nothing' }, { n: 0 })).toBe(0);
  });

  test('upsert inserts when absent and replaces the whole document when present', async () => {
    const items = await seeded();
    await items.upsert({ _id: 'f', n: 6, tag: 'new' });
    expect(await items.findOne({ _id: 'f' })).toEqual({ _id: 'f', n: 6, tag: 'new' });
    await items.upsert({ _id: 'a', n: 10 });
    const replaced = await items.findOne({ _id: 'a' });
    expect(replaced).toEqual({ _id: 'a', n: 10 });
    expect(replaced).not.toHaveProperty('tag');
    expect(await items.count({})).toBe(6);
  });

  test('delete removes every match and returns how many', async () => {
    const items = await seeded();
    expect(await items.delete({ n: { $lte: 2 } })).toBe(2);
    expect(ids(await items.find({}))).toEqual(['c', 'd', 'e']);
    expect(await items.delete({ _id: 'nope' })).toBe(0);
  });

  test('returned documents are copies', async () => {
    const items = await seeded();
    const found = await items.findOne({ _id: 'a' });
    if (!found) throw new Error('seeded document missing');
    found.n = 99;
    expect((await items.findOne({ _id: 'a' }))?.n).toBe(1);
  });

  describe('unique keys', () => {
    const spec: CollectionSpec = { unique: ['email'], indexed: ['n'] };
    const duplicate = expect.objectContaining({ name: 'DuplicateKeyError' });

    test('a taken _id or unique field is a DuplicateKeyError on insert, update and upsert', async () => {
      const items = await fresh(spec);
      await items.insert({ _id: '1', n: 1, email: 'a@example.org' });
      await items.insert({ _id: '2', n: 2, email: 'b@example.org' });
      const sameId = items.insert({ _id: '1', n: 3 });
      await expect(sameId).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(sameId).rejects.toEqual(duplicate);
      await expect(items.insert({ _id: '3', n: 3, email: 'a@example.org' })).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(items.update({ _id: '2' }, { email: 'a@example.org' })).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(items.upsert({ _id: '4', n: 4, email: 'a@example.org' })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(ids(await items.find({}))).toEqual(['1', '2']);
    });

    test('documents without the unique field do not collide', async () => {
      const items = await fresh(spec);
      await items.insert({ _id: '1', n: 1 });
      await items.insert({ _id: '2', n: 2 });
      expect(await items.count({})).toBe(2);
    });

    test('opening a collection again with its spec keeps data and indexes', async () => {
      const name = `reopened${++sequence}`;
      const first = await store.collection<Item>(name, spec);
      await first.insert({ _id: '1', n: 1, email: 'a@example.org' });
      const again = await store.collection<Item>(name, spec);
      expect(await again.count({})).toBe(1);
      await expect(again.insert({ _id: '2', n: 2, email: 'a@example.org' })).rejects.toBeInstanceOf(DuplicateKeyError);
    });
  });

  describe('consume', () => {
    const unconsumed = (id: string): Filter => ({ _id: id, consumedAt: { $exists: false } });

    test('returns the updated document once, then null', async () => {
      const items = await fresh();
      await items.insert({ _id: 'code', n: 1 });
      const consumedAt = new Date();
      expect(await items.consume(unconsumed('code'), { consumedAt })).toEqual({ _id: 'code', n: 1, consumedAt });
      expect(await items.consume(unconsumed('code'), { consumedAt: new Date() })).toBeNull();
      expect(await items.consume(unconsumed('missing'), { consumedAt })).toBeNull();
    });

    test(
      `exactly one of ${CONSUMERS} concurrent consumers wins, ${CONSUME_ROUNDS} times over`,
      async () => {
        const items = await fresh();
        const unfairRounds: { round: number; winners: number }[] = [];
        for (let round = 0; round < CONSUME_ROUNDS; round++) {
          const id = `code${round}`;
          await items.insert({ _id: id, n: round });
          const results = await Promise.all(
            Array.from({ length: CONSUMERS }, (_, n) => items.consume(unconsumed(id), { consumedAt: new Date(), n })),
          );
          const winners = results.filter((r) => r !== null).length;
          if (winners !== 1) unfairRounds.push({ round, winners });
        }
        expect(unfairRounds).toEqual([]);
      },
      120_000,
    );
  });

  describe('expiry', () => {
    const past = () => new Date(Date.now() - HOUR);
    const future = () => new Date(Date.now() + HOUR);

    test('an expired document is invisible to every read, update and consume before any sweep', async () => {
      const items = await fresh();
      await items.insert({ _id: 'old', n: 1, expiresAt: past() });
      await items.insert({ _id: 'new', n: 1, expiresAt: future() });
      await items.insert({ _id: 'plain', n: 1 });
      expect(await items.findOne({ _id: 'old' })).toBeNull();
      expect(ids(await items.find({ n: 1 }))).toEqual(['new', 'plain']);
      expect(await items.count({ n: 1 })).toBe(2);
      expect(await items.update({ _id: 'old' }, { n: 2 })).toBe(0);
      expect(await items.consume({ _id: 'old' }, { n: 2 })).toBeNull();
      // Still stored, only hidden:
      await expect(items.insert({ _id: 'old', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    test('sweepExpired removes only what has expired by the given time', async () => {
      const items = await fresh();
      await items.insert({ _id: 'old', n: 1, expiresAt: past() });
      await items.insert({ _id: 'new', n: 1, expiresAt: future() });
      await items.insert({ _id: 'plain', n: 1 });
      expect(await items.sweepExpired(new Date(), 10)).toBe(1);
      await items.insert({ _id: 'old', n: 1 });
      expect(ids(await items.find({}))).toEqual(['new', 'old', 'plain']);
      expect(await items.sweepExpired(new Date(Date.now() + 2 * HOUR), 10)).toBe(1);
      expect(ids(await items.find({}))).toEqual(['old', 'plain']);
    });

    test('sweepExpired removes at most `limit` documents per call', async () => {
      const items = await fresh();
      for (let n = 0; n < 5; n++) await items.insert({ _id: `old${n}`, n, expiresAt: past() });
      await items.insert({ _id: 'new', n: 9, expiresAt: future() });
      const removed = [];
      for (let call = 0; call < 4; call++) removed.push(await items.sweepExpired(new Date(), 2));
      expect(removed).toEqual([2, 2, 1, 0]);
      expect(ids(await items.find({}))).toEqual(['new']);
    });
  });

  test('dates round-trip as Dates, nested ones too', async () => {
    const items = await fresh();
    const at = new Date('2024-02-29T12:34:56.789Z');
    const when = new Date('1999-12-31T23:59:59.999Z');
    await items.insert({ _id: 'd', n: 1, at, meta: { when }, expiresAt: new Date(Date.now() + HOUR) });
    const [found] = await items.find({ _id: 'd' });
    const consumed = await items.consume({ _id: 'd' }, { consumedAt: at });
    for (const doc of [await items.findOne({ _id: 'd' }), found, consumed]) {
      expect(doc?.at).toBeInstanceOf(Date);
      expect(doc?.at?.getTime()).toBe(at.getTime());
      expect(doc?.meta?.when).toBeInstanceOf(Date);
      expect(doc?.meta?.when.getTime()).toBe(when.getTime());
      expect(doc?.expiresAt).toBeInstanceOf(Date);
    }
    expect(consumed?.consumedAt).toEqual(at);
  });
});

describe('openStore', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-open-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  test.each([
    ['embedded', undefined],
    ['mongodb', testMongoUri],
  ] as const)('opens the %s store', async (kind, uri) => {
    const store = await openStore({ mongodbUri: uri?.(), mongodbDb: `assent_open_${process.pid}`, dataDir });
    await store.ping();
    expect(store.kind).toBe(kind);
    await store.close();
  });
});
