import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { SharingRule } from '../store/repositories/sharing-rules.js';
import { explainDecision } from '../uma/sharing/explain.js';
import { validateParty } from '../uma/sharing/party.js';
import { preview } from '../uma/sharing/preview.js';
import { addRule, deleteRule, getRule, listRules, replaceRule } from '../uma/sharing/rules.js';
import { byId, describeRule, type ResourceNames } from '../uma/sharing/sentences.js';
import { invalidRequest, notFound } from '../protocol/errors.js';
import { bearerCaller, grantingOwner, requireBearer } from './middleware/bearer.js';

/**
 * The owner's sharing rules as a JSON API (GET/POST /uma/rules, GET/PUT/DELETE /uma/rules/:id,
 * POST /uma/rules/preview) and the explanation of a decision about them
 * (GET /uma/decisions/:id/explain). Callers hold an access token the owner granted with scope
 * `sharing_rules`; everything is scoped to that owner, so another owner's rule or decision is a 404.
 * Rules go in and out exactly as schemas/sharing-rule.schema.json has them; each answer adds the
 * rule's plain-language `description` beside it, never inside it, so a rule read can be PUT back.
 */
export function umaRulesRoutes(router: Router, services: Services): void {
  const described = (rule: SharingRule, names: ResourceNames) => ({ rule, description: describeRule(rule, names) });
  const names = async (ownerId: string) => byId(await services.resources.ofOwner(ownerId));
  const ownerApi = requireBearer(services, 'sharing_rules');

  router.get('/uma/rules', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    const [rules, resources] = await Promise.all([listRules(services, owner), names(owner)]);
    ctx.body = { rules: rules.map((r) => described(r, resources)) };
  });

  router.post('/uma/rules', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    const rule = await addRule(services, owner, jsonBody(ctx));
    ctx.status = 201;
    ctx.set('Location', `${services.config.issuer}/uma/rules/${encodeURIComponent(rule.id)}`);
    ctx.body = described(rule, await names(owner));
  });

  router.post('/uma/rules/preview', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    ctx.body = await preview(services, owner, validateParty(jsonBody(ctx)));
  });

  router.get('/uma/rules/:id', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    ctx.body = described(await getRule(services, owner, ctx.params.id!), await names(owner));
  });

  router.put('/uma/rules/:id', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    ctx.body = described(await replaceRule(services, owner, ctx.params.id!, jsonBody(ctx)), await names(owner));
  });

  router.delete('/uma/rules/:id', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    await deleteRule(services, owner, ctx.params.id!);
    ctx.status = 204;
  });

  router.get('/uma/decisions/:id/explain', ownerApi, async (ctx) => {
    const owner = ownerOf(ctx);
    const explanation = await explainDecision(services, ctx.params.id!, owner);
    if (!explanation) throw notFound('you have no decision with this id');
    const e = explanation;
    ctx.body = {
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
  });
}

/** The owner who granted the caller's token (the `ownerApi` gate let it in: scope sharing_rules, for this server). */
function ownerOf(ctx: Context): string {
  return grantingOwner(bearerCaller(ctx));
}

function jsonBody(ctx: Context): unknown {
  if (!ctx.is('application/json')) throw invalidRequest('the request body must be application/json');
  return ctx.request.body;
}
