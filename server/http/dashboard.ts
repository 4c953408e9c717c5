import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import type { SessionDocument as Session } from '../store/repositories/sessions.js';
import { explainDecision } from '../uma/sharing/explain.js';
import { accessHistory } from '../uma/sharing/history.js';
import { validateParty } from '../uma/sharing/party.js';
import { preview } from '../uma/sharing/preview.js';
import { decideRequest, pendingRequests, type RequestDecision } from '../uma/sharing/requests.js';
import { activeRpts, revokeRpt } from '../uma/sharing/rpts.js';
import { addRule, deleteRule } from '../uma/sharing/rules.js';
import { clientIdsOf, decisionPage, doneMessage, sharingPage, type SharingExtras } from '../views/sharing.js';
import { invalidRequest, notFound, type ProtocolError } from '../protocol/errors.js';
import { readParams, requireParam } from '../protocol/params.js';
import { clientNames } from './client-names.js';
import { renderErrorPage, renderPage } from './pages.js';
import { readPreviewForm, readRuleForm, ruleFromForm } from './rule-form.js';
import { refusalOf, signedInAction, signedInPage } from './signed-in.js';

const DECISIONS: readonly RequestDecision[] = ['once', 'always', 'deny'];

/**
 * The patient's sharing dashboard under /account/sharing: rules in plain language (add, delete),
 * a "who can see what" preview, pending access requests (approve once, approve always, deny),
 * live RPTs (revoke), and the access history with an explanation of each decision. Every POST
 * carries the session's CSRF token; success redirects (303) back to the page, and a refusal (bad
 * input, unknown id) shows the page again with the error and its status.
 */
export function dashboardRoutes(router: Router, services: Services): void {
  const { sessions } = services;
  const refused = (ctx: Context, session: Session, err: ProtocolError) => showDashboard(ctx, services, session, { error: messageOf(err) }, err.status);
  const action = (run: (ctx: Context, services: Services, session: Session, form: Record<string, unknown>) => Promise<string | undefined>) =>
    signedInAction(sessions, async (ctx, session, form) => {
      const done = await run(ctx, services, session, form);
      return done === undefined ? undefined : `/account/sharing?done=${done}`;
    }, refused);

  router.get('/account/sharing', signedInPage(sessions, (ctx, session) => showDashboard(ctx, services, session, { done: doneMessage(ctx.query.done) })));
  router.post('/account/sharing/rules', action(postRule));
  router.post('/account/sharing/rules/delete', action(postRuleDeletion));
  router.post('/account/sharing/preview', action(postPreview));
  router.post('/account/sharing/requests', action(postRequestDecision));
  router.post('/account/sharing/rpts/revoke', action(postRptRevocation));
  router.get('/account/sharing/decisions/:id', signedInPage(sessions, (ctx, session) => showDecision(ctx, services, session)));
}

const messageOf = (err: ProtocolError) => err.description ?? err.code;

/** Renders the dashboard with everything the owner has now, and what this rendering adds. */
async function showDashboard(ctx: Context, services: Services, session: Session, extras: SharingExtras = {}, status = 200) {
  const owner = session.accountId;
  const [account, rules, resources, requests, rpts, history] = await Promise.all([
    services.accounts.byId(owner),
    services.sharingRules.ofOwner(owner),
    services.resources.ofOwner(owner),
    pendingRequests(services, owner),
    activeRpts(services, owner),
    accessHistory(services, owner),
  ]);
  const names = await clientNames(services.clients, clientIdsOf({ requests, rpts, history }));
  const data = { email: account?.email, csrf: session.csrf, rules, resources, requests, rpts, history, clientNames: names };
  renderPage(ctx, services.views, 'sharing', 'Sharing and access', sharingPage(data, extras), status);
}

/** Adds a rule from the form; a refused rule shows the form again as it was filled in. */
async function postRule(ctx: Context, services: Services, session: Session, form: Record<string, unknown>) {
  const ruleForm = readRuleForm(form);
  try {
    await addRule(services, session.accountId, ruleFromForm(ruleForm));
  } catch (err) {
    const refusal = refusalOf(err);
    await showDashboard(ctx, services, session, { error: messageOf(refusal), ruleForm }, refusal.status);
    return undefined;
  }
  return 'rule-added';
}

async function postRuleDeletion(_ctx: Context, services: Services, session: Session, form: Record<string, unknown>) {
  await deleteRule(services, session.accountId, requireParam(readParams(form, ['rule_id'] as const), 'rule_id'));
  return 'rule-deleted';
}

/** Shows the preview's answer on the page (nothing changes, so no redirect), or the form again with the error. */
async function postPreview(ctx: Context, services: Services, session: Session, form: Record<string, unknown>) {
  const { previewForm, party } = readPreviewForm(form);
  try {
    await showDashboard(ctx, services, session, { preview: await preview(services, session.accountId, validateParty(party)), previewForm });
  } catch (err) {
    const refusal = refusalOf(err);
    await showDashboard(ctx, services, session, { error: messageOf(refusal), previewForm }, refusal.status);
  }
  return undefined;
}

async function postRequestDecision(_ctx: Context, services: Services, session: Session, form: Record<string, unknown>) {
  const params = readParams(form, ['request_id', 'decision'] as const);
  const decision = requireParam(params, 'decision') as RequestDecision;
  if (!DECISIONS.includes(decision)) throw invalidRequest('decision must be once, always or deny');
  await decideRequest(services, session.accountId, requireParam(params, 'request_id'), decision);
  return `request-${decision}`;
}

async function postRptRevocation(_ctx: Context, services: Services, session: Session, form: Record<string, unknown>) {
  await revokeRpt(services, session.accountId, requireParam(readParams(form, ['jti'] as const), 'jti'));
  return 'rpt-revoked';
}

/** "Why?": one decision of the owner's, explained; anyone else's is unknown (404). */
async function showDecision(ctx: Context, services: Services, session: Session) {
  const explanation = await explainDecision(services, ctx.params.id!, session.accountId);
  if (!explanation) return renderErrorPage(ctx, services.views, notFound('you have no decision with this id'));
  renderPage(ctx, services.views, 'sharing-decision', 'Why this decision', decisionPage(explanation));
}
