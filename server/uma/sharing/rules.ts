// An owner's sharing rules: list, get, add, replace and delete, each checked before it is stored.

import { conflict, invalidRequest, notFound } from '../../protocol/errors.js';
import { DuplicateKeyError } from '../../store/port.js';
import type { Resources } from '../../store/repositories/resources.js';
import type { SharingRule, SharingRules } from '../../store/repositories/sharing-rules.js';
import { isObject, newRuleId, validateRule } from './validation.js';

/** The rules repository, and the owner's resources (a rule may name only the owner's own). */
export interface RuleDeps {
  sharingRules: SharingRules;
  resources: Pick<Resources, 'ofOwner'>;
}

/** Reading and deleting rules needs the rules repository only. */
type RuleStore = Pick<RuleDeps, 'sharingRules'>;

export function listRules(deps: RuleStore, ownerId: string): Promise<SharingRule[]> {
  return deps.sharingRules.ofOwner(ownerId);
}

export async function getRule(deps: RuleStore, ownerId: string, id: string): Promise<SharingRule> {
  const rule = await deps.sharingRules.find(ownerId, id);
  if (!rule) throw notFound('you have no sharing rule with this id');
  return rule;
}

/** Adds a rule (id generated when the body has none); 409 when the owner already uses the id. */
export async function addRule(deps: RuleDeps, ownerId: string, body: unknown): Promise<SharingRule> {
  const rule = validateRule(body, newRuleId());
  await checkResources(deps, ownerId, rule);
  try {
    await deps.sharingRules.add(ownerId, rule);
  } catch (err) {
    if (err instanceof DuplicateKeyError) throw conflict(`you already have a sharing rule with id ${rule.id}; replace it with PUT`);
    throw err;
  }
  return rule;
}

/** Replaces the owner's rule `id` with the body (whose id, if given, must be `id`). */
export async function replaceRule(deps: RuleDeps, ownerId: string, id: string, body: unknown): Promise<SharingRule> {
  if (isObject(body) && body.id !== undefined && body.id !== id) throw invalidRequest('id in the body must be the id of the rule being replaced');
  const rule = validateRule(body, id);
  await checkResources(deps, ownerId, rule);
  if (!(await deps.sharingRules.replace(ownerId, rule))) throw notFound('you have no sharing rule with this id');
  return rule;
}

export async function deleteRule(deps: RuleStore, ownerId: string, id: string): Promise<void> {
  if (!(await deps.sharingRules.remove(ownerId, id))) throw notFound('you have no sharing rule with this id');
}

/** A rule naming resources by id may only name the owner's own. */
async function checkResources(deps: RuleDeps, ownerId: string, rule: SharingRule) {
  if (!('ids' in rule.resources)) return;
  const mine = new Set((await deps.resources.ofOwner(ownerId)).map((r) => r._id));
  rule.resources.ids.forEach((id, index) => {
    if (!mine.has(id)) throw invalidRequest(`resources/ids/${index} names no resource of yours (${id})`);
  });
}
