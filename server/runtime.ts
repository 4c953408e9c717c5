import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { createApp } from './app.js';
import type { Services } from './http/services.js';
import type { Config } from './config/config.js';
import { KeyRing } from './keys/key-ring.js';
import { resolveKeySecret } from './keys/key-secret.js';
import { createLogger, type Logger } from './logger.js';
import { startMaintenance } from './maintenance.js';
import { PolicyEngine } from './policy/engine.js';
import { seedDemoData, type SeedCredentials } from './seeds.js';
import { DemoCredentialsFile } from './demo-credentials.js';
import { openStore } from './store/open.js';
import type { Store } from './store/port.js';
import { expirySweep } from './store/sweep.js';
import { Accounts } from './store/repositories/accounts.js';
import { Clients } from './store/repositories/clients.js';
import { Grants } from './store/repositories/grants.js';
import { Identities } from './store/repositories/identities.js';
import { FederationStates } from './federation/federation-states.js';
import { ProviderMetadata } from './federation/provider-metadata.js';
import { Tokens } from './store/repositories/tokens.js';
import { Resources } from './store/repositories/resources.js';
import { SharingRules } from './store/repositories/sharing-rules.js';
import { UmaStore } from './store/repositories/uma-requests.js';
import { ClaimsInteractions } from './store/repositories/claims-interactions.js';
import { DecisionLog } from './policy/decision-log.js';
import { FailureCounter } from './throttle/failure-counter.js';
import { Logins } from './sessions/logins.js';
import { Sessions } from './sessions/sessions.js';
import { Interactions } from './oauth/interactions.js';
import { TokenService } from './oauth/token-service.js';
import { Views } from './views/render.js';
import { clientAuthenticator } from './oauth/clients/authenticate.js';
import { revokeClientIssuance } from './oauth/clients/client-revocation.js';
import { ClientRegistration } from './oauth/clients/registration.js';
import { StartupError } from './startup-error.js';
import { answerClientErrors } from './http/client-error.js';

export interface RunningServer {
  url: string;
  services: Services;
  /** Credentials of demo data created by this start, if any. */
  seeded: SeedCredentials | undefined;
  /** The demo credentials file while it exists (until the demo patient first signs in): its path and text. */
  demoCredentials: { file: string; text: string } | undefined;
  /** Graceful stop: refuse new connections, let in-flight requests finish, close the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** An already open store (tests share one across restarts); default: open the configured one. */
  store?: Store;
  /** Load seeds/demo.json into a never-seeded store. Default: only for the embedded store. */
  seedDemo?: boolean;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = options.store ?? (await openStore(config));
  const policy = await PolicyEngine.open({ wasmFile: config.policyBundle });
  const keys = await KeyRing.open(store, {
    secret: await resolveKeySecret(config.keySecret, config.dataDir),
    maxTokenLifetimeSeconds: Math.max(config.accessTokenTtl, config.idTokenTtl),
    cacheSeconds: config.keyCacheSeconds,
  });
  const accounts = await Accounts.open(store);
  const clients = await Clients.open(store);
  const resources = await Resources.open(store);
  const seeded = (options.seedDemo ?? store.kind === 'embedded') ? await seedDemoData(store, { accounts, clients, resources }, config.demoPassword) : undefined;
  const demoCredentialsFile = DemoCredentialsFile.in(config.dataDir);
  if (seeded) await demoCredentialsFile.write(seeded);
  const demoText = await demoCredentialsFile.read();
  const tokens = await Tokens.open(store);
  const decisions = await DecisionLog.open(store, policy, config);
  const loginWindow = { windowSeconds: 15 * 60, firstDelaySeconds: 5 };
  const logins = new Logins(
    accounts,
    await FailureCounter.open(store, 'login_failures_account', { ...loginWindow, freeAttempts: 5 }),
    await FailureCounter.open(store, 'login_failures_ip', { ...loginWindow, freeAttempts: 20 }),
    demoCredentialsFile,
  );
  const views = new Views();

  const server = http.createServer({
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // How often Node looks for requests past the two timeouts above; the default 30 s would let
    // a slow client hold its connection that much longer than configured.
    connectionsCheckingInterval: Math.min(1000, Math.ceil(config.headersTimeoutMs / 2)),
  });
  server.setTimeout(config.socketIdleTimeoutMs);
  answerClientErrors(server, logger);
  try {
    await listen(server, config.port, config.host ?? '127.0.0.1');
  } catch (err) {
    // Closed, so that a caller in the same process (a test, a retry) can open the directory again.
    await decisions.close();
    if (!options.store) await store.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host && config.host !== '0.0.0.0' ? config.host : 'localhost'}:${port}`;
  // With an ephemeral port the issuer can only be known now, so the app is built after listening.
  const resolved = { ...config, issuer: config.issuer ?? url };
  const grants = await Grants.open(store);
  const uma = await UmaStore.open(store);
  const registration = new ClientRegistration({ clients, decisions, config: resolved, revokeIssuance: (clientId) => revokeClientIssuance({ tokens, grants, uma }, clientId) });
  const services: Services = {
    config: resolved,
    logger,
    store,
    policy,
    decisions,
    keys,
    accounts,
    clients,
    grants,
    tokens,
    resources,
    sharingRules: await SharingRules.open(store),
    uma,
    claimsInteractions: await ClaimsInteractions.open(store),
    identities: await Identities.open(store),
    federationStates: await FederationStates.open(store),
    upstream: new ProviderMetadata(config.upstreamProviders),
    sessions: await Sessions.open(store),
    interactions: await Interactions.open(store),
    logins,
    tokenService: new TokenService(resolved, keys, tokens),
    views,
    authenticateClient: await clientAuthenticator(store, clients, resolved),
    registration,
  };
  server.on('request', createApp(services).callback());
  logger.info('listening', { url, issuer: services.config.issuer, store: store.kind, policy: policy.digest });
  const maintenance = startMaintenance([expirySweep(store, { limitPerCollection: config.sweepLimit }), decisions.retentionTask()], {
    intervalMs: config.sweepIntervalSeconds * 1000,
    logger,
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([drained, maintenance.stop()]);
      try {
        await decisions.close();
      } finally {
        if (!options.store) await store.close();
      }
      logger.info('stopped');
    })());
  const demoCredentials = demoText === undefined ? undefined : { file: demoCredentialsFile.file, text: demoText };
  return { url, services, seeded, demoCredentials, close };
}

/** Binds the server; a port taken or a host not of this machine is a StartupError saying how to fix it. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new StartupError(`port ${port} on ${host} is already in use; stop the other server or set ASSENT_PORT`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new StartupError(`${host} is not an address of this machine; set ASSENT_HOST to one of its addresses`));
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}
