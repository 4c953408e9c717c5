import type { JestGlobals } from './ferretdb.js';

export default async function globalTeardown() {
  const globals = globalThis as JestGlobals;
  await globals.assentTestMongo?.stop();
  delete globals.assentTestMongo;
}
