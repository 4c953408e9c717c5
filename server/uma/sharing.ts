import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { Services } from '../app.js';
import { projectRoot } from '../config/config.js';
import { hashSecret } from '../crypto/secrets.js';
import { invalidRequest, notFound, ProtocolError } from '../http/errors.js';
import type { DecisionRecord } from '../policy/engine.js';
import type { ClaimsInput, ClaimsOutput } from '../policy/entrypoints.js';
import { DuplicateKeyError } from '../store/port.js';
import type { ResourceDocument } from '../store/repositories/resources.js';
import type { SharingRule } from '../store/repositories/sharing-rules.js';
import type { AccessRequestDocument, RequestingParty } from '../store/repositories/uma-requests.js';
import { partyFromAccount } from './requesting-party.js';

/**
 * The owner's side of UMA: their sharing rules (list, add, replace, delete, in plain language),
 * a "who can see what" preview asked of the claims policy itself, pending access requests
 * (approve once, approve always, deny), live RPTs (revoke), access history and "why?".
 *
 * Nothing here decides access: the preview builds a claims input exactly as the uma-ticket grant
 * does and enforces nothing; it is not recorded in the decision log, because it is hypothetical,
 * grants nothing, and would otherwise fill the owner's access history and the auditors' record of
 * real decisions with questions the owner asked themselves.
 */

export type SharingServices = Pick<Services, 'config' | 'policy' | 'decisions' | 'accounts' | 'clients' | 'tokens' | 'resources' | 'sharingRules' | 'uma'>;

/** How long an "approve once" lasts. */
export const APPROVAL_LIFETIME_SECONDS = 30 * 24 * 3600;
/** The client id the preview's hypothetical decisions name (the claims policy does not look at it). */
export const PREVIEW_CLIENT_ID = 'assent-preview';
const MAX_RESOURCE_NAME = 80;

// --- validation ---------------------------------------------------------------------------------

type Schema = Record<string, unknown>;
let ruleSchema: Schema | undefined;
let compiledRule: ValidateFunction<SharingRule> | undefined;
let compiledParty: ValidateFunction<HypotheticalParty> | undefined;

function newAjv() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  formats.default(ajv);
  return ajv;
}

function ruleValidator(): ValidateFunction<SharingRule> {
  if (!compiledRule) {
    ruleSchema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/sharing-rule.schema.json'), 'utf8')) as Schema;
    compiledRule = newAjv().compile<SharingRule>(ruleSchema);
  }
  return compiledRule;
}

/** A new rule id: 16 url-safe characters, as the schema's id pattern allows. */
export const newRuleId = () => randomBytes(12).toString('base64url');

/**
 * The body as a schema-valid sharing rule, or a 400 naming the first problems precisely (which
 * member, what is wrong). `id` fills a missing id (client-chosen ids are kept as given).
 */
export function validateRule(body: unknown, id?: string): SharingRule {
  if (!isObject(body)) throw invalidRequest('a sharing rule must be a JSON object');
  const candidate = structuredClone(body);
  if (candidate.id === undefined && id !== undefined) candidate.id = id;
  const validate = ruleValidator();
  if (!validate(candidate)) throw invalidRequest(describeErrors(candidate, validate.errors ?? [], ruleSchema!));
  const rule = candidate as unknown as SharingRule;
  const { valid_from: from, valid_until: until } = rule.conditions ?? {};
  if (from && until && Date.parse(from) >= Date.parse(until)) throw invalidRequest('conditions/valid_until must be later than conditions/valid_from');
  return rule;
}

/**
 * Turns ajv's errors into sentences. A `oneOf` (grantee, resources) fails in every branch, so only
 * the branch the value was evidently meant for (most of its required members present) speaks.
 */
function describeErrors(value: unknown, errors: ErrorObject[], schema: Schema): string {
  // Each failed oneOf reports itself once (keyword "oneOf") with the path of the value it judged.
  const chosen = new Map<string, number | undefined>();
  for (const error of errors) {
    if (error.keyword === 'oneOf' && !chosen.has(error.schemaPath)) {
      chosen.set(error.schemaPath, intendedBranch(schema, error.schemaPath, valueAt(value, error.instancePath)));
    }
  }
  const problems: string[] = [];
  for (const error of errors) {
    const branch = /^(.*\/oneOf)(?:\/(\d+))?(\/.*)?$/.exec(error.schemaPath);
    if (!branch) {
      problems.push(messageOf(error));
      continue;
    }
    const [, location = '', index] = branch;
    const pick = chosen.get(location);
    if (pick === undefined && error.keyword === 'oneOf') problems.push(oneOfMessage(schema, location, error.instancePath));
    else if (pick !== undefined && index !== undefined && Number(index) === pick) problems.push(messageOf(error));
  }
  const unique = [...new Set(problems)];
  return unique.length ? unique.slice(0, 5).join('; ') : 'the sharing rule is invalid';
}

function intendedBranch(schema: Schema, location: string, value: unknown): number | undefined {
  const branches = (schemaAt(schema, location) ?? []) as { required?: string[] }[];
  if (!isObject(value)) return undefined;
  let best: number | undefined;
  let bestScore = 0;
  branches.forEach((b, i) => {
    const score = (b.required ?? []).filter((k) => k in value).length;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  return best;
}

function oneOfMessage(schema: Schema, location: string, instancePath: string): string {
  const branches = (schemaAt(schema, location) ?? []) as { required?: string[] }[];
  const options = branches.map((b) => (b.required ?? []).join(' and '));
  return `${pathOf(instancePath)} must have exactly one of: ${options.join(', ')}`;
}

function messageOf(e: ErrorObject): string {
  const at = pathOf(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${e.instancePath ? `${at}/` : ''}${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${at} has an unknown member "${String(params.additionalProperty)}"`;
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify(params.allowedValue)}`;
    case 'format':
      return `${at} must be ${FORMAT_NAMES[String(params.format)] ?? `a valid ${String(params.format)}`}`;
    case 'pattern':
      return `${at} ${at.startsWith('id') ? 'must be 1 to 64 letters, digits, "_" or "-"' : `must match ${String(params.pattern)}`}`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  email: 'an email address',
  uri: 'an absolute URI',
  'date-time': 'an RFC 3339 date-time such as 2026-06-01T00:00:00Z',
};

const pathOf = (instancePath: string) => instancePath.slice(1) || 'the rule';

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const part of pointer.split('/').slice(1)) current = isObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[part] : undefined;
  return current;
}

function schemaAt(schema: Schema, schemaPath: string): unknown {
  return valueAt(schema, schemaPath.replace(/^#/, ''));
}

// --- rules --------------------------------------------------------------------------------------

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

export type ResourceNames = ReadonlyMap<string, Pick<ResourceDocument, 'name' | 'type'>>;

export const byId = (resources: ResourceDocument[]): ResourceNames => new Map(resources.map((r) => [r._id, r]));

/** What a person calls a resource: its name, else its type, else its id. */
export function resourceLabel(id: string, resources: ResourceNames): string {
  const r = resources.get(id);
  const label = r?.name ?? r?.type ?? `record ${id}`;
  return label.length > MAX_RESOURCE_NAME ? `${label.slice(0, MAX_RESOURCE_NAME - 1)}…` : label;
}

// --- plain language -----------------------------------------------------------------------------

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

// --- preview ------------------------------------------------------------------------------------

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

export function validateParty(body: unknown): HypotheticalParty {
  compiledParty ??= newAjv().compile<HypotheticalParty>(partySchema);
  if (!isObject(body)) throw invalidRequest('the requesting party must be a JSON object');
  if (!compiledParty(body)) throw invalidRequest(describeErrors(body, compiledParty.errors ?? [], partySchema).replace(/the rule/g, 'the requesting party'));
  if (!body.email && !body.sub && !body.claims) throw invalidRequest('name the requesting party by email, sub (with iss) or claims');
  return body as HypotheticalParty;
}

/**
 * The facts the claims policy would see for that party. An email of a local account (with no
 * issuer or subject given) is that account, exactly as it would prove itself; anyone else is taken
 * to prove what was typed (email verified unless `email_verified` is false).
 */
export async function resolveParty(services: Pick<Services, 'accounts' | 'config'>, party: HypotheticalParty): Promise<RequestingParty> {
  if (party.email && !party.iss && !party.sub) {
    const account = await services.accounts.byEmail(party.email);
    if (account) return { ...partyFromAccount(services.config.issuer, account), ...(party.claims ? { claims: party.claims } : {}) };
  }
  return {
    iss: party.iss ?? services.config.issuer,
    sub: party.sub ?? `preview:${party.email ?? 'anyone'}`,
    ...(party.email ? { email: party.email, email_verified: party.email_verified ?? true } : {}),
    ...(party.name ? { name: party.name } : {}),
    ...(party.claims ? { claims: party.claims } : {}),
  };
}

export interface PreviewCell {
  scope: string;
  outcome: ClaimsOutput['outcome'];
  /** grant → yes; request_denied → no; request_submitted → the owner would be asked. */
  answer: 'yes' | 'no' | 'ask';
  because: { id: string; description: string }[];
}

export interface PreviewRow {
  resource_id: string;
  name: string;
  type?: string;
  scopes: PreviewCell[];
}

export interface Preview {
  requesting_party: RequestingParty;
  evaluated_at: string;
  resources: PreviewRow[];
}

const ANSWERS: Record<ClaimsOutput['outcome'], PreviewCell['answer']> = { grant: 'yes', request_denied: 'no', request_submitted: 'ask', need_info: 'ask' };

/**
 * "Who can see what": for every resource of the owner and each of its scopes, the claims policy's
 * answer to a one-resource, one-scope ticket from this party, now. Not recorded (see above).
 */
export async function preview(services: SharingServices, ownerId: string, hypothetical: HypotheticalParty): Promise<Preview> {
  const party = await resolveParty(services, hypothetical);
  const [resources, rules, approvals] = await Promise.all([
    services.resources.ofOwner(ownerId),
    services.sharingRules.ofOwner(ownerId),
    services.uma.approvals.find({ ownerId, 'requestingParty.iss': party.iss, 'requestingParty.sub': party.sub }),
  ]);
  const names = byId(resources);
  const now = new Date().toISOString();
  const approvalFacts = approvals.map((a) => ({
    id: a._id,
    requesting_party: { iss: a.requestingParty.iss, sub: a.requestingParty.sub },
    resource_id: a.resource_id,
    resource_scopes: a.resource_scopes,
    expires_at: a.expiresAt.toISOString(),
  }));
  const reason = reasonDescriber(rules, names, approvalFacts);
  return {
    requesting_party: party,
    evaluated_at: now,
    resources: resources.map((resource) => ({
      resource_id: resource._id,
      name: resourceLabel(resource._id, names),
      ...(resource.type ? { type: resource.type } : {}),
      scopes: resource.resource_scopes.map((scope): PreviewCell => {
        const input: ClaimsInput = {
          now,
          owner: { sub: ownerId },
          client: { client_id: PREVIEW_CLIENT_ID },
          requesting_party: party,
          ticket: { resources: [{ resource_id: resource._id, resource_scopes: [scope], ...(resource.type ? { type: resource.type } : {}) }] },
          rules,
          approvals: approvalFacts,
          refused_before: false,
        };
        const { result } = services.policy.decide('claims', input);
        return { scope, outcome: result.outcome, answer: ANSWERS[result.outcome], because: result.because.map((id) => ({ id, description: reason(id) })) };
      }),
    })),
  };
}

/** Sentences for the ids in `because`: a rule's sentence, or what a one-off approval is. */
function reasonDescriber(rules: SharingRule[], names: ResourceNames, approvals: ClaimsInput['approvals'] = []) {
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  return (id: string): string => {
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

// --- access requests ----------------------------------------------------------------------------

export function pendingRequests(services: SharingServices, ownerId: string): Promise<AccessRequestDocument[]> {
  return services.uma.requests.find({ ownerId, status: 'pending' }, { sort: { createdAt: -1 } });
}

export type RequestDecision = 'once' | 'always' | 'deny';

export interface RequestOutcome {
  request: AccessRequestDocument;
  approvals: string[];
  rules: SharingRule[];
}

/**
 * The owner's answer to a pending request: `once` gives a one-off approval per resource (for
 * APPROVAL_LIFETIME_SECONDS), `always` adds allow rules for that account, `deny` refuses it (the
 * claims policy then refuses the same request again). Only a pending request of this owner can be
 * decided, and only once: the status change is the atomic step.
 */
export async function decideRequest(services: SharingServices, ownerId: string, requestId: string, decision: RequestDecision): Promise<RequestOutcome> {
  const pending = await services.uma.requests.findOne({ _id: requestId, ownerId, status: 'pending' });
  if (!pending) throw notFound('you have no pending request with this id');
  const rules = decision === 'always' ? rulesFor(pending) : [];
  const now = new Date();
  const request = await services.uma.requests.consume(
    { _id: requestId, ownerId, status: 'pending' },
    { status: decision === 'deny' ? 'denied' : 'approved', decidedAt: now },
  );
  if (!request) throw notFound('you have no pending request with this id');
  const approvals: string[] = [];
  if (decision === 'once') {
    const expiresAt = new Date(now.getTime() + APPROVAL_LIFETIME_SECONDS * 1000);
    for (const p of request.permissions) {
      const _id = hashSecret(`${request._id}|${p.resource_id}`);
      await services.uma.approvals.upsert({
        _id,
        ownerId,
        requestId: request._id,
        requestingParty: { iss: request.requestingParty.iss, sub: request.requestingParty.sub },
        resource_id: p.resource_id,
        resource_scopes: [...p.resource_scopes],
        expiresAt,
      });
      approvals.push(_id);
    }
  }
  for (const rule of rules) await services.sharingRules.add(ownerId, rule);
  return { request, approvals, rules };
}

/** "Approve always": allow rules for exactly this account, one per set of scopes asked for. */
function rulesFor(request: AccessRequestDocument): SharingRule[] {
  const party = request.requestingParty;
  const byScopes = new Map<string, { ids: string[]; scopes: string[] }>();
  for (const p of request.permissions) {
    const scopes = [...new Set(p.resource_scopes)].sort();
    const key = scopes.join(' ');
    const group = byScopes.get(key) ?? { ids: [], scopes };
    if (!group.ids.includes(p.resource_id)) group.ids.push(p.resource_id);
    byScopes.set(key, group);
  }
  const who = party.name && party.email ? `${party.name} <${party.email}>` : (party.name ?? party.email ?? party.sub);
  return [...byScopes.values()].map((group) =>
    validateRule({
      id: newRuleId(),
      effect: 'allow',
      grantee: { issuer: party.iss, subject: party.sub },
      resources: { ids: group.ids },
      scopes: group.scopes,
      note: `Approved from an access request by ${who}`.slice(0, 500),
    }),
  );
}

// --- RPTs ---------------------------------------------------------------------------------------

export interface ActiveRpt {
  jti: string;
  clientId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Live RPTs about the owner's resources: unrevoked, unexpired access tokens with scope `uma`. */
export async function activeRpts(services: SharingServices, ownerId: string): Promise<ActiveRpt[]> {
  const tokens = await services.tokens.accessTokens.find({ accountId: ownerId, revokedAt: { $exists: false } }, { sort: { issuedAt: -1 } });
  return tokens.filter((t) => t.scopes.includes('uma')).map((t) => ({ jti: t._id, clientId: t.clientId, issuedAt: t.issuedAt, expiresAt: t.expiresAt }));
}

export async function revokeRpt(services: SharingServices, ownerId: string, jti: string): Promise<void> {
  const token = await services.tokens.accessTokens.findOne({ _id: jti, accountId: ownerId, revokedAt: { $exists: false } });
  if (!token || !token.scopes.includes('uma')) throw notFound('you have no active access token with this id');
  await services.tokens.accessTokens.update({ _id: jti, accountId: ownerId }, { revokedAt: new Date() });
}

// --- access history and explanations -------------------------------------------------------------

export interface HistoryEntry {
  id: string;
  decidedAt: Date;
  clientId: string;
  party: string;
  asked: string;
  outcome: ClaimsOutput['outcome'];
}

/** The owner's most recent claims decisions, newest first. */
export async function accessHistory(services: SharingServices, ownerId: string, limit = 25): Promise<HistoryEntry[]> {
  const [records, resources] = await Promise.all([services.decisions.ofOwner(ownerId, 'claims', limit), services.resources.ofOwner(ownerId)]);
  const names = byId(resources);
  return records.map((record) => {
    const input = record.input as ClaimsInput;
    return {
      id: record.id,
      decidedAt: record.decidedAt,
      clientId: input.client.client_id,
      party: partyLabel(input.requesting_party),
      asked: askedFor(input, names),
      outcome: (record.result as ClaimsOutput).outcome,
    };
  });
}

export function partyLabel(party: RequestingParty | undefined): string {
  if (!party) return 'nobody identified yet';
  const email = party.email ? `${party.email}${party.email_verified ? '' : ' (unverified)'}` : undefined;
  if (party.name && email) return `${party.name} <${email}>`;
  return party.name ?? email ?? `${party.sub} at ${party.iss}`;
}

function askedFor(input: ClaimsInput, names: ResourceNames): string {
  return input.ticket.resources.map((r) => `${resourceLabel(r.resource_id, names)}: ${r.resource_scopes.join(', ')}`).join('; ');
}

export interface ExplainedReason {
  id: string;
  kind: 'rule' | 'approval';
  /** The sentence of the rule (or approval) as it was when the decision was made. */
  description: string;
  /** Whether the owner's rule with this id is the same now, changed, or gone. */
  now: 'unchanged' | 'changed' | 'deleted' | 'n/a';
}

export interface Explanation {
  id: string;
  entrypoint: string;
  bundleDigest: string;
  decidedAt: Date;
  ownerId?: string;
  /** Label → value lines describing the recorded input. */
  input: { label: string; value: string }[];
  outcome: string;
  replayedOutcome: string;
  /** Whether the recorded bundle, given the recorded input, still gives the recorded result. */
  matches: boolean;
  because: ExplainedReason[];
  result: unknown;
  replayed: unknown;
}

export type ExplainServices = Pick<Services, 'decisions' | 'sharingRules' | 'resources'>;

/**
 * Replays a recorded decision against the bundle that made it and says what was asked, what was
 * answered and which rules produced the answer. With `ownerId`, a decision about anyone else is
 * unknown (null), exactly as a missing one.
 */
export async function explainDecision(services: ExplainServices, id: string, ownerId?: string): Promise<Explanation | null> {
  const found = await services.decisions.find(id);
  if (!found || (ownerId !== undefined && ownerOf(found) !== ownerId)) return null;
  const replay = await services.decisions.replay(id);
  if (!replay) return null;
  const { record, replayed, matches } = replay;
  const owner = ownerOf(record);
  const base = {
    id: record.id,
    entrypoint: record.entrypoint,
    bundleDigest: record.bundleDigest,
    decidedAt: record.decidedAt,
    ...(owner ? { ownerId: owner } : {}),
    matches,
    result: record.result,
    replayed,
  };
  if (record.entrypoint !== 'claims') {
    return { ...base, input: [{ label: 'input', value: JSON.stringify(record.input) }], outcome: JSON.stringify(record.result), replayedOutcome: JSON.stringify(replayed), because: [] };
  }
  const input = record.input as ClaimsInput;
  const result = record.result as ClaimsOutput;
  const [resources, current] = owner ? await Promise.all([services.resources.ofOwner(owner), services.sharingRules.ofOwner(owner)]) : [[], []];
  const names = byId(resources);
  const describe = reasonDescriber(input.rules, names, input.approvals);
  const currentById = new Map(current.map((r) => [r.id, r]));
  return {
    ...base,
    input: [
      { label: 'owner', value: input.owner.sub },
      { label: 'client', value: input.client.client_id },
      { label: 'requesting party', value: input.requesting_party ? `${partyLabel(input.requesting_party)} (${input.requesting_party.sub} at ${input.requesting_party.iss})` : 'nobody identified yet' },
      { label: 'asked for', value: askedFor(input, names) },
      { label: 'rules in force', value: `${input.rules.length} rule(s), ${input.approvals.length} one-off approval(s)${input.refused_before ? '; refused before' : ''}` },
      { label: 'policy clock', value: input.now },
    ],
    outcome: result.outcome,
    replayedOutcome: (replayed as ClaimsOutput).outcome,
    because: result.because.map((reason): ExplainedReason => {
      if (reason.startsWith('approval:')) return { id: reason, kind: 'approval', description: describe(reason), now: 'n/a' };
      const then = input.rules.find((r) => r.id === reason);
      const nowRule = currentById.get(reason);
      return {
        id: reason,
        kind: 'rule',
        description: describe(reason),
        now: !nowRule ? 'deleted' : then && canonical(then) === canonical(nowRule) ? 'unchanged' : 'changed',
      };
    }),
  };
}

/** JSON with object keys sorted: equal for equal rules whatever the store did to key order or prototypes. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

function ownerOf(record: DecisionRecord): string | undefined {
  const sub = (record.input as { owner?: { sub?: unknown } }).owner?.sub;
  return typeof sub === 'string' ? sub : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
