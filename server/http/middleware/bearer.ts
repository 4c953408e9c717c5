import type { Context, Middleware } from 'koa';
import type { TokenService } from '../../oauth/token-service.js';
import type { DecisionLog } from '../../policy/decision-log.js';
import type { AccessOutput, BearerApi } from '../../policy/entrypoints.js';
import { bearerToken } from '../../protocol/bearer.js';
import { insufficientScope, invalidToken, type ProtocolError } from '../../protocol/errors.js';
import { bearerAccessInput } from '../access-input.js';

export interface BearerDeps {
  config: { issuer: string };
  tokenService: Pick<TokenService, 'verifyAccessToken'>;
  decisions: Pick<DecisionLog, 'decide'>;
}

/** Who called a bearer API: what the verified access token says, once the access policy let it in. */
export interface BearerCaller {
  /** The person the token speaks for; absent for a client acting for itself. */
  sub: string | undefined;
  clientId: string;
  scopes: string[];
}

const STATE_KEY = 'bearer';

/**
 * The gate of one of Assent's own bearer APIs, declared on each of its routes: the answer is
 * no-store; the access token (RFC 6750 §2.1) must verify (signature, expiry, revocation), and the
 * access policy decides whether it may call `api` (a recorded decision). A refusal is RFC 6750
 * §3.1's invalid_token (401) or insufficient_scope (403), with its WWW-Authenticate challenge;
 * otherwise the caller is on the context for the handler (`bearerCaller(ctx)`).
 */
export function requireBearer(deps: BearerDeps, api: BearerApi): Middleware {
  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.state[STATE_KEY] = await admit(deps, api, bearerToken(ctx.get('Authorization')));
    await next();
  };
}

/** The caller `requireBearer` let in; a route that reads it without declaring the gate is a bug. */
export function bearerCaller(ctx: Context): BearerCaller {
  const caller = ctx.state[STATE_KEY] as BearerCaller | undefined;
  if (!caller) throw new Error(`${ctx.path}: bearerCaller read on a route without requireBearer`);
  return caller;
}

/**
 * The person the caller's token speaks for, on an API whose access rule admits only tokens granted
 * by a person (uma_protection, sharing_rules).
 */
export function grantingOwner(caller: BearerCaller): string {
  if (!caller.sub) throw new Error('the access policy admitted a token without a subject where an owner must have granted it');
  return caller.sub;
}

async function admit(deps: BearerDeps, api: BearerApi, token: string): Promise<BearerCaller> {
  const claims = await deps.tokenService.verifyAccessToken(token);
  if (!claims) throw invalidToken();
  const { result } = await deps.decisions.decide('access', bearerAccessInput(api, claims, deps.config.issuer, new Date()));
  if (!result.allow) throw refusal(api, result);
  return { sub: typeof claims.sub === 'string' ? claims.sub : undefined, clientId: claims.client_id, scopes: claims.scope.split(' ') };
}

function refusal(api: BearerApi, result: Exclude<AccessOutput, { allow: true }>): ProtocolError {
  if (result.error === 'insufficient_scope') return insufficientScope(result.required_scope, result.reason);
  if (result.error === 'invalid_token') return invalidToken(result.reason);
  // login_required is the link rule's and invalid_request an API the bundle does not know: a
  // bundle that answers a bearer API so is broken, and the request fails closed (500).
  throw new Error(`access policy answered ${result.error} for the bearer API ${api}`);
}
