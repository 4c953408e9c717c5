import { invalidRequest, invalidResourceId, invalidScope } from '../protocol/errors.js';
import type { Resources } from '../store/repositories/resources.js';
import type { RequestedPermission } from '../store/repositories/uma-requests.js';
import type { ProtectionCaller } from './protection.js';
import { issueTicket, type TicketDeps } from './tickets.js';

export interface PermissionRequestDeps extends TicketDeps {
  resources: Pick<Resources, 'ownedAmong'>;
}

/** Most permissions one request may carry (distinct resources). */
export const MAX_PERMISSIONS = 50;
const MAX_SCOPES = 64;
const MAX_TEXT = 512;

/**
 * UMA Federated Authorization §4: the resource server asks for a permission ticket on behalf of
 * a client that tried to reach protected resources. The body is one permission request or a
 * non-empty array of them, each `{resource_id, resource_scopes}`; every resource must be one
 * this resource server registered for the PAT's owner (else `invalid_resource_id`), every scope
 * one registered for that resource (else `invalid_scope`). So all requested resources share one
 * owner, the PAT's. `resource_scopes` may be empty (§4.1: "zero or more"), which asks for no
 * scope — never for all of them. Requests for the same resource are merged.
 *
 * Everything is checked before the ticket is written: a refused request writes nothing.
 */
export async function requestPermissions(deps: PermissionRequestDeps, caller: ProtectionCaller, body: unknown): Promise<string> {
  const permissions = parsePermissions(body);
  const resources = await deps.resources.ownedAmong(caller, permissions.map((p) => p.resource_id));
  const scopesOf = new Map(resources.map((resource) => [resource._id, resource.resource_scopes]));
  for (const permission of permissions) {
    const registered = scopesOf.get(permission.resource_id);
    if (!registered) throw invalidResourceId(`resource ${permission.resource_id} is not registered by this resource server for this owner`);
    const unknown = permission.resource_scopes.find((scope) => !registered.includes(scope));
    if (unknown !== undefined) throw invalidScope(`scope ${unknown} is not registered for resource ${permission.resource_id}`);
  }
  return issueTicket(deps, { ownerId: caller.ownerId, resourceServerId: caller.resourceServerId, permissions });
}

/** The request body as a list of distinct resources, each with its distinct scopes; malformed → invalid_request. */
export function parsePermissions(body: unknown): RequestedPermission[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw invalidRequest('the permission request array must not be empty');
  if (items.length > MAX_PERMISSIONS) throw invalidRequest(`at most ${MAX_PERMISSIONS} permission requests at once`);
  const merged = new Map<string, Set<string>>();
  items.forEach((item, index) => {
    const where = Array.isArray(body) ? `permission request ${index}` : 'permission request';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidRequest(`${where} must be a JSON object`);
    const { resource_id: id, resource_scopes: scopes } = item as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_TEXT) throw invalidRequest(`${where}: resource_id must be a non-empty string`);
    if (!Array.isArray(scopes)) throw invalidRequest(`${where}: resource_scopes must be an array of strings`);
    if (scopes.length > MAX_SCOPES) throw invalidRequest(`${where}: at most ${MAX_SCOPES} resource_scopes`);
    if (!scopes.every((scope): scope is string => typeof scope === 'string' && scope.length > 0 && scope.length <= MAX_TEXT)) {
      throw invalidRequest(`${where}: resource_scopes must be an array of non-empty strings`);
    }
    const set = merged.get(id) ?? new Set<string>();
    for (const scope of scopes) set.add(scope);
    merged.set(id, set);
  });
  return [...merged].map(([resource_id, scopes]) => ({ resource_id, resource_scopes: [...scopes] }));
}
