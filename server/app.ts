import Router from '@koa/router';
import Koa from 'koa';
import type { Services } from './http/services.js';
import { accountRoutes } from './http/account.js';
import { adminRoutes } from './http/admin.js';
import { dashboardRoutes } from './http/dashboard.js';
import { federationRoutes } from './http/federation.js';
import { umaRulesRoutes } from './http/uma-rules.js';
import { authorizeRoutes } from './http/authorize.js';
import { healthRoutes } from './http/health.js';
import { hieOfOneRoutes } from './http/hie-of-one.js';
import { logoutRoutes } from './http/logout.js';
import { registrationMetadata, registrationRoutes } from './http/registration.js';
import { smartConfigurationRoutes } from './http/smart-configuration.js';
import { accessLog } from './http/middleware/access-log.js';
import { cors } from './http/middleware/cors.js';
import { errorHandler } from './http/middleware/error-handler.js';
import { requestBody } from './http/middleware/request-body.js';
import { requestId } from './http/middleware/request-id.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { smartLaunchRoutes } from './http/smart-launch.js';
import { tokenManagementRoutes } from './http/token-management.js';
import { tokenRoutes } from './http/token.js';
import { umaClaimsRoutes } from './http/uma-claims.js';
import { umaDiscoveryRoutes } from './http/uma-discovery.js';
import { umaProtectionRoutes } from './http/uma-protection.js';
import { userinfoRoutes } from './http/userinfo.js';
import { wellKnownRoutes } from './http/well-known.js';
import { RedirectOrigins } from './oauth/clients/redirect-origins.js';
import { tokenExchangeMetadata } from './oauth/grants/token-exchange.js';
import { buildMetadata, coreMetadata, oauthMetadata } from './oauth/metadata.js';

export function createApp(services: Services): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const https = services.config.issuer.startsWith('https://');
  const router = createRouter(services);

  app.use(requestId());
  app.use(accessLog(services.logger));
  app.use(securityHeaders({ https }));
  const redirectOrigins = new RedirectOrigins(services.clients);
  app.use(cors({ isClientOrigin: (origin) => redirectOrigins.has(origin) }));
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
  smartConfigurationRoutes(router, { metadata, issuer: services.config.issuer });
  umaDiscoveryRoutes(router, services, metadata);
  umaProtectionRoutes(router, services);
  authorizeRoutes(router, services);
  tokenRoutes(router, services);
  umaClaimsRoutes(router, services);
  hieOfOneRoutes(router, services);
  registrationRoutes(router, services);
  tokenManagementRoutes(router, services);
  userinfoRoutes(router, services);
  smartLaunchRoutes(router, services);
  logoutRoutes(router, services);
  accountRoutes(router, services);
  federationRoutes(router, services);
  dashboardRoutes(router, services);
  adminRoutes(router, services);
  umaRulesRoutes(router, services);
  router.get('/static/assent.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = services.views.stylesheet;
  });
  return router;
}
