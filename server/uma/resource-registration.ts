import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { projectRoot } from '../config/config.js';
import { invalidRequest, notFound } from '../protocol/errors.js';
import type { ResourceDocument, Resources } from '../store/repositories/resources.js';
import type { ProtectionCaller } from './protection.js';

// UMA Federated Authorization §3: the resource registration API. A resource belongs to the owner
// who granted the PAT and to the resource server it was granted to; the caller only ever sees
// and changes resources of that pair, and any other id (unknown, or another resource server's or
// owner's) is the same 404 `not_found`, so ids of others cannot be probed.

/** The members of a resource description (UMA Federated Authorization §3.1) Assent keeps. */
export type ResourceDescription = Pick<ResourceDocument, 'resource_scopes' | 'name' | 'type' | 'description' | 'icon_uri'>;

/** A registered resource as the resource server reads it back (§3.2.2). */
export type ResourceView = ResourceDescription & { _id: string };

export interface ResourceRegistrationDeps {
  resources: Pick<Resources, 'register' | 'findOwned' | 'updateOwned' | 'rewrite' | 'deleteOwned' | 'ownedBy'>;
}

const OPTIONAL_FIELDS = ['name', 'type', 'description', 'icon_uri'] as const;

/** §3.2.1: registers a resource; returns its new id. */
export async function registerResource(deps: ResourceRegistrationDeps, caller: ProtectionCaller, body: unknown): Promise<string> {
  const description = validResourceDescription(body);
  const now = new Date();
  const _id = randomBytes(16).toString('base64url');
  await deps.resources.register({ _id, ownerId: caller.ownerId, resourceServerId: caller.resourceServerId, ...description, createdAt: now, updatedAt: now });
  return _id;
}

/** §3.2.2: the registered description of one resource. */
export async function readResource(deps: ResourceRegistrationDeps, caller: ProtectionCaller, id: string): Promise<ResourceView> {
  const resource = validId(id) ? await deps.resources.findOwned(caller, id) : null;
  if (!resource) throw resourceNotFound();
  return viewOf(resource);
}

/**
 * §3.2.3: replaces the description of a resource with the one given (members left out are
 * removed). The update is one atomic write against the live document, so a resource deleted
 * meanwhile stays deleted; only when members must be removed (the port can set, not unset) is
 * the document then rewritten whole.
 */
export async function replaceResource(deps: ResourceRegistrationDeps, caller: ProtectionCaller, id: string, body: unknown): Promise<void> {
  const description = validResourceDescription(body);
  if (!validId(id)) throw resourceNotFound();
  const updatedAt = new Date();
  if (!(await deps.resources.updateOwned(caller, id, { ...description, updatedAt }))) throw resourceNotFound();
  const current = await deps.resources.findOwned(caller, id);
  if (current && OPTIONAL_FIELDS.some((field) => current[field] !== undefined && description[field] === undefined)) {
    const { _id, ownerId, resourceServerId, createdAt } = current;
    await deps.resources.rewrite({ _id, ownerId, resourceServerId, ...description, createdAt, updatedAt });
  }
}

/** §3.2.4: deletes a resource. */
export async function deleteResource(deps: ResourceRegistrationDeps, caller: ProtectionCaller, id: string): Promise<void> {
  if (!validId(id) || !(await deps.resources.deleteOwned(caller, id))) throw resourceNotFound();
}

/** §3.2.5: the ids of the caller's resources, oldest first. */
export async function listResources(deps: ResourceRegistrationDeps, caller: ProtectionCaller): Promise<string[]> {
  const resources = await deps.resources.ownedBy(caller);
  return resources.map((resource) => resource._id);
}

/**
 * A schema-valid resource description (schemas/resource.schema.json), reduced to the members
 * Assent keeps: unknown (extension) members are dropped, duplicate scopes collapsed.
 */
export function validResourceDescription(body: unknown): ResourceDescription {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the resource description must be a JSON object');
  const input = structuredClone(body) as Record<string, unknown>;
  const validate = schemaValidator();
  if (!validate(input)) throw invalidRequest(schemaMessage(validate.errors?.[0]));
  const description: ResourceDescription = { resource_scopes: [...new Set(input.resource_scopes)] };
  for (const field of OPTIONAL_FIELDS) if (input[field] !== undefined) description[field] = input[field];
  return description;
}

const resourceNotFound = () => notFound('no such resource for this resource server and owner');

/** Ids this server mints are 22 base64url characters; anything far from that is not looked up. */
const validId = (id: string) => /^[A-Za-z0-9_-]{1,64}$/.test(id);

function viewOf(resource: ResourceDocument): ResourceView {
  const view: ResourceView = { _id: resource._id, resource_scopes: resource.resource_scopes };
  for (const field of OPTIONAL_FIELDS) if (resource[field] !== undefined) view[field] = resource[field];
  return view;
}

function schemaMessage(error: ErrorObject | undefined): string {
  const field = error?.instancePath.slice(1).replace(/\//g, '.') ?? '';
  const message = error?.keyword === 'pattern' && field.startsWith('resource_scopes') ? 'must be a scope token (printable ASCII, no spaces, quotes or backslashes)' : (error?.message ?? 'is invalid');
  return `resource description: ${field ? `${field} ` : ''}${message}`;
}

type DescriptionInput = ResourceDescription & Record<string, unknown>;

let compiled: ValidateFunction<DescriptionInput> | undefined;
function schemaValidator(): ValidateFunction<DescriptionInput> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/resource.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ strict: true, removeAdditional: true });
    formats.default(ajv);
    compiled = ajv.compile<DescriptionInput>(schema);
  }
  return compiled;
}
