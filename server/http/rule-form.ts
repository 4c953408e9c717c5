// The sharing dashboard's forms mapped to what the sharing services take: the add-rule form to a
// rule body, the preview form to a hypothetical party.

import { readParams } from '../protocol/params.js';
import type { HypotheticalParty } from '../uma/sharing/party.js';
import type { RuleForm } from '../views/sharing.js';

/** The add-rule form's fields as posted (scope may repeat: one checkbox per scope). */
export function readRuleForm(form: Record<string, unknown>): RuleForm {
  const params = readParams(form, ['effect', 'grantee_type', 'grantee', 'resource', 'more_scopes', 'valid_until', 'any_email', 'note'] as const);
  const raw = form.scope;
  const scopes = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  return { ...params, any_email: params.any_email !== undefined, scopes };
}

/** The form's fields as a sharing rule body; validation (and its messages) is the service's. */
export function ruleFromForm(form: RuleForm): Record<string, unknown> {
  const granteeType = form.grantee_type === 'email_domain' ? 'email_domain' : 'email';
  const grantee = (form.grantee ?? '').trim().replace(granteeType === 'email_domain' ? /^@/ : /^$/, '');
  const resource = form.resource ?? 'all';
  const resources = resource.startsWith('type:') ? { types: [resource.slice(5)] } : resource.startsWith('id:') ? { ids: [resource.slice(3)] } : { all: true };
  const scopes = [...new Set([...(form.scopes ?? []), ...(form.more_scopes ?? '').split(/\s+/).filter(Boolean)])];
  const conditions: Record<string, unknown> = {};
  if (form.valid_until) conditions.valid_until = /^\d{4}-\d{2}-\d{2}$/.test(form.valid_until) ? `${form.valid_until}T00:00:00Z` : form.valid_until;
  if (form.any_email) conditions.email_verified = false;
  return {
    effect: form.effect === 'deny' ? 'deny' : 'allow',
    grantee: { [granteeType]: grantee },
    resources,
    ...(scopes.length ? { scopes } : {}),
    ...(Object.keys(conditions).length ? { conditions } : {}),
    ...(form.note?.trim() ? { note: form.note.trim() } : {}),
  };
}

/** The preview form: whom to ask about (as typed, to show again) and the party it names. */
export function readPreviewForm(form: Record<string, unknown>): { previewForm: Record<string, string | boolean | undefined>; party: HypotheticalParty } {
  const params = readParams(form, ['email', 'iss', 'sub', 'claim_name', 'claim_value', 'unverified'] as const);
  const party: HypotheticalParty = {
    ...(params.email ? { email: params.email.trim() } : {}),
    ...(params.iss ? { iss: params.iss.trim() } : {}),
    ...(params.sub ? { sub: params.sub.trim() } : {}),
    ...(params.unverified ? { email_verified: false } : {}),
    ...(params.claim_name && params.claim_value ? { claims: { [params.claim_name.trim()]: params.claim_value } } : {}),
  };
  return { previewForm: { ...params, unverified: params.unverified !== undefined }, party };
}
