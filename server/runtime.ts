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
import { Sessions } from './store/repositories/sessions.js';
import { Interactions } from './oauth/interactions.js';
import { Launches } from './store/repositories/launches.js';
import { TokenService } from './oauth/token-service.js';
import { Views } from './views/render.js';
import { clientAuthenticator } from './oauth/clients/authenticate.js';
import { revokeClientIssuance } from './oauth/clients/client-revocation.js';
import { ClientRegistration } from './oauth/clients/registration.js';
import { upsertOperatorClients } from './oauth/clients/operator-clients.js';
import { StartupError } from './startup-error.js';
import { answerClientErrors } from './http/client-error.js';

export interface RunningServer {
  url: string;
  services: Services;
  /** Credentials of demo data created by this start, if any. */
  seeded: SeedCredentials | undefined;
  /** The demo credentials file while it exists (until a demo account first signs in): its path and text. */
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
  const core = await openCore(config, store);
  const demo = await seedIfNew(config, store, core, options.seedDemo ?? store.kind === 'embedded');
  const server = httpServer(config, logger);
  try {
    await upsertOperatorClients({ ...core, config, revokeIssuance: (clientId) => revokeOnStore(store, clientId) }, config.clients ?? []);
    await listen(server, config.port, config.host ?? '127.0.0.1');
  } catch (err) {
    // Closed, so that a caller in the same process (a test, a retry) can open the directory again.
    await core.decisions.close();
    if (!options.store) await store.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host && config.host !== '0.0.0.0' ? config.host : 'localhost'}:${port}`;
  // With an ephemeral port the issuer can only be known now, so the services are built after listening.
  const services = await buildServices({ ...config, issuer: config.issuer ?? url }, logger, store, core, demo.file);
  server.on('request', createApp(services).callback());
  logger.info('listening', { url, issuer: services.config.issuer, store: store.kind, policy: core.policy.digest });
  const maintenance = startMaintenance([expirySweep(store, { limitPerCollection: config.sweepLimit }), core.decisions.retentionTask()], {
    intervalMs: config.sweepIntervalSeconds * 1000,
    logger,
  });
  const close = once(async () => {
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.all([drained, maintenance.stop()]);
    try {
      await core.decisions.close();
    } finally {
      if (!options.store) await store.close();
    }
    logger.info('stopped');
  });
  const demoCredentials = demo.text === undefined ? undefined : { file: demo.file.file, text: demo.text };
  return { url, services, seeded: demo.seeded, demoCredentials, close };
}

/** What the rest is built on: the policy engine, the keys, the decision log, and the repositories the seeds write to. */
interface Core {
  policy: PolicyEngine;
  keys: KeyRing;
  decisions: DecisionLog;
  accounts: Accounts;
  clients: Clients;
  resources: Resources;
}

async function openCore(config: Config, store: Store): Promise<Core> {
  const policy = await PolicyEngine.open({ wasmFile: config.policyBundle });
  const keys = await KeyRing.open(store, {
    secret: await resolveKeySecret(config.keySecret, config.dataDir),
    maxTokenLifetimeSeconds: Math.max(config.accessTokenTtl, config.idTokenTtl),
    cacheSeconds: config.keyCacheSeconds,
  });
  const [accounts, clients, resources] = await Promise.all([Accounts.open(store), Clients.open(store), Resources.open(store)]);
  return { policy, keys, decisions: await DecisionLog.open(store, policy, config), accounts, clients, resources };
}

/** Revokes a client's issuance before the services exist (an operator client removed from the configuration). */
async function revokeOnStore(store: Store, clientId: string): Promise<void> {
  const [tokens, grants, uma] = await Promise.all([Tokens.open(store), Grants.open(store), UmaStore.open(store)]);
  await revokeClientIssuance({ tokens, grants, uma }, clientId);
}

/** Loads the demo data into a never-seeded store when asked; the demo credentials file, and its text while it exists. */
async function seedIfNew(config: Config, store: Store, core: Core, seedDemo: boolean) {
  const seeded = seedDemo ? await seedDemoData(store, core, config.demoPassword) : undefined;
  const file = DemoCredentialsFile.in(config.dataDir);
  if (seeded) await file.write(seeded);
  return { seeded, file, text: await file.read() };
}

function httpServer(config: Config, logger: Logger): http.Server {
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
  return server;
}

/** Every service, built once; each protocol service takes the parts it declares from this. */
async function buildServices(config: Services['config'], logger: Logger, store: Store, core: Core, demoCredentials: DemoCredentialsFile): Promise<Services> {
  const { accounts, clients, decisions } = core;
  const [tokens, grants, uma] = await Promise.all([Tokens.open(store), Grants.open(store), UmaStore.open(store)]);
  const loginWindow = { windowSeconds: 15 * 60, firstDelaySeconds: 5 };
  return {
    ...core,
    config,
    logger,
    store,
    grants,
    tokens,
    uma,
    sharingRules: await SharingRules.open(store),
    claimsInteractions: await ClaimsInteractions.open(store),
    identities: await Identities.open(store),
    federationStates: await FederationStates.open(store),
    upstream: new ProviderMetadata(config.upstreamProviders),
    sessions: await Sessions.open(store),
    interactions: await Interactions.open(store),
    launches: await Launches.open(store),
    logins: new Logins(
      accounts,
      await FailureCounter.open(store, 'login_failures_account', { ...loginWindow, freeAttempts: 5 }),
      await FailureCounter.open(store, 'login_failures_ip', { ...loginWindow, freeAttempts: 20 }),
      demoCredentials,
    ),
    tokenService: new TokenService(config, core.keys, tokens),
    views: new Views(),
    authenticateClient: await clientAuthenticator(store, clients, config),
    registration: new ClientRegistration({ clients, decisions, config, revokeIssuance: (clientId) => revokeClientIssuance({ tokens, grants, uma }, clientId) }),
  };
}

/** `run`, started on the first call only; every call gets the same promise. */
function once(run: () => Promise<void>): () => Promise<void> {
  let started: Promise<void> | undefined;
  return () => (started ??= run());
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
