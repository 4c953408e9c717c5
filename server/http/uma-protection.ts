import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { MetadataContribution } from '../oauth/metadata.js';
import { requestPermissions } from '../uma/permission-requests.js';
import { requireProtectionToken } from '../uma/protection.js';
import { deleteResource, listResources, readResource, registerResource, replaceResource } from '../uma/resource-registration.js';
import { unsupportedMediaType } from '../protocol/errors.js';

const RESOURCE_SET = '/uma/resource_set';
const PERMISSION = '/uma/permission';

/**
 * The UMA protection API a resource server calls with its PAT (UMA Federated Authorization §3,
 * §4): resource registration (create, read, replace, delete, list) and the permission endpoint.
 * The PAT is checked before anything else; bodies are JSON only. Answers are no-store.
 */
export function umaProtectionRoutes(router: Router, services: Services): void {
  router.post(RESOURCE_SET, async (ctx) => {
    const caller = await protectedCall(services, ctx);
    const id = await registerResource(services, caller, jsonBody(ctx));
    ctx.status = 201;
    ctx.set('Location', `${services.config.issuer}${RESOURCE_SET}/${encodeURIComponent(id)}`);
    ctx.body = { _id: id };
  });
  router.get(RESOURCE_SET, async (ctx) => {
    ctx.body = await listResources(services, await protectedCall(services, ctx));
  });
  router.get(`${RESOURCE_SET}/:id`, async (ctx) => {
    ctx.body = await readResource(services, await protectedCall(services, ctx), ctx.params.id!);
  });
  router.put(`${RESOURCE_SET}/:id`, async (ctx) => {
    const caller = await protectedCall(services, ctx);
    const id = ctx.params.id!;
    await replaceResource(services, caller, id, jsonBody(ctx));
    ctx.body = { _id: id };
  });
  router.delete(`${RESOURCE_SET}/:id`, async (ctx) => {
    await deleteResource(services, await protectedCall(services, ctx), ctx.params.id!);
    ctx.status = 204;
  });
  router.post(PERMISSION, async (ctx) => {
    const caller = await protectedCall(services, ctx);
    const ticket = await requestPermissions(services, caller, jsonBody(ctx));
    ctx.status = 201;
    ctx.body = { ticket };
  });
}

/** Contributes the protection API endpoints to `/.well-known/uma2-configuration`. */
export const umaProtectionMetadata: MetadataContribution = (issuer) => ({
  resource_registration_endpoint: `${issuer}${RESOURCE_SET}`,
  permission_endpoint: `${issuer}${PERMISSION}`,
});

async function protectedCall(services: Services, ctx: Context) {
  ctx.set('Cache-Control', 'no-store');
  return requireProtectionToken(services, ctx);
}

/** The parsed JSON body; anything but application/json is refused (415) before it is looked at. */
function jsonBody(ctx: Context): unknown {
  if (!ctx.is('application/json')) throw unsupportedMediaType('the request body must be application/json');
  return ctx.request.body;
}
