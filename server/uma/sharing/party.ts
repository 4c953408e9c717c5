// The hypothetical requesting party an owner asks the preview about: validated, then resolved to
// the facts the claims policy would see.

import type { ValidateFunction } from 'ajv/dist/2020.js';
import { invalidRequest } from '../../protocol/errors.js';
import type { Accounts } from '../../store/repositories/accounts.js';
import type { RequestingParty } from '../../store/repositories/uma-requests.js';
import { partyFromAccount } from '../requesting-party.js';
import { describeErrors, isObject, newAjv } from './validation.js';

/** Whom the owner asks about: an email, and/or an account at an identity provider, and/or claims. */
export interface HypotheticalParty {
  email?: string;
  email_verified?: boolean;
  iss?: string;
  sub?: string;
  name?: string;
  claims?: Record<string, string>;
}

const partySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 254 },
    email_verified: { type: 'boolean' },
    iss: { type: 'string', format: 'uri', maxLength: 512 },
    sub: { type: 'string', minLength: 1, maxLength: 255 },
    name: { type: 'string', maxLength: 255 },
    claims: { type: 'object', maxProperties: 20, propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$' }, additionalProperties: { type: 'string', maxLength: 255 } },
  },
};
let compiledParty: ValidateFunction<HypotheticalParty> | undefined;

export function validateParty(body: unknown): HypotheticalParty {
  compiledParty ??= newAjv().compile<HypotheticalParty>(partySchema);
  if (!isObject(body)) throw invalidRequest('the requesting party must be a JSON object');
  if (!compiledParty(body)) throw invalidRequest(describeErrors(body, compiledParty.errors ?? [], partySchema).replace(/the rule/g, 'the requesting party'));
  if (!body.email && !body.sub && !body.claims) throw invalidRequest('name the requesting party by email, sub (with iss) or claims');
  return body as HypotheticalParty;
}

/** Resolving a party needs the local accounts and this server's issuer (the local accounts' `iss`). */
export interface PartyDeps {
  accounts: Pick<Accounts, 'byEmail'>;
  config: { issuer: string };
}

/**
 * The facts the claims policy would see for that party. An email of a local account (with no
 * issuer or subject given) is that account, exactly as it would prove itself; anyone else is taken
 * to prove what was typed (email verified unless `email_verified` is false).
 */
export async function resolveParty(deps: PartyDeps, party: HypotheticalParty): Promise<RequestingParty> {
  if (party.email && !party.iss && !party.sub) {
    const account = await deps.accounts.byEmail(party.email);
    if (account) return { ...partyFromAccount(deps.config.issuer, account), ...(party.claims ? { claims: party.claims } : {}) };
  }
  return {
    iss: party.iss ?? deps.config.issuer,
    sub: party.sub ?? `preview:${party.email ?? 'anyone'}`,
    ...(party.email ? { email: party.email, email_verified: party.email_verified ?? true } : {}),
    ...(party.name ? { name: party.name } : {}),
    ...(party.claims ? { claims: party.claims } : {}),
  };
}
