// Plain language for owners: resource names, dates, rules, reasons and requesting parties.

import { OWNER_REASON, type ClaimsInput } from '../../policy/entrypoints.js';
import type { ResourceDocument } from '../../store/repositories/resources.js';
import type { SharingRule } from '../../store/repositories/sharing-rules.js';
import type { RequestingParty } from '../../store/repositories/uma-requests.js';

const MAX_RESOURCE_NAME = 80;

export type ResourceNames = ReadonlyMap<string, Pick<ResourceDocument, 'name' | 'type'>>;

export const byId = (resources: ResourceDocument[]): ResourceNames => new Map(resources.map((r) => [r._id, r]));

/** What a person calls a resource: its name, else its type, else its id. */
export function resourceLabel(id: string, resources: ResourceNames): string {
  const r = resources.get(id);
  const label = r?.name ?? r?.type ?? `record ${id}`;
  return label.length > MAX_RESOURCE_NAME ? `${label.slice(0, MAX_RESOURCE_NAME - 1)}…` : label;
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC', hour12: false });

/** "1 June 2026", with the time (UTC) only when it is not midnight. */
export function plainDate(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return String(value);
  const midnight = date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0;
  return midnight ? DATE.format(date) : `${DATE.format(date)}, ${TIME.format(date)} UTC`;
}

function listing(items: string[], conjunction = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/**
 * One plain-language sentence for a rule, e.g. "Allow dr@clinic.org (verified email) to read your
 * Medication list until 1 June 2026."
 */
export function describeRule(rule: SharingRule, resources: ResourceNames = new Map()): string {
  const conditions = rule.conditions ?? {};
  const g = rule.grantee;
  let who: string;
  if ('email' in g) who = `${g.email} (${conditions.email_verified === false ? 'even with an unverified email' : 'verified email'})`;
  else if ('email_domain' in g) who = conditions.email_verified === false ? `anyone with an @${g.email_domain} email address, verified or not` : `anyone with a verified @${g.email_domain} email address`;
  else if ('issuer' in g) who = `the account ${g.subject} at ${g.issuer}`;
  else who = `anyone proven to have ${g.claim.name} ${g.claim.value}`;
  if (conditions.email_verified === true && !('email' in g) && !('email_domain' in g)) who += ' with a verified email';

  const r = rule.resources;
  const what =
    'all' in r ? 'all your records' : 'ids' in r ? `your ${listing(r.ids.map((id) => resourceLabel(id, resources)))}` : `every record of type ${listing(r.types, 'or')}`;
  const verb = rule.scopes ? listing(rule.scopes) : 'access';

  const when: string[] = [];
  if (conditions.issuers) when.push(`when signed in through ${listing(conditions.issuers, 'or')}`);
  if (conditions.valid_from) when.push(`from ${plainDate(conditions.valid_from)}`);
  if (conditions.valid_until) when.push(`until ${plainDate(conditions.valid_until)}`);
  const tail = when.length ? ` ${when.join(' ')}` : '';
  return rule.effect === 'allow' ? `Allow ${who} to ${verb} ${what}${tail}.` : `Do not let ${who} ${verb} ${what}${tail}.`;
}

/** Sentences for the ids in `because`: a rule's sentence, what a one-off approval is, or the owner's own access. */
export function reasonDescriber(rules: SharingRule[], names: ResourceNames, approvals: ClaimsInput['approvals'] = []) {
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  return (id: string): string => {
    if (id === OWNER_REASON) return 'It was you: you always have your own records.';
    if (id.startsWith('approval:')) {
      const approval = approvals.find((a) => a.id === id.slice('approval:'.length));
      return approval
        ? `You approved a request for ${resourceLabel(approval.resource_id, names)} (${approval.resource_scopes.join(', ')}), valid until ${plainDate(approval.expires_at)}.`
        : 'You approved an earlier request from this person.';
    }
    const rule = rulesById.get(id);
    return rule ? describeRule(rule, names) : `Rule ${id}, which no longer exists.`;
  };
}

export function partyLabel(party: RequestingParty | undefined): string {
  if (!party) return 'nobody identified yet';
  const email = party.email ? `${party.email}${party.email_verified ? '' : ' (unverified)'}` : undefined;
  if (party.name && email) return `${party.name} <${email}>`;
  return party.name ?? email ?? `${party.sub} at ${party.iss}`;
}

export function askedFor(input: ClaimsInput, names: ResourceNames): string {
  return input.ticket.resources.map((r) => `${resourceLabel(r.resource_id, names)}: ${r.resource_scopes.join(', ')}`).join('; ');
}
