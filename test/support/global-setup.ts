import { tsImport } from 'tsx/esm/api';
import type { JestGlobals, startTestMongo } from './ferretdb.js';

/**
 * One MongoDB-compatible server per jest run; workers inherit its URI through the environment.
 * Jest loads this file with Node's own resolver, which cannot follow `.js` specifiers to `.ts`
 * sources, hence tsx for the helper.
 */
export default async function globalSetup() {
  const helper: { startTestMongo: typeof startTestMongo } = await tsImport('./ferretdb.ts', import.meta.url);
  const mongo = await helper.startTestMongo();
  (globalThis as JestGlobals).assentTestMongo = mongo;
  process.env.ASSENT_TEST_MONGODB_URI = mongo.uri;
}
