import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { openMongoStore } from '../../server/store/mongo.js';
import type { Store } from '../../server/store/port.js';

export interface StoreBackend {
  name: 'embedded' | 'mongodb';
  /** A fresh, empty store; give it back with `disposeStore`. */
  open(): Promise<Store>;
}

const cleanups = new WeakMap<Store, () => Promise<void>>();

/** Both adapters; suites run `describe.each(storeBackends)` so one jest run covers both. */
export const storeBackends: StoreBackend[] = [
  { name: 'embedded', open: openTempEmbeddedStore },
  { name: 'mongodb', open: openTempMongoStore },
];

/** Closes a store from `storeBackends` and removes everything it wrote. */
export async function disposeStore(store: Store) {
  await store.close();
  await cleanups.get(store)?.();
  cleanups.delete(store);
}

export function testMongoUri(): string {
  const uri = process.env.ASSENT_TEST_MONGODB_URI;
  if (!uri) throw new Error('ASSENT_TEST_MONGODB_URI is unset: run the tests through jest (its globalSetup starts FerretDB)');
  return uri;
}

async function openTempEmbeddedStore() {
  const dir = await mkdtemp(path.join(tmpdir(), 'assent-store-'));
  const store = await openEmbeddedStore(dir);
  cleanups.set(store, () => rm(dir, { recursive: true, force: true }));
  return store;
}

async function openTempMongoStore() {
  const uri = testMongoUri();
  const dbName = `assent_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const store = await openMongoStore(uri, dbName);
  cleanups.set(store, () => dropDatabase(uri, dbName));
  return store;
}

async function dropDatabase(uri: string, dbName: string) {
  const client = new MongoClient(uri);
  try {
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}
