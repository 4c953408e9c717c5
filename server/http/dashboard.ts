import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { ClaimsOutput } from '../policy/entrypoints.js';
import type { SessionDocument as Session } from '../sessions/sessions.js';
import { explainDecision } from '../uma/sharing/explain.js';
import { accessHistory } from '../uma/sharing/history.js';
import { validateParty, type HypotheticalParty } from '../uma/sharing/party.js';
import { preview, type Preview } from '../uma/sharing/preview.js';
import { decideRequest, pendingRequests, type RequestDecision } from '../uma/sharing/requests.js';
import { activeRpts, revokeRpt } from '../uma/sharing/rpts.js';
import { addRule, deleteRule } from '../uma/sharing/rules.js';
import { byId, describeRule, partyLabel, plainDate, resourceLabel } from '../uma/sharing/sentences.js';
import { notFound, ProtocolError } from '../protocol/errors.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';
import { readParams, requireParam } from '../protocol/params.js';

const OUTCOMES: Record<ClaimsOutput['outcome'], string> = {
  grant: 'allowed',
  request_denied: 'denied',
  request_submitted: 'you were asked',
  need_info: 'asked who they are',
};

const ANSWERS = { yes: 'can see', no: 'blocked', ask: 'you would be asked' } as const;

const DONE: Record<string, string> = {
  'rule-added': 'The rule was added.',
  'rule-deleted': 'The rule was deleted.',
  'request-once': 'Approved once: they have access for 30 days.',
  'request-always': 'Approved: a sharing rule now allows this.',
  'request-deny': 'Denied: they will not get access.',
  'rpt-revoked': 'The access token was revoked.',
};

/** What the add-rule form said, to show it again with an error. */
interface RuleForm {
  effect?: string;
  grantee_type?: string;
  grantee?: string;
  resource?: string;
  scopes?: string[];
  more_scopes?: string;
  valid_until?: string;
  any_email?: boolean;
  note?: string;
}

interface PageExtras {
  error?: string;
  ruleForm?: RuleForm;
  preview?: Preview;
  previewForm?: Record<string, string | boolean | undefined>;
  done?: string;
}

/**
 * The patient's sharing dashboard under /account/sharing: rules in plain language (add, delete),
 * a "who can see what" preview, pending access requests (approve once, approve always, deny),
 * live RPTs (revoke), and the access history with an explanation of each decision. Every POST
 * carries the session's CSRF token; success redirects (303) back to the page.
 */
export function dashboardRoutes(router: Router, services: Services): void {
  const { views } = services;

  const clientNamer = () => {
    const cache = new Map<string, Promise<string>>();
    return (id: string) => {
      let name = cache.get(id);
      if (!name) {
        name = services.clients.byId(id).then((c) => c?.metadata.client_name ?? id);
        cache.set(id, name);
      }
      return name;
    };
  };

  const show = async (ctx: Context, session: Session, extras: PageExtras = {}, status = 200) => {
    const owner = session.accountId;
    const clientName = clientNamer();
    const [account, rules, resources, requests, rpts, history] = await Promise.all([
      services.accounts.byId(owner),
      services.sharingRules.ofOwner(owner),
      services.resources.ofOwner(owner),
      pendingRequests(services, owner),
      activeRpts(services, owner),
      accessHistory(services, owner),
    ]);
    const names = byId(resources);
    const form = extras.ruleForm ?? {};
    const chosen = form.resource ?? 'all';
    const types = [...new Set(resources.map((r) => r.type).filter((t): t is string => Boolean(t)))].sort();
    const resourceOptions = [
      { value: 'all', label: 'All your records' },
      ...types.map((t) => ({ value: `type:${t}`, label: `Every record of type ${t}` })),
      ...resources.map((r) => ({ value: `id:${r._id}`, label: `${resourceLabel(r._id, names)}${r.type && r.name ? ` (${r.type})` : ''}` })),
    ].map((o) => ({ ...o, selected: o.value === chosen }));
    const scopeOptions = [...new Set(resources.flatMap((r) => r.resource_scopes))].sort().map((name) => ({ name, checked: form.scopes?.includes(name) ?? false }));

    renderPage(ctx, views, 'sharing', 'Sharing and access', {
      email: account?.email,
      csrf: session.csrf,
      done: extras.done,
      error: extras.error,
      rules: rules.map((rule) => ({ id: rule.id, description: describeRule(rule, names), note: rule.note, deny: rule.effect === 'deny' })),
      resourceOptions,
      scopeOptions,
      form: {
        ...form,
        deny: form.effect === 'deny',
        domain: form.grantee_type === 'email_domain',
      },
      preview: extras.preview && {
        party: partyLabel(extras.preview.requesting_party),
        rows: extras.preview.resources.map((row) => ({
          name: row.name,
          type: row.name !== row.type ? row.type : undefined,
          cells: row.scopes.map((cell) => ({
            scope: cell.scope,
            answer: ANSWERS[cell.answer],
            yes: cell.answer === 'yes',
            no: cell.answer === 'no',
            reasons: cell.because.map((b) => b.description),
          })),
        })),
      },
      previewForm: extras.previewForm ?? {},
      requests: await Promise.all(
        requests.map(async (r) => ({
          id: r._id,
          party: partyLabel(r.requestingParty),
          client: await clientName(r.clientId),
          since: plainDate(r.createdAt),
          asked: r.permissions.map((p) => ({ name: resourceLabel(p.resource_id, names), scopes: p.resource_scopes.join(', ') })),
        })),
      ),
      rpts: await Promise.all(
        rpts.map(async (t) => ({ jti: t.jti, client: await clientName(t.clientId), issued: plainDate(t.issuedAt), expires: plainDate(t.expiresAt) })),
      ),
      history: await Promise.all(
        history.map(async (h) => ({
          id: h.id,
          when: plainDate(h.decidedAt),
          party: h.party,
          client: await clientName(h.clientId),
          asked: h.asked,
          outcome: OUTCOMES[h.outcome],
          allowed: h.outcome === 'grant',
        })),
      ),
    }, status);
  };

  /**
   * A POSTed dashboard action for the signed-in owner, CSRF-checked. It returns a DONE key to
   * redirect with, or renders the page itself; a ProtocolError it throws (bad input, unknown id)
   * is shown on the page with its status.
   */
  const action =
    (run: (ctx: Context, session: Session, form: Record<string, unknown>) => Promise<string | undefined>) => async (ctx: Context) => {
      const session = await services.sessions.current(ctx.cookies);
      if (!session) return ctx.redirect('/login');
      const form = formOf(ctx);
      checkCsrf(form.csrf, session.csrf);
      try {
        const done = await run(ctx, session, form);
        if (done === undefined) return;
        ctx.status = 303;
        ctx.redirect(`/account/sharing?done=${done}`);
      } catch (err) {
        if (!(err instanceof ProtocolError) || err.status >= 500) throw err;
        await show(ctx, session, { error: err.description ?? err.code }, err.status);
      }
    };

  router.get('/account/sharing', async (ctx) => {
    const session = await services.sessions.current(ctx.cookies);
    if (!session) return ctx.redirect('/login');
    const done = typeof ctx.query.done === 'string' ? DONE[ctx.query.done] : undefined;
    await show(ctx, session, done ? { done } : {});
  });

  router.post('/account/sharing/rules', action(async (ctx, session, form) => {
    const ruleForm = readRuleForm(form);
    try {
      await addRule(services, session.accountId, ruleFromForm(ruleForm));
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.status >= 500) throw err;
      await show(ctx, session, { error: err.description ?? err.code, ruleForm }, err.status);
      return undefined;
    }
    return 'rule-added';
  }));

  router.post('/account/sharing/rules/delete', action(async (_ctx, session, form) => {
    await deleteRule(services, session.accountId, requireParam(readParams(form, ['rule_id'] as const), 'rule_id'));
    return 'rule-deleted';
  }));

  router.post('/account/sharing/preview', action(async (ctx, session, form) => {
    const params = readParams(form, ['email', 'iss', 'sub', 'claim_name', 'claim_value', 'unverified'] as const);
    const previewForm = { ...params, unverified: params.unverified !== undefined };
    const party: HypotheticalParty = {
      ...(params.email ? { email: params.email.trim() } : {}),
      ...(params.iss ? { iss: params.iss.trim() } : {}),
      ...(params.sub ? { sub: params.sub.trim() } : {}),
      ...(params.unverified ? { email_verified: false } : {}),
      ...(params.claim_name && params.claim_value ? { claims: { [params.claim_name.trim()]: params.claim_value } } : {}),
    };
    try {
      await show(ctx, session, { preview: await preview(services, session.accountId, validateParty(party)), previewForm });
    } catch (err) {
      if (!(err instanceof ProtocolError) || err.status >= 500) throw err;
      await show(ctx, session, { error: err.description ?? err.code, previewForm }, err.status);
    }
    return undefined;
  }));

  router.post('/account/sharing/requests', action(async (_ctx, session, form) => {
    const params = readParams(form, ['request_id', 'decision'] as const);
    const decision = requireParam(params, 'decision');
    if (!['once', 'always', 'deny'].includes(decision)) throw new ProtocolError(400, 'invalid_request', 'decision must be once, always or deny');
    await decideRequest(services, session.accountId, requireParam(params, 'request_id'), decision as RequestDecision);
    return `request-${decision}`;
  }));

  router.post('/account/sharing/rpts/revoke', action(async (_ctx, session, form) => {
    await revokeRpt(services, session.accountId, requireParam(readParams(form, ['jti'] as const), 'jti'));
    return 'rpt-revoked';
  }));

  router.get('/account/sharing/decisions/:id', async (ctx) => {
    const session = await services.sessions.current(ctx.cookies);
    if (!session) return ctx.redirect('/login');
    const explanation = await explainDecision(services, ctx.params.id!, session.accountId);
    if (!explanation) return renderErrorPage(ctx, views, notFound('you have no decision with this id'));
    renderPage(ctx, views, 'sharing-decision', 'Why this decision', {
      ...explanation,
      when: plainDate(explanation.decidedAt),
      decidedAt: explanation.decidedAt.toISOString(),
      outcomeLabel: OUTCOMES[explanation.outcome as ClaimsOutput['outcome']] ?? explanation.outcome,
      because: explanation.because.map((b) => ({ ...b, deleted: b.now === 'deleted', changed: b.now === 'changed' })),
    });
  });
}

function readRuleForm(form: Record<string, unknown>): RuleForm {
  const params = readParams(form, ['effect', 'grantee_type', 'grantee', 'resource', 'more_scopes', 'valid_until', 'any_email', 'note'] as const);
  const raw = form.scope;
  const scopes = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  return { ...params, any_email: params.any_email !== undefined, scopes };
}

/** The form's fields as a sharing rule body; validation (and its messages) is the service's. */
function ruleFromForm(form: RuleForm): Record<string, unknown> {
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
