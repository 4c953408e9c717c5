import Router from '@koa/router';
import Koa from 'koa';
import type { Config } from './config/config.js';
import { accountRoutes } from './http/account.js';
import { dashboardRoutes } from './http/dashboard.js';
import { federationRoutes } from './http/federation.js';
import { umaRulesRoutes } from './http/uma-rules.js';
import { authorizeRoutes } from './http/authorize.js';
import { healthRoutes } from './http/health.js';
import { hieOfOneRoutes } from './http/hie-of-one.js';
import { logoutRoutes } from './http/logout.js';
import { registrationMetadata, registrationRoutes } from './http/registration.js';
import type { ClientAuthenticationRequest } from './oauth/clients/authenticate.js';
import { revokeClientIssuance } from './oauth/clients/client-revocation.js';
import { ClientRegistration } from './oauth/clients/registration.js';
import { accessLog } from './http/middleware/access-log.js';
import { errorHandler } from './http/middleware/error-handler.js';
import { requestBody } from './http/middleware/request-body.js';
import { requestId } from './http/middleware/request-id.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { tokenManagementRoutes } from './http/token-management.js';
import { tokenRoutes } from './http/token.js';
import { umaClaimsRoutes } from './http/uma-claims.js';
import { umaDiscoveryRoutes } from './http/uma-discovery.js';
import { umaProtectionRoutes } from './http/uma-protection.js';
import { userinfoRoutes } from './http/userinfo.js';
import { wellKnownRoutes } from './http/well-known.js';
import type { FederationStates } from './federation/federation-states.js';
import type { ProviderMetadata } from './federation/provider-metadata.js';
import type { KeyRing } from './keys/key-ring.js';
import type { Logger } from './logger.js';
import type { Interactions } from './oauth/interactions.js';
import { tokenExchangeMetadata } from './oauth/grants/token-exchange.js';
import { buildMetadata, coreMetadata, oauthMetadata } from './oauth/metadata.js';
import type { TokenService } from './oauth/token-service.js';
import type { DecisionLog } from './policy/decision-log.js';
import type { PolicyEngine } from './policy/engine.js';
import type { Logins } from './sessions/logins.js';
import type { Sessions } from './sessions/sessions.js';
import type { Store } from './store/port.js';
import type { Accounts } from './store/repositories/accounts.js';
import type { ClientDocument, Clients } from './store/repositories/clients.js';
import type { Grants } from './store/repositories/grants.js';
import type { Identities } from './store/repositories/identities.js';
import type { Tokens } from './store/repositories/tokens.js';
import type { Resources } from './store/repositories/resources.js';
import type { SharingRules } from './store/repositories/sharing-rules.js';
import type { UmaRequests } from './store/repositories/uma-requests.js';
import type { Views } from './views/render.js';

/** Everything a request handler may use, built once at start-up (server/runtime.ts). */
export interface Services {
  config: Config & { issuer: string };
  logger: Logger;
  store: Store;
  policy: PolicyEngine;
  decisions: DecisionLog;
  keys: KeyRing;
  accounts: Accounts;
  clients: Clients;
  grants: Grants;
  tokens: Tokens;
  resources: Resources;
  sharingRules: SharingRules;
  uma: UmaRequests;
  identities: Identities;
  /** Trips to upstream identity providers in progress (state, nonce, PKCE verifier). */
  federationStates: FederationStates;
  /** The configured upstream identity providers (config.upstreamProviders). */
  upstream: ProviderMetadata;
  sessions: Sessions;
  interactions: Interactions;
  logins: Logins;
  tokenService: TokenService;
  views: Views;
  authenticateClient(request: ClientAuthenticationRequest): Promise<ClientDocument>;
}

export function createApp(services: Services): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const https = services.config.issuer.startsWith('https://');
  const router = createRouter(services);

  app.use(requestId());
  app.use(accessLog(services.logger));
  app.use(securityHeaders({ https }));
  app.use(errorHandler(services.logger));
  app.use(async (ctx, next) => {
    ctx.cookies.secure = https;
    await next();
  });
  app.use(requestBody());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Every route the server answers (the fuzz suite enumerates them from here). */
export function createRouter(services: Services): Router {
  const contributions = [coreMetadata, oauthMetadata, registrationMetadata];
  if (services.upstream.claimTokenIssuers().length > 0) contributions.push(tokenExchangeMetadata);
  const metadata = buildMetadata(services.config.issuer, contributions);
  const router = new Router();
  healthRoutes(router, services);
  wellKnownRoutes(router, { metadata, keys: services.keys });
  umaDiscoveryRoutes(router, services, metadata);
  umaProtectionRoutes(router, services);
  authorizeRoutes(router, services);
  tokenRoutes(router, services);
  umaClaimsRoutes(router, services);
  hieOfOneRoutes(router, services);
  registrationRoutes(router, {
    registration: new ClientRegistration({
      clients: services.clients,
      policy: services.policy,
      decisions: services.decisions,
      config: services.config,
      revokeIssuance: (clientId) => revokeClientIssuance(services, clientId),
    }),
    config: services.config,
  });
  tokenManagementRoutes(router, services);
  userinfoRoutes(router, services);
  logoutRoutes(router, services);
  accountRoutes(router, services);
  federationRoutes(router, services);
  dashboardRoutes(router, services);
  umaRulesRoutes(router, services);
  router.get('/static/assent.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = services.views.stylesheet;
  });
  return router;
}
