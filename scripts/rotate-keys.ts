import { ConfigError, loadConfig } from '../server/config/config.js';
import { KeyRing, type SigningAlgorithm } from '../server/keys/key-ring.js';
import { resolveKeySecret } from '../server/keys/key-secret.js';
import { openStore } from '../server/store/open.js';

/**
 * `npm run keys:rotate [-- ES256|RS256]`: for each key set (or only the named one), promote the
 * published next key, retire the active one, publish a new next key.
 */
try {
  const only = process.argv.slice(2);
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const ring = await KeyRing.open(store, {
      secret: await resolveKeySecret(config.keySecret, config.dataDir),
      maxTokenLifetimeSeconds: Math.max(config.accessTokenTtl, config.idTokenTtl),
      cacheSeconds: config.keyCacheSeconds,
    });
    const unknown = only.filter((alg) => !ring.algorithms.includes(alg as SigningAlgorithm));
    if (unknown.length > 0) throw new Error(`no ${unknown.join(', ')} key set; the key sets are ${ring.algorithms.join(', ')}`);
    for (const alg of only.length > 0 ? (only as SigningAlgorithm[]) : ring.algorithms) {
      const { activated, retired, next } = await ring.rotate(alg);
      process.stdout.write(`${alg}: signing with ${activated}; retired ${retired.join(', ') || 'none'}; published next ${next}\n`);
    }
  } finally {
    await store.close();
  }
} catch (err) {
  process.stderr.write(`keys:rotate: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${(err as Error).message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
