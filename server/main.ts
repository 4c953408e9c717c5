import { ConfigError, loadConfig } from './config/config.js';
import { createLogger, errorFields } from './logger.js';
import { startServer } from './runtime.js';
import type { ReloadOutcome } from './policy/engine.js';
import type { SeedCredentials } from './seeds.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`assent: invalid configuration: ${err.message}\n`);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
try {
  const running = await startServer(config, { logger });
  if (running.seeded) printCredentials(running.seeded);
  process.stdout.write(`Assent is listening on ${running.url} (issuer ${running.services.config.issuer})\n`);

  const { policy } = running.services;
  const reported = (outcome: ReloadOutcome) => {
    if (!outcome.ok) logger.error('policy bundle reload failed; keeping the current bundle', { digest: outcome.digest, error: outcome.error.message });
    else if (outcome.changed) logger.info('policy bundle reloaded', { digest: outcome.digest });
  };
  const stopWatching = policy.watch(reported);
  process.on('SIGHUP', () => void policy.reload().then(reported));
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    stopWatching();
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  logger.error('start-up failed', errorFields(err));
  process.exit(1);
}

function printCredentials(seeded: SeedCredentials) {
  const lines = ['Demo data loaded. These credentials are shown only now:'];
  for (const p of seeded.passwords) lines.push(`  patient ${p.email}  password: ${p.generated ? p.password : '(ASSENT_DEMO_PASSWORD)'}`);
  for (const c of seeded.clientSecrets) lines.push(`  client  ${c.clientId}  secret: ${c.secret}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
