import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createLogger, errorFields } from './logger.js';
import { startServer } from './runtime.js';
import { StartupError } from './startup-error.js';
import type { ReloadOutcome } from './policy/engine.js';
import { demoPort, demoWanted, withDemo } from '../demo/config.js';
import { DemoServer } from '../demo/server.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`assent: invalid configuration: ${err.message}. Fix it in the environment or the ASSENT_CONFIG file and start again.\n`);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
try {
  // The demo binds first, so its FHIR base and clients are in the configuration before the services start.
  const demo = demoWanted(process.env, config) ? await DemoServer.listen(demoPort(process.env, config)) : undefined;
  const running = await startServer(demo ? withDemo(config, demo.address) : config, { logger });
  await demo?.serve(running.services.config.issuer);
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
    Promise.all([running.close(), demo?.close()]).then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Announced last: whoever waits for this line may stop the server at once.
  if (running.demoCredentials) {
    process.stdout.write(`${running.demoCredentials.text}  (kept in ${running.demoCredentials.file} until then)\n`);
  }
  if (demo) process.stdout.write(`Demo FHIR server on ${demo.address.base}, demo SMART app on ${demo.address.appUrl} (ASSENT_DEMO=false turns them off)\n`);
  process.stdout.write(`Assent is listening on ${running.url} (issuer ${running.services.config.issuer})\n`);
} catch (err) {
  if (err instanceof StartupError) {
    process.stderr.write(`assent: ${err.message}\n`);
  } else {
    logger.error('start-up failed', errorFields(err));
  }
  process.exit(1);
}
