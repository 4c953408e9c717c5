import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { MetadataContribution } from '../oauth/metadata.js';
import { requestPermissions } from '../uma/permission-requests.js';
import type { ProtectionCaller } from '../uma/protection.js';
import { deleteResource, listResources, readResource, registerResource, replaceResource } from '../uma/resource-registration.js';
import { jsonBody } from './json-body.js';
import { bearerCaller, grantingOwner, requireBearer } from './middleware/bearer.js';

const RESOURCE_SET = '/uma/resource_set';
const PERMISSION = '/uma/permission';

/**
 * The UMA protection API a resource server calls with its PAT (UMA Federated Authorization §3,
 * §4): resource registration (create, read, replace, delete, list) and the permission endpoint.
 * The PAT is checked before anything else; bodies are JSON only. Answers are no-store.
 */
export function umaProtectionRoutes(router: Router, services: Services): void {
  const pat = requireBearer(services, 'uma_protection');
  router.post(RESOURCE_SET, pat, async (ctx) => {
    const caller = protectedCall(ctx);
    const id = await registerResource(services, caller, jsonBody(ctx));
    ctx.status = 201;
    ctx.set('Location', `${services.config.issuer}${RESOURCE_SET}/${encodeURIComponent(id)}`);
    ctx.body = { _id: id };
  });
  router.get(RESOURCE_SET, pat, async (ctx) => {
    ctx.body = await listResources(services, protectedCall(ctx));
  });
  router.get(`${RESOURCE_SET}/:id`, pat, async (ctx) => {
    ctx.body = await readResource(services, protectedCall(ctx), ctx.params.id!);
  });
  router.put(`${RESOURCE_SET}/:id`, pat, async (ctx) => {
    const caller = protectedCall(ctx);
    const id = ctx.params.id!;
    await replaceResource(services, caller, id, jsonBody(ctx));
    ctx.body = { _id: id };
  });
  router.delete(`${RESOURCE_SET}/:id`, pat, async (ctx) => {
    await deleteResource(services, protectedCall(ctx), ctx.params.id!);
    ctx.status = 204;
  });
  router.post(PERMISSION, pat, async (ctx) => {
    const caller = protectedCall(ctx);
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

/** The resource server and the owner whose PAT it presented (the `pat` gate let it in). */
function protectedCall(ctx: Context): ProtectionCaller {
  const caller = bearerCaller(ctx);
  return { ownerId: grantingOwner(caller), resourceServerId: caller.clientId };
}
