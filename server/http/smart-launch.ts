import type Router from '@koa/router';
import type { Services } from './services.js';
import { createLaunch } from '../smart/launches.js';
import { jsonBody } from './json-body.js';
import { bearerCaller, requireBearer } from './middleware/bearer.js';

/** SMART EHR launch: an EHR (a token with scope smart/launch) creates a launch context for an app to authorize with. */
export function smartLaunchRoutes(router: Router, services: Services): void {
  router.post('/smart/launch', requireBearer(services, 'smart_launch'), async (ctx) => {
    ctx.body = await createLaunch(services, bearerCaller(ctx).clientId, jsonBody(ctx));
    ctx.status = 201;
  });
}
