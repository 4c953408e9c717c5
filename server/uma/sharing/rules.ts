import { invalidRequest, notFound, ProtocolError } from '../../protocol/errors.js';
import { DuplicateKeyError } from '../../store/port.js';
import type { SharingRule } from '../../store/repositories/sharing-rules.js';
import type { SharingServices } from './services.js';
import { isObject, newRuleId, validateRule } from './validation.js';

/** An owner's sharing rules: list, get, add, replace and delete, each checked before it is stored. */

export function listRules(services: SharingServices, ownerId: string): Promise<SharingRule[]> {
  return services.sharingRules.ofOwner(ownerId);
}

export async function getRule(services: SharingServices, ownerId: string, id: string): Promise<SharingRule> {
  const rule = await services.sharingRules.find(ownerId, id);
  if (!rule) throw notFound('you have no sharing rule with this id');
  return rule;
}

/** Adds a rule (id generated when the body has none); 409 when the owner already uses the id. */
export async function addRule(services: SharingServices, ownerId: string, body: unknown): Promise<SharingRule> {
  const rule = validateRule(body, newRuleId());
  await checkResources(services, ownerId, rule);
  try {
    await services.sharingRules.add(ownerId, rule);
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw new ProtocolError(409, 'conflict', `you already have a sharing rule with id ${rule.id}; replace it with PUT`);
    throw err;
  }
  return rule;
}

/** Replaces the owner's rule `id` with the body (whose id, if given, must be `id`). */
export async function replaceRule(services: SharingServices, ownerId: string, id: string, body: unknown): Promise<SharingRule> {
  if (isObject(body) && body.id !== undefined && body.id !== id) throw invalidRequest('id in the body must be the id of the rule being replaced');
  const rule = validateRule(body, id);
  await checkResources(services, ownerId, rule);
  if (!(await services.sharingRules.replace(ownerId, rule))) throw notFound('you have no sharing rule with this id');
  return rule;
}

export async function deleteRule(services: SharingServices, ownerId: string, id: string): Promise<void> {
  if (!(await services.sharingRules.remove(ownerId, id))) throw notFound('you have no sharing rule with this id');
}

/** A rule naming resources by id may only name the owner's own. */
async function checkResources(services: SharingServices, ownerId: string, rule: SharingRule) {
  if (!('ids' in rule.resources)) return;
  const mine = new Set((await services.resources.ofOwner(ownerId)).map((r) => r._id));
  rule.resources.ids.forEach((id, index) => {
    if (!mine.has(id)) throw invalidRequest(`resources/ids/${index} names no resource of yours (${id})`);
  });
}
