import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { SharingRule } from '../store/repositories/sharing-rules.js';
import { explainDecision, type Explanation } from '../uma/sharing/explain.js';
import { validateParty } from '../uma/sharing/party.js';
import { preview } from '../uma/sharing/preview.js';
import { addRule, deleteRule, getRule, listRules, replaceRule } from '../uma/sharing/rules.js';
import { byId, describeRule, type ResourceNames } from '../uma/sharing/sentences.js';
import { notFound } from '../protocol/errors.js';
import { jsonBody } from './json-body.js';
import { bearerCaller, grantingOwner, requireBearer } from './middleware/bearer.js';

type Handler = (ctx: Context, services: Services, owner: string) => Promise<void>;

/**
 * The owner's sharing rules as a JSON API (GET/POST /uma/rules, GET/PUT/DELETE /uma/rules/:id,
 * POST /uma/rules/preview) and the explanation of a decision about them
 * (GET /uma/decisions/:id/explain). Callers hold an access token the owner granted with scope
 * `sharing_rules`; everything is scoped to that owner, so another owner's rule or decision is a 404.
 * Rules go in and out exactly as schemas/sharing-rule.schema.json has them; each answer adds the
 * rule's plain-language `description` beside it, never inside it, so a rule read can be PUT back.
 */
export function umaRulesRoutes(router: Router, services: Services): void {
  const ownerApi = requireBearer(services, 'sharing_rules');
  // The owner who granted the caller's token (the gate let in only such tokens: scope sharing_rules, for this server).
  const owned = (handle: Handler) => (ctx: Context) => handle(ctx, services, grantingOwner(bearerCaller(ctx)));
  router.get('/uma/rules', ownerApi, owned(listOwnRules));
  router.post('/uma/rules', ownerApi, owned(createRule));
  router.post('/uma/rules/preview', ownerApi, owned(previewRules));
  router.get('/uma/rules/:id', ownerApi, owned(readRule));
  router.put('/uma/rules/:id', ownerApi, owned(putRule));
  router.delete('/uma/rules/:id', ownerApi, owned(removeRule));
  router.get('/uma/decisions/:id/explain', ownerApi, owned(explain));
}

const described = (rule: SharingRule, names: ResourceNames) => ({ rule, description: describeRule(rule, names) });
const namesOf = async (services: Services, owner: string) => byId(await services.resources.ofOwner(owner));

async function listOwnRules(ctx: Context, services: Services, owner: string) {
  const [rules, names] = await Promise.all([listRules(services, owner), namesOf(services, owner)]);
  ctx.body = { rules: rules.map((r) => described(r, names)) };
}

async function createRule(ctx: Context, services: Services, owner: string) {
  const rule = await addRule(services, owner, jsonBody(ctx));
  ctx.status = 201;
  ctx.set('Location', `${services.config.issuer}/uma/rules/${encodeURIComponent(rule.id)}`);
  ctx.body = described(rule, await namesOf(services, owner));
}

async function previewRules(ctx: Context, services: Services, owner: string) {
  ctx.body = await preview(services, owner, validateParty(jsonBody(ctx)));
}

async function readRule(ctx: Context, services: Services, owner: string) {
  ctx.body = described(await getRule(services, owner, ctx.params.id!), await namesOf(services, owner));
}

async function putRule(ctx: Context, services: Services, owner: string) {
  ctx.body = described(await replaceRule(services, owner, ctx.params.id!, jsonBody(ctx)), await namesOf(services, owner));
}

async function removeRule(ctx: Context, services: Services, owner: string) {
  await deleteRule(services, owner, ctx.params.id!);
  ctx.status = 204;
}

async function explain(ctx: Context, services: Services, owner: string) {
  const explanation = await explainDecision(services, ctx.params.id!, owner);
  if (!explanation) throw notFound('you have no decision with this id');
  ctx.body = explanationJson(explanation);
}

/** The explanation as the API's JSON (snake_case, dates as RFC 3339). */
function explanationJson(e: Explanation) {
  return {
    id: e.id,
    entrypoint: e.entrypoint,
    bundle_digest: e.bundleDigest,
    decided_at: e.decidedAt.toISOString(),
    input: Object.fromEntries(e.input.map((line) => [line.label, line.value])),
    outcome: e.outcome,
    replayed_outcome: e.replayedOutcome,
    matches: e.matches,
    because: e.because,
    result: e.result,
  };
}
