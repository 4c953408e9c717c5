import { ConfigError, loadConfig } from '../server/config/config.js';
import { KeyRing } from '../server/keys/key-ring.js';
import { resolveKeySecret } from '../server/keys/key-secret.js';
import { openStore } from '../server/store/open.js';

/** `npm run keys:rotate`: promote the published next key, retire the active one, publish a new next key. */
try {
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const ring = await KeyRing.open(store, {
      secret: await resolveKeySecret(config.keySecret, config.dataDir),
      maxTokenLifetimeSeconds: Math.max(config.accessTokenTtl, config.idTokenTtl),
      cacheSeconds: config.keyCacheSeconds,
    });
    const { activated, retired, next } = await ring.rotate();
    process.stdout.write(`signing with ${activated}; retired ${retired.join(', ') || 'none'}; published next ${next}\n`);
  } finally {
    await store.close();
  }
} catch (err) {
  process.stderr.write(`keys:rotate: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${(err as Error).message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
