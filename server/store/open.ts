import { openEmbeddedStore } from './embedded.js';
import { openMongoStore } from './mongo.js';
import type { Store } from './port.js';

export interface StoreOptions {
  /** When set, the store is MongoDB at this URI; otherwise the embedded store under `dataDir`. */
  mongodbUri?: string;
  mongodbDb: string;
  dataDir: string;
}

export function openStore(options: StoreOptions): Promise<Store> {
  return options.mongodbUri ? openMongoStore(options.mongodbUri, options.mongodbDb) : openEmbeddedStore(options.dataDir);
}
